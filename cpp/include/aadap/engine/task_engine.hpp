// TaskEngine: the only way to change a task. Lifecycle rules (whitelist, INV-03) plus store
// transactions (INV-02: event, task update and audit commit together before transition()
// returns) plus checkpoints into working memory. Refusals follow lifecycle.md §2a: input
// errors write nothing; guard violations change nothing but commit one guard.violation audit
// event in their own transaction.
//
// Thread-safe (the store serialises writers; several engines and processes may share one
// database).
#pragma once

#include "aadap/core/errors.hpp"
#include "aadap/core/settings.hpp"
#include "aadap/lifecycle/task_state.hpp"
#include "aadap/memory/working_memory.hpp"
#include "aadap/store/store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aadap::engine {

/// A refused guard (lifecycle.md §2a): audited as `guard.violation` with these details.
struct GuardViolation {
  std::string task_id;
  std::string actor;
  std::string action;
  nlohmann::json details;  // guard, message, error and the values involved
};

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
  /// The code artifact the step is about: required for DEPLOYING (INV-01/07); for
  /// VALIDATION_PASSED it defaults to the task's newest code artifact.
  std::optional<std::string> artifact_id;
};

/// Artifact types that hold code: what validation and deployment look at.
inline constexpr std::string_view kCodeArtifactTypes[] = {"generated_code", "optimized_code"};

struct NewArtifact {
  std::string task_id;
  std::string artifact_type;
  std::string name;
  std::string content;
  std::optional<std::string> parent_id;  // an edit: a new version in the parent's lineage
  std::optional<std::string> edit_message;
  std::optional<std::string> storage_uri;
  std::string metadata_json = "{}";
};

struct ValidationResult {
  std::string artifact_id;  // the code that was validated
  bool passed = false;
  std::string risk_level = "NONE";
  std::string findings_json = "[]";  // [{gate, line, pattern, severity, description}, ...]
  std::string summary;
};

struct ApprovalRequestSpec {
  std::string task_id;
  std::string operation_type;  // read_only, write, destructive, schema_change, ... (any string)
  std::string requested_by;
  std::optional<std::string> artifact_id;  // the code being approved
  std::string risk_level = "NONE";
  std::string findings_json = "[]";
  /// {chosen_approach, alternatives_considered, decision_reason}: the caller's part of the
  /// DecisionExplanation (INV-09); the engine adds the rest.
  std::string explanation_json = "{}";
  std::optional<double> expires_in_seconds;  // default AADAP_APPROVAL_TIMEOUT_SECONDS
};

struct ExecutionStart {
  std::string task_id;
  std::optional<std::string> platform;
  std::optional<std::string> code_artifact_id;
  std::string metadata_json = "{}";
};

struct ExecutionFinish {
  std::string execution_id;
  std::string status;  // SUCCESS | FAILED | CANCELLED
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::string metadata_json = "{}";  // merged into the execution's metadata (platform ids)
};

struct TokenCharge {
  std::string task_id;
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  std::optional<std::string> agent_type;
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
  /// The store the engine writes to, for components that keep their data beside the tasks
  /// (the vector memory).
  const std::shared_ptr<store::Store>& store() const noexcept { return store_; }
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

  // Artifacts (artifacts.cpp): immutable; an edit is a new version of the parent's lineage.
  store::ArtifactRecord add_artifact(const NewArtifact& artifact, std::string_view actor,
                                     std::string_view correlation_id);
  /// Records a validation as a `validation_report` artifact whose metadata holds
  /// {artifact_id, artifact_hash, passed, risk_level}: what INV-07 checks.
  store::ArtifactRecord record_validation(const ValidationResult& result, std::string_view actor,
                                          std::string_view correlation_id);
  store::ArtifactRecord get_artifact(std::string_view artifact_id);
  std::vector<store::ArtifactRecord> artifacts(std::string_view task_id,
                                               const std::optional<std::string>& type);

  // Approvals (approvals.cpp), lifecycle.md §5.
  /// Writes the DecisionExplanation, the request and moves the task to APPROVAL_PENDING in one
  /// transaction; when no human is needed the request is auto-approved and the task carried
  /// on to APPROVED.
  store::ApprovalRecord request_approval(const ApprovalRequestSpec& spec,
                                         std::string_view correlation_id);
  store::ApprovalRecord start_review(std::string_view request_id, std::string_view reviewer,
                                     std::string_view correlation_id);
  /// Compare-and-set on PENDING; moves the task to APPROVED / REJECTED.
  store::ApprovalRecord decide(std::string_view request_id, bool approve,
                               std::string_view decided_by, std::string_view reason,
                               std::string_view correlation_id);
  /// Expires every PENDING request past its expires_at (task → REJECTED); returns them.
  std::vector<store::ApprovalRecord> expire_due(std::string_view correlation_id);
  /// The request, expiring it first when it is due.
  store::ApprovalRecord get_approval(std::string_view request_id, std::string_view correlation_id);
  /// Waits until the request is decided (by any process) or expires, or `timeout` passes;
  /// returns the request as it then stands (still PENDING after a timeout).
  store::ApprovalRecord wait_for_decision(std::string_view request_id,
                                          std::chrono::milliseconds timeout,
                                          std::string_view correlation_id);
  std::vector<store::ApprovalRecord> approvals(std::string_view task_id,
                                               const std::optional<std::string>& status,
                                               std::string_view correlation_id);

