// TaskEngine: the only way to change a task. Lifecycle rules (whitelist, INV-03) plus store
// transactions (INV-02: event, task update and audit commit together before transition()
// returns) plus checkpoints into working memory. Refusals follow lifecycle.md §2a: input
// errors write nothing; guard violations change nothing but commit one guard.violation audit
// event in their own transaction.
//
// Thread-safe (the store serialises writers; several engines and processes may share one
// database).
#pragma once

#include "aadap/core/settings.hpp"
#include "aadap/memory/working_memory.hpp"
#include "aadap/store/store.hpp"

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aadap::engine {

struct NewTask {
  std::string title;  // 1..512 characters
  std::string description;
  std::string environment = "SANDBOX";  // SANDBOX | PRODUCTION, fixed for the task's life
  int priority = 0;                     // 0..10
  std::optional<std::string> platform;  // databricks | fabric | local
  std::optional<std::string> language;  // sql | python | scala
  std::string created_by;
  std::optional<std::int64_t> token_budget;  // default AADAP_TOKEN_BUDGET_DEFAULT
  std::string metadata_json = "{}";          // a JSON object
};

struct TransitionRequest {
  std::string task_id;
  std::string to_state;
  std::string actor;
  std::string reason;
  std::string metadata_json = "{}";
  std::optional<std::int64_t> expected_version;
};

struct VerifyReport {
  bool ok = true;
  std::string replayed_state;         // the state the events lead to
  std::vector<std::string> problems;  // each break found, in order
};

class TaskEngine {
 public:
  /// `checkpoints` is optional: without it no checkpoints are written.
  TaskEngine(std::shared_ptr<store::Store> store, const Settings& settings,
             std::shared_ptr<memory::WorkingMemory> checkpoints = nullptr);

  store::TaskRecord create_task(const NewTask& task, std::string_view actor,
                                std::string_view correlation_id);
  store::TaskRecord transition(const TransitionRequest& request, std::string_view correlation_id);
  /// Many transitions (usually of different tasks) in one commit, all or nothing: any refusal
  /// rolls back every one of them (a guard violation is then audited once).
  std::vector<store::TaskRecord> transition_many(std::span<const TransitionRequest> requests,
                                                 std::string_view correlation_id);
  /// NotFoundError for an unknown id.
  store::TaskRecord get_task(std::string_view task_id);
  /// Tasks matching the query. `groups` (terminal, failed, awaiting_human, working, active)
  /// add their states to query.states. Validates everything: unknown states, groups,
  /// environments, platforms, priorities outside 0..10, timestamps not in ISO-8601 UTC,
  /// order_by other than created_at/updated_at/priority, limit outside 1..1000, offset < 0.
  std::vector<store::TaskRecord> list_tasks(store::TaskQuery query,
                                            const std::vector<std::string>& groups = {});
  std::vector<store::TransitionRecord> history(std::string_view task_id);
  /// Folds the events from SUBMITTED; StoreError naming the first break of the chain.
  std::string replay(std::string_view task_id);
  /// Every break of the chain and any mismatch with tasks.current_state.
  VerifyReport verify(std::string_view task_id);
  std::vector<store::AuditRecord> audit(std::string_view task_id);
  /// The newest checkpoint of a task as JSON ({task_id, state, seq, metadata, created_at}):
  /// from working memory when it is current, else rebuilt from the store and re-cached.
  std::string checkpoint(std::string_view task_id);

 private:
  struct Applied {
    store::TaskRecord task;
    std::int64_t seq;
    std::string metadata_json;
    std::string from_state;
  };
  struct GuardViolation {
    std::string task_id;
    std::string actor;
    std::string action;
    nlohmann::json details;
  };
  Applied apply(store::StoreTransaction& tx, const TransitionRequest& request,
                const nlohmann::json& metadata, std::string_view correlation_id,
                std::optional<GuardViolation>& violation);
  void record_guard_violation(std::string_view task_id, std::string_view actor,
                              std::string_view action, const nlohmann::json& details,
                              std::string_view correlation_id);
  void write_checkpoint(const store::TaskRecord& task, std::int64_t seq,
                        const std::string& metadata_json);

  std::shared_ptr<store::Store> store_;
  std::shared_ptr<memory::WorkingMemory> checkpoints_;
  std::int64_t default_token_budget_;
};

}  // namespace aadap::engine
