#include "aadap/engine/usage_charging.hpp"

#include "aadap/core/errors.hpp"

namespace aadap::engine {

void TaskUsageSink::require_budget(const std::string& task_id, std::int64_t tokens,
                                   std::string_view) {
  const auto task = engine_.get_task(task_id);
  if (task.tokens_used + tokens > task.token_budget) {
    throw TokenBudgetExceededError("task " + task.id + " has " +
                                       std::to_string(task.token_budget - task.tokens_used) +
                                       " tokens of budget left; the prompt alone takes at least " +
                                       std::to_string(tokens) + ": the call was not sent",
                                   {{"task_id", task.id},
                                    {"token_budget", task.token_budget},
                                    {"tokens_used", task.tokens_used},
                                    {"requested", tokens}});
  }
}

void TaskUsageSink::charge(const LlmUsage& usage) {
  if (usage.prompt_tokens + usage.completion_tokens < 1) return;  // nothing was used
  engine_.consume_tokens(
      TokenCharge{usage.task_id, usage.prompt_tokens, usage.completion_tokens,
                  std::string(usage.estimated ? "llm (estimated usage)" : "llm")},
      "llm:" + (usage.model.empty() ? std::string("unknown model") : usage.model),
      usage.correlation_id);
}

}  // namespace aadap::engine
