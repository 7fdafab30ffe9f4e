// Executions, token charges (INV-04), platform resources, task logs and retention.
#include "aadap/core/ids.hpp"
#include "aadap/engine/task_engine.hpp"
#include "engine_support.hpp"

#include <array>
#include <chrono>
#include <cmath>

namespace aadap::engine {

namespace {

using support::correlation;
using support::refuse;

void write_audit(store::StoreTransaction& tx, std::optional<std::string> task_id,
                 std::string_view event_type, std::string_view actor, std::string action,
                 std::string_view resource_type, const std::string& resource_id,
                 const nlohmann::json& details, std::string_view correlation_id) {
  tx.insert_audit(store::AuditRecord{new_uuid7(), correlation(correlation_id), std::move(task_id),
                                     std::string(event_type), std::string(actor), std::move(action),
                                     std::string(resource_type), resource_id, details.dump(),
                                     utc_now_iso()});
}

}  // namespace

store::ExecutionRecord TaskEngine::start_execution(const ExecutionStart& start,
                                                   std::string_view actor,
                                                   std::string_view correlation_id) {
  if (start.platform) {
    support::check_one_of(*start.platform,
                          std::array<std::string_view, 3>{"databricks", "fabric", "local"},
                          "platform");
  }
  const auto metadata = support::parse_object(start.metadata_json, "execution metadata");
  if (actor.empty()) throw InvalidArgumentError("starting an execution needs an actor");
  return guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    const auto task = support::lock_task(tx, start.task_id);
    if (start.code_artifact_id) {
      const auto code = tx.find_artifact(*start.code_artifact_id);
      if (!code || code->task_id != task.id) {
        support::not_found("artifact of this task", *start.code_artifact_id);
      }
    }
    store::ExecutionRecord execution;
    execution.id = new_uuid7();
    execution.task_id = task.id;
    execution.environment = task.environment;  // INV-05: the task's, never the caller's
    execution.platform = start.platform ? start.platform : task.platform;
    execution.status = "RUNNING";
    execution.code_artifact_id = start.code_artifact_id;
    execution.metadata_json = metadata.dump();
    execution.created_at = utc_now_iso();
    execution.started_at = execution.created_at;
    tx.insert_execution(execution);
    write_audit(
        tx, task.id, "execution.started", actor,
        "start on " + execution.platform.value_or("unknown platform"), "execution", execution.id,
        {{"environment", execution.environment},
         {"platform", execution.platform ? nlohmann::json(*execution.platform) : nlohmann::json()},
         {"code_artifact_id", execution.code_artifact_id
                                  ? nlohmann::json(*execution.code_artifact_id)
                                  : nlohmann::json()}},
        correlation_id);
    return execution;
  });
}

store::ExecutionRecord TaskEngine::finish_execution(const ExecutionFinish& finish,
                                                    std::string_view actor,
                                                    std::string_view correlation_id) {
  support::check_one_of(finish.status,
                        std::array<std::string_view, 3>{"SUCCESS", "FAILED", "CANCELLED"},
                        "final execution status");
  const auto extra = support::parse_object(finish.metadata_json, "execution metadata");
  if (actor.empty()) throw InvalidArgumentError("finishing an execution needs an actor");
  return guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    auto execution = tx.find_execution(finish.execution_id);
    if (!execution) support::not_found("execution", finish.execution_id);
    if (execution->status != "RUNNING" && execution->status != "PENDING") {
      throw InvalidArgumentError("execution " + execution->id + " already finished with status " +
                                 execution->status);
    }
    auto metadata = support::parse_object(execution->metadata_json, "execution metadata");
    metadata.update(extra);
    const auto now = std::chrono::system_clock::now();
    execution->status = finish.status;
    execution->output = finish.output;
    execution->error = finish.error;
    execution->metadata_json = metadata.dump();
    execution->completed_at = utc_iso(now);
    if (const auto started = parse_utc_iso(execution->started_at.value_or(""))) {
      execution->duration_ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(now - *started).count();
    }
    if (!tx.finish_execution(*execution)) {
      throw ConcurrencyError("execution " + execution->id + " was finished by someone else");
    }
    write_audit(
        tx, execution->task_id, "execution.finished", actor, "finish " + finish.status, "execution",
        execution->id,
        {{"status", finish.status},
         {"duration_ms",
          execution->duration_ms ? nlohmann::json(*execution->duration_ms) : nlohmann::json()},
         {"error", finish.error ? nlohmann::json(finish.error->substr(0, 500)) : nlohmann::json()}},
        correlation_id);
    return std::move(*execution);
  });
}

std::vector<store::ExecutionRecord> TaskEngine::executions(std::string_view task_id) {
  support::find_task(*store_, task_id);
  return store_->executions(task_id);
}

