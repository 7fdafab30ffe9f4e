// The store interface the engine works through. It knows rows and transactions, not policy:
// the engine reads and writes inside one StoreTransaction and decides what is allowed. A
// PostgreSQL implementation provides the same primitives (lock_task = SELECT ... FOR UPDATE).
#pragma once

#include "aadap/store/records.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace aadap::store {

/// One write transaction; rolled back when destroyed without commit(). Not thread-safe.
class StoreTransaction {
 public:
  virtual ~StoreTransaction() = default;
  /// The task row, locked against concurrent writers until the transaction ends.
  virtual std::optional<TaskRecord> lock_task(std::string_view id) = 0;
  /// A hint before many lock_task calls (transition_many): a store that pays a round trip
  /// per statement locks and reads them all at once, in id order. Nothing by default.
  virtual void lock_tasks(const std::vector<std::string>& /*ids*/) {}
  /// The task row for a change of its state. In a ReadMode::optimistic transaction the store
  /// may read it without a lock and instead make the commit conditional: when another writer
  /// changed the row in between, commit() writes nothing and throws a ConcurrencyError whose
  /// details say {"retryable": true}. Otherwise (and by default) it is lock_task.
  virtual std::optional<TaskRecord> read_task(std::string_view id) { return lock_task(id); }
  /// read_task for many (the lock_tasks hint).
  virtual void read_tasks(const std::vector<std::string>& ids) { lock_tasks(ids); }
  virtual void insert_task(const TaskRecord& task) = 0;
  /// What the guards and the next event need from the task's events, in one read.
  virtual EventSummary summarize_events(std::string_view task_id, std::string_view state) = 0;
  virtual void insert_transition(const TransitionRecord& event) = 0;
  virtual void update_task_state(std::string_view id, std::string_view state, std::int64_t version,
                                 std::int64_t retry_count, std::string_view updated_at) = 0;
  virtual void insert_audit(const AuditRecord& event) = 0;

  virtual std::optional<ArtifactRecord> find_artifact(std::string_view id) = 0;
  virtual void insert_artifact(const ArtifactRecord& artifact) = 0;
  /// The highest version in the lineage (root and every descendant) holding `artifact_id`.
  virtual std::int64_t lineage_max_version(std::string_view artifact_id) = 0;
  /// The newest artifact of the lineage holding `artifact_id`.
  virtual ArtifactRecord lineage_newest(std::string_view artifact_id) = 0;
  /// The newest artifact of the task of one of `types`.
  virtual std::optional<ArtifactRecord> newest_artifact(std::string_view task_id,
                                                        const std::vector<std::string>& types) = 0;
  /// The verdict (metadata.passed) of the newest validation report of the task for code with
  /// this content hash; nullopt when none was recorded.
  virtual std::optional<bool> validation_verdict(std::string_view task_id,
                                                 std::string_view artifact_hash) = 0;

  virtual std::optional<ApprovalRecord> find_approval(std::string_view id) = 0;
  virtual std::optional<ApprovalRecord> latest_approval(std::string_view task_id) = 0;
  virtual void insert_approval(const ApprovalRecord& request) = 0;
  /// Compare-and-set: records the decision only while the request is PENDING; false otherwise.
  virtual bool decide_approval(std::string_view id, std::string_view status,
                               const std::optional<std::string>& decided_by,
                               const std::optional<std::string>& reason,
                               std::string_view decided_at) = 0;
  /// Ids of PENDING requests whose expires_at is at or before `now`.
  virtual std::vector<std::string> due_approvals(std::string_view now) = 0;

  virtual void insert_execution(const ExecutionRecord& execution) = 0;
  virtual std::optional<ExecutionRecord> find_execution(std::string_view id) = 0;
  /// Compare-and-set from PENDING/RUNNING to the final status, output, error, duration,
  /// metadata and completed_at of `finished`; false when it had already finished.
  virtual bool finish_execution(const ExecutionRecord& finished) = 0;

  /// Atomically adds `tokens` to tasks.tokens_used when the total stays within the budget;
  /// false (nothing changed) when it would exceed it.
  virtual bool add_tokens(std::string_view task_id, std::int64_t tokens) = 0;
  virtual void insert_cost(const CostRecord& cost) = 0;
  /// Inserts, or updates definition/status/metadata of the row with the same (task_id,
  /// platform, platform_resource_id); returns the stored row.
  virtual ResourceRecord upsert_resource(const ResourceRecord& resource) = 0;
  virtual void insert_log(const TaskLogRecord& entry) = 0;

