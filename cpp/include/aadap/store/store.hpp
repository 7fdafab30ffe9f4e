// The store interface the engine works through. It knows rows and transactions, not policy:
// the engine reads and writes inside one StoreTransaction and decides what is allowed. A
// PostgreSQL implementation provides the same primitives (lock_task = SELECT ... FOR UPDATE).
#pragma once

#include "aadap/store/records.hpp"

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
  virtual void insert_task(const TaskRecord& task) = 0;
  /// What the guards and the next event need from the task's events, in one read.
  virtual EventSummary summarize_events(std::string_view task_id, std::string_view state) = 0;
  virtual void insert_transition(const TransitionRecord& event) = 0;
  virtual void update_task_state(std::string_view id, std::string_view state, std::int64_t version,
                                 std::int64_t retry_count, std::string_view updated_at) = 0;
  virtual void insert_audit(const AuditRecord& event) = 0;
  virtual void commit() = 0;
};

/// Thread-safe.
class Store {
 public:
  virtual ~Store() = default;
  virtual std::unique_ptr<StoreTransaction> begin() = 0;
  virtual std::optional<TaskRecord> get_task(std::string_view id) = 0;
  /// Tasks matching `query` (already validated by the engine), ties broken by id.
  virtual std::vector<TaskRecord> list_tasks(const TaskQuery& query) = 0;
  /// Events of a task ordered by seq.
  virtual std::vector<TransitionRecord> history(std::string_view task_id) = 0;
  /// Audit events of a task (all tasks when empty) in the order they were written.
  virtual std::vector<AuditRecord> audit(std::string_view task_id) = 0;
};

}  // namespace aadap::store