store::CostRecord TaskEngine::consume_tokens(const TokenCharge& charge, std::string_view actor,
                                             std::string_view correlation_id) {
  if (charge.tokens_in < 0 || charge.tokens_out < 0 || charge.tokens_in + charge.tokens_out < 1) {
    throw InvalidArgumentError(
        "a token charge is at least 1 token, with tokens_in and "
        "tokens_out >= 0 (got " +
        std::to_string(charge.tokens_in) + " in, " + std::to_string(charge.tokens_out) + " out)");
  }
  if (actor.empty()) throw InvalidArgumentError("a token charge needs an actor");
  const std::int64_t tokens = charge.tokens_in + charge.tokens_out;
  return guarded(correlation_id, [&](store::StoreTransaction& tx, auto& violation) {
    const auto task = support::lock_task(tx, charge.task_id);
    if (!tx.add_tokens(task.id, tokens)) {
      refuse<TokenBudgetExceededError>(violation,
                                       {task.id,
                                        std::string(actor),
                                        "consume " + std::to_string(tokens) + " tokens",
                                        {{"token_budget", task.token_budget},
                                         {"tokens_used", task.tokens_used},
                                         {"requested", tokens}}},
                                       "token_budget",
                                       "charging " + std::to_string(tokens) +
                                           " tokens would exceed the budget of task " + task.id +
                                           " (" + std::to_string(task.tokens_used) + " of " +
                                           std::to_string(task.token_budget) + " used)");
    }
    store::CostRecord cost;
    cost.id = new_uuid7();
    cost.task_id = task.id;
    cost.agent_type = charge.agent_type;
    cost.tokens_in = charge.tokens_in;
    cost.tokens_out = charge.tokens_out;
    cost.cost_usd = static_cast<double>(charge.tokens_in) / 1000.0 * price_input_per_1k_ +
                    static_cast<double>(charge.tokens_out) / 1000.0 * price_output_per_1k_;
    cost.created_at = utc_now_iso();
    tx.insert_cost(cost);
    write_audit(tx, task.id, "tokens.consumed", actor,
                "consume " + std::to_string(tokens) + " tokens", "cost_record", cost.id,
                {{"tokens_in", cost.tokens_in},
                 {"tokens_out", cost.tokens_out},
                 {"cost_usd", cost.cost_usd},
                 {"tokens_used", task.tokens_used + tokens},
                 {"token_budget", task.token_budget}},
                correlation_id);
    return cost;
  });
}

std::vector<store::CostRecord> TaskEngine::costs(std::string_view task_id) {
  support::find_task(*store_, task_id);
  return store_->costs(task_id);
}

store::ResourceRecord TaskEngine::record_resource(const store::ResourceRecord& spec) {
  support::check_one_of(spec.platform, std::array<std::string_view, 2>{"databricks", "fabric"},
                        "resource platform");
  support::check_one_of(
      spec.resource_type,
      std::array<std::string_view, 5>{"pipeline", "job", "table", "notebook", "shortcut"},
      "resource type");
  support::check_one_of(
      spec.status,
      std::array<std::string_view, 5>{"CREATED", "QUEUED", "RUNNING", "COMPLETED", "FAILED"},
      "resource status");
  if (spec.platform_resource_id.empty()) {
    throw InvalidArgumentError("a platform resource needs its platform_resource_id");
  }
  store::ResourceRecord resource = spec;
  resource.definition_json =
      support::parse_object(spec.definition_json, "resource definition").dump();
  resource.metadata_json = support::parse_object(spec.metadata_json, "resource metadata").dump();
  resource.id = new_uuid7();
  resource.created_at = resource.updated_at = utc_now_iso();
  return guarded("", [&](store::StoreTransaction& tx, auto&) {
    support::lock_task(tx, spec.task_id);
    return tx.upsert_resource(resource);
  });
}

std::vector<store::ResourceRecord> TaskEngine::resources(std::string_view task_id) {
  support::find_task(*store_, task_id);
  return store_->resources(task_id);
}

store::TaskLogRecord TaskEngine::log(std::string_view task_id, std::string_view level,
                                     std::string_view message,
                                     const std::optional<std::string>& source,
                                     std::string_view correlation_id) {
  support::check_one_of(
      level, std::array<std::string_view, 5>{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"},
      "log level");
  if (message.empty()) throw InvalidArgumentError("a task log entry needs a message");
  store::TaskLogRecord entry{new_uuid7(),          std::string(task_id),        std::string(level),
                             std::string(message), correlation(correlation_id), source,
                             utc_now_iso()};
  guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    support::lock_task(tx, task_id);
    tx.insert_log(entry);
    return true;
  });
  return entry;
}

std::vector<store::TaskLogRecord> TaskEngine::logs(std::string_view task_id) {
  support::find_task(*store_, task_id);
  return store_->logs(task_id);
}

std::vector<std::string> TaskEngine::prune(std::string_view cutoff, std::string_view actor,
                                           std::string_view correlation_id) {
  if (!parse_utc_iso(cutoff)) {
    throw InvalidArgumentError(
        "older_than is an ISO-8601 UTC time such as "
        "2026-11-25T21:40:04Z (got '" +
        std::string(cutoff.substr(0, 40)) + "')");
  }
  if (actor.empty()) throw InvalidArgumentError("prune needs an actor");
  const auto candidates = guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    return tx.prunable_tasks(cutoff);
  });
  std::vector<std::string> pruned;
  for (const auto& id : candidates) {
    // One task per transaction: a long prune never holds the store for long.
    const bool removed = guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
      const auto task = tx.lock_task(id);
      if (!task || task->updated_at >= cutoff ||
          (task->current_state != "COMPLETED" && task->current_state != "CANCELLED")) {
        return false;  // changed or gone since the scan
      }
      tx.delete_task(id);
      write_audit(tx, std::nullopt, "task.pruned", actor, "prune task", "task", id,
                  {{"task_id", id},
                   {"title", task->title},
                   {"final_state", task->current_state},
                   {"updated_at", task->updated_at},
                   {"older_than", std::string(cutoff)}},
                  correlation_id);
      return true;
    });
    if (removed) pruned.push_back(id);
  }
  return pruned;
}

}  // namespace aadap::engine