  /// Terminal tasks last updated before `cutoff`.
  virtual std::vector<std::string> prunable_tasks(std::string_view cutoff) = 0;
  /// Removes the task with its events, artifacts, approvals, executions, resources, logs and
  /// costs; its audit events stay with task_id set to null. The only writer allowed past the
  /// append-only rules, and only inside this call.
  virtual void delete_task(std::string_view task_id) = 0;

  /// Tells waiting processes, at commit, that a decision on `request_id` was recorded
  /// (PostgreSQL: NOTIFY). Nothing by default.
  virtual void notify_decision(std::string_view /*request_id*/) {}

  virtual void commit() = 0;
};

/// How a transaction's read_task reads: `locking` locks the row like lock_task; `optimistic`
/// lets the store check the row at commit instead, where a row lock costs more than the
/// rare retry (PostgreSQL: a lock writes the tuple and a WAL record).
enum class ReadMode { locking, optimistic };

/// Thread-safe.
class Store {
 public:
  virtual ~Store() = default;
  virtual std::unique_ptr<StoreTransaction> begin(ReadMode reads) = 0;
  virtual std::optional<TaskRecord> get_task(std::string_view id) = 0;
  /// Tasks matching `query` (already validated by the engine), ties broken by id.
  virtual std::vector<TaskRecord> list_tasks(const TaskQuery& query) = 0;
  /// Events of a task ordered by seq.
  virtual std::vector<TransitionRecord> history(std::string_view task_id) = 0;
  /// Audit events of a task (all tasks when empty) in the order they were written.
  virtual std::vector<AuditRecord> audit(std::string_view task_id) = 0;

  virtual std::optional<ArtifactRecord> get_artifact(std::string_view id) = 0;
  /// Artifacts of a task in creation order, optionally of one type.
  virtual std::vector<ArtifactRecord> artifacts(std::string_view task_id,
                                                const std::optional<std::string>& type) = 0;
  virtual std::optional<ApprovalRecord> get_approval(std::string_view id) = 0;
  /// Approval requests in creation order: of one task (all when empty), optionally only
  /// those with `status`.
  virtual std::vector<ApprovalRecord> approvals(std::string_view task_id,
                                                const std::optional<std::string>& status) = 0;
  virtual std::vector<ExecutionRecord> executions(std::string_view task_id) = 0;
  virtual std::vector<CostRecord> costs(std::string_view task_id) = 0;
  virtual std::vector<ResourceRecord> resources(std::string_view task_id) = 0;
  virtual std::vector<TaskLogRecord> logs(std::string_view task_id) = 0;

  // Vector memories (memory.md §2): the durable copy the in-memory index is built from.
  /// The recorded memory named like `wanted`, created from `wanted` when there is none.
  virtual VectorMemoryRecord open_vector_memory(const VectorMemoryRecord& wanted) = 0;
  /// Every entity of the memory, in the order they were first written; with
  /// EmbeddingRead::omitted the embeddings are left empty (embedding_digest says which vector
  /// each row holds) and the rows are read without touching the vectors.
  virtual std::vector<MemoryEntityRecord> memory_entities(std::string_view memory_name,
                                                          EmbeddingRead embeddings) = 0;
  /// The entities of `ids` that exist in the memory, embeddings included, in the order they
  /// were first written.
  virtual std::vector<MemoryEntityRecord> memory_entities_by_id(
      std::string_view memory_name, const std::vector<std::string>& ids) = 0;
  /// Inserts the entities, or replaces those whose id exists, all in one transaction.
  virtual void put_memory_entities(const std::vector<MemoryEntityRecord>& entities) = 0;
  /// Removes the entities of `ids` from the memory, in one transaction.
  virtual void delete_memory_entities(std::string_view memory_name,
                                      const std::vector<std::string>& ids) = 0;
  /// Entities of the memory written (inserted or replaced) at or after `since` (ISO-8601 UTC,
  /// as stored in updated_at; empty for all), and the ids of all its entities — what refresh()
  /// needs to catch up with other processes: new and changed rows, and which ones were
  /// deleted. Both read from one snapshot. `since` is inclusive (updated_at keeps milliseconds):
  /// passing the newest updated_at seen returns that row again rather than missing another
  /// written in the same millisecond.
  virtual MemoryChanges memory_changes(std::string_view memory_name, std::string_view since) = 0;

  /// Blocks until the approval request is no longer PENDING or `timeout` passes, whichever
  /// is first; the caller reads the request again after. By default it looks every 50 ms;
  /// PostgreSQL is woken by the deciding process's NOTIFY.
  virtual void await_decision(std::string_view request_id, std::chrono::milliseconds timeout);
};

}  // namespace aadap::store
