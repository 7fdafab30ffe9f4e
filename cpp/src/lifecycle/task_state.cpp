#include "aadap/lifecycle/task_state.hpp"

#include "aadap/core/errors.hpp"

#include <string>

namespace aadap::lifecycle {

namespace {

using enum TaskState;

constexpr std::array<std::string_view, kStateCount> kNames{
    "SUBMITTED",         "PARSING",           "PARSED",
    "PARSE_FAILED",      "PLANNING",          "PLANNED",
    "AGENT_ASSIGNMENT",  "AGENT_ASSIGNED",    "IN_DEVELOPMENT",
    "CODE_GENERATED",    "DEV_FAILED",        "IN_VALIDATION",
    "VALIDATION_PASSED", "VALIDATION_FAILED", "OPTIMIZATION_PENDING",
    "IN_OPTIMIZATION",   "OPTIMIZED",         "APPROVAL_PENDING",
    "IN_REVIEW",         "APPROVED",          "REJECTED",
    "DEPLOYING",         "DEPLOYED",          "COMPLETED",
    "CANCELLED",
};

}  // namespace

const std::array<TaskState, kStateCount>& all_states() noexcept {
  static constexpr auto kStates = [] {
    std::array<TaskState, kStateCount> out{};
    for (std::size_t i = 0; i < kStateCount; ++i) out[i] = static_cast<TaskState>(i);
    return out;
  }();
  return kStates;
}

std::string_view state_name(TaskState state) noexcept {
  return kNames[static_cast<std::size_t>(state)];
}

TaskState parse_state(std::string_view name) {
  for (std::size_t i = 0; i < kStateCount; ++i) {
    if (kNames[i] == name) return static_cast<TaskState>(i);
  }
  const std::string shown(name.substr(0, 80));
  throw InvalidStateError("unknown task state '" + shown +
                              "': states are upper-case names such as SUBMITTED, PARSING, "
                              "IN_REVIEW (see aadap.TaskState)",
                          {{"state", shown}});
}

bool is_terminal(TaskState state) noexcept {
  return state == COMPLETED || state == CANCELLED;
}

bool is_failed(TaskState state) noexcept {
  return state == PARSE_FAILED || state == DEV_FAILED || state == VALIDATION_FAILED ||
         state == REJECTED;
}

bool is_awaiting_human(TaskState state) noexcept {
  return state == APPROVAL_PENDING || state == IN_REVIEW;
}

bool is_working(TaskState state) noexcept {
  return state == PARSING || state == PLANNING || state == AGENT_ASSIGNMENT ||
         state == IN_DEVELOPMENT || state == IN_VALIDATION || state == IN_OPTIMIZATION ||
         state == DEPLOYING;
}

std::string_view phase(TaskState state) noexcept {
  const int n = ordinal(state);
  if (n <= 6) return "Planning";
  if (n <= 11) return "Development";
  if (n <= 14) return "Validation";
  if (n <= 17) return "Optimization";
  if (n <= 21) return "Approval";
  return "Deployment";
}

}  // namespace aadap::lifecycle
