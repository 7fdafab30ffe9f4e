#include "aadap/lifecycle/guards.hpp"

#include "aadap/core/errors.hpp"

#include <string>

namespace aadap::lifecycle {

bool is_loop_exempt(TaskState state) noexcept {
  return is_failed(state) || state == TaskState::CANCELLED;
}

void check_entry_limit(TaskState to, int previous_entries) {
  if (is_loop_exempt(to) || previous_entries < kMaxEntriesPerState) return;
  const std::string name(state_name(to));
  const nlohmann::json details = {{"guard", to == TaskState::IN_DEVELOPMENT ? "retry" : "loop"},
                                  {"state", name},
                                  {"entries", previous_entries},
                                  {"limit", kMaxEntriesPerState}};
  if (to == TaskState::IN_DEVELOPMENT) {
    throw RetryLimitExceededError("retry limit reached: the task has been in development " +
                                      std::to_string(previous_entries) +
                                      " times (the first attempt and " +
                                      std::to_string(kMaxEntriesPerState - 1) +
                                      " reworks are allowed); cancel it or create a new task",
                                  details);
  }
  throw LoopDetectedError("loop detected: the task has entered " + name + " " +
                              std::to_string(previous_entries) + " times, the limit is " +
                              std::to_string(kMaxEntriesPerState) + " (INV-03)",
                          details);
}

}  // namespace aadap::lifecycle
