// How a platform client charges the token usage of an LLM call to a task (platforms.md §7,
// INV-04) without knowing the engine: the engine implements this interface, clients accept it
// optionally and call it only for calls made for a task.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aadap {

struct LlmUsage {
  std::string task_id;
  std::int64_t prompt_tokens = 0;
  std::int64_t completion_tokens = 0;
  bool estimated = false;  // the service reported none: a conservative local estimate
  std::string model;
  std::string correlation_id;
};

/// Implementations are thread-safe.
class UsageSink {
 public:
  virtual ~UsageSink() = default;
  /// Throws TokenBudgetExceededError when `tokens` more would exceed the task's budget:
  /// asked before a call is sent, with a number of tokens the call will certainly use.
  virtual void require_budget(const std::string& task_id, std::int64_t tokens,
                              std::string_view correlation_id) = 0;
  /// Charges a finished call to its task (tokens and a cost record).
  virtual void charge(const LlmUsage& usage) = 0;
};

}  // namespace aadap