  // Executions, tokens, resources, logs, retention (operations.cpp).
  store::ExecutionRecord start_execution(const ExecutionStart& start, std::string_view actor,
                                         std::string_view correlation_id);
  store::ExecutionRecord finish_execution(const ExecutionFinish& finish, std::string_view actor,
                                          std::string_view correlation_id);
  std::vector<store::ExecutionRecord> executions(std::string_view task_id);
  /// INV-04: atomic; TokenBudgetExceededError (a guard violation) when the charge would pass
  /// the budget. Priced with AADAP_LLM_PRICE_INPUT/OUTPUT_PER_1K.
  store::CostRecord consume_tokens(const TokenCharge& charge, std::string_view actor,
                                   std::string_view correlation_id);
  std::vector<store::CostRecord> costs(std::string_view task_id);
  store::ResourceRecord record_resource(const store::ResourceRecord& resource);
  std::vector<store::ResourceRecord> resources(std::string_view task_id);
  store::TaskLogRecord log(std::string_view task_id, std::string_view level,
                           std::string_view message, const std::optional<std::string>& source,
                           std::string_view correlation_id);
  std::vector<store::TaskLogRecord> logs(std::string_view task_id);
  /// Removes terminal tasks last updated before `cutoff` (ISO-8601 UTC) with everything of
  /// theirs except their audit events; one `task.pruned` audit event each. Returns their ids.
  std::vector<std::string> prune(std::string_view cutoff, std::string_view actor,
                                 std::string_view correlation_id);

 private:
  struct Applied {
    store::TaskRecord task;
    std::int64_t seq;
    std::string metadata_json;
    std::string from_state;
  };
  /// Who is moving the task: approval states are entered only through the approval calls.
  enum class Route { transition_api, approvals };

  Applied apply(store::StoreTransaction& tx, const TransitionRequest& request,
                const nlohmann::json& metadata, std::string_view correlation_id,
                std::optional<GuardViolation>& violation, Route route = Route::transition_api);
  /// Whether entering `to` passes gates that read beyond the task row (artifacts,
  /// approvals): such a transition locks its task rather than reading it optimistically.
  static bool gated(lifecycle::TaskState to) noexcept;
  /// INV-07 for VALIDATION_PASSED and INV-01/07 for DEPLOYING; refusals are guard violations.
  void check_gates(store::StoreTransaction& tx, const store::TaskRecord& task,
                   lifecycle::TaskState to, const TransitionRequest& request,
                   const std::string& action, std::optional<GuardViolation>& violation);
  /// Runs `body(tx, violation)` in one transaction and commits; when it throws after filling
  /// `violation`, the violation is audited in a transaction of its own (§2a).
  template <class Body>
  auto guarded(std::string_view correlation_id, Body&& body);
  void record_guard_violation(const GuardViolation& violation, std::string_view correlation_id);
  /// After a commit: log the steps and write their checkpoints.
  void committed(std::vector<Applied>& steps, std::string_view correlation_id);
  void write_checkpoint(const store::TaskRecord& task, std::int64_t seq,
                        const std::string& metadata_json);
  /// Marks one due request EXPIRED and moves its task to REJECTED, in its own transaction;
  /// false when the request is not due (or not PENDING any more).
  bool expire_one(std::string_view request_id, std::string_view correlation_id);

  static constexpr int kStoreAttempts = 3;

  std::shared_ptr<store::Store> store_;
  std::shared_ptr<memory::WorkingMemory> checkpoints_;
  std::int64_t default_token_budget_;
  std::int64_t approval_timeout_seconds_;
  bool approval_allow_self_;
  double price_input_per_1k_;
  double price_output_per_1k_;
};

template <class Body>
auto TaskEngine::guarded(std::string_view correlation_id, Body&& body) {
  for (int attempt = 1;; ++attempt) {
    std::optional<GuardViolation> violation;
    try {
      // First optimistically; a retry locks what it reads, so it cannot conflict again.
      auto tx =
          store_->begin(attempt == 1 ? store::ReadMode::optimistic : store::ReadMode::locking);
      auto result = body(*tx, violation);
      tx->commit();
      return result;
    } catch (const StoreUnavailableError& error) {
      // The connection broke before anything committed (the store says so): run the whole
      // operation again from the stored state, a few times, while the store reconnects.
      if (attempt >= kStoreAttempts || !error.details().value("retryable", false)) throw;
    } catch (const ConcurrencyError& error) {
      // A row read optimistically changed before the commit, which wrote nothing: run the
      // operation again from the new state (guards and expected_version see it then).
      const bool retryable = error.details().value("retryable", false);
      if (!retryable && violation) record_guard_violation(*violation, correlation_id);
      if (!retryable || attempt >= kStoreAttempts) throw;
    } catch (const Error&) {
      // The transaction rolled back while unwinding; a refusal is recorded on its own.
      if (violation) record_guard_violation(*violation, correlation_id);
      throw;
    }
  }
}

}  // namespace aadap::engine
