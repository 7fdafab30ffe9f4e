// The engine's side of the usage sink (core/usage_sink.hpp): an LLM call made for a task is
// charged to it as a token charge (INV-04: refused when it would pass the budget) with a cost
// record and an audit event, and a call is refused before it is sent when the task's remaining
// budget cannot cover even the tokens its prompt certainly takes.
//
// Thread-safe (as TaskEngine). The engine must outlive the sink.
#pragma once

#include "aadap/core/usage_sink.hpp"
#include "aadap/engine/task_engine.hpp"

namespace aadap::engine {

class TaskUsageSink final : public UsageSink {
 public:
  explicit TaskUsageSink(TaskEngine& engine) : engine_(engine) {}
  void require_budget(const std::string& task_id, std::int64_t tokens,
                      std::string_view correlation_id) override;
  void charge(const LlmUsage& usage) override;

 private:
  TaskEngine& engine_;
};

}  // namespace aadap::engine
