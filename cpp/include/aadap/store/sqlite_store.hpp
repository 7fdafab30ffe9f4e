// The Store on embedded SQLite. One connection per store, used by one thread at a time (a
// mutex serialises the callers of this process; other processes on the same file are
// serialised by SQLite's own locking, with WAL so readers do not block the writer).
#pragma once

#include "aadap/store/sqlite_database.hpp"
#include "aadap/store/store.hpp"

#include <mutex>

namespace aadap::store {

class SqliteStore final : public Store {
 public:
  /// Opens (creating when needed) and migrates the database at `path` (or ":memory:").
  SqliteStore(const std::string& path, SqliteSynchronous synchronous);

  std::unique_ptr<StoreTransaction> begin(ReadMode reads) override;
  std::optional<TaskRecord> get_task(std::string_view id) override;
  std::vector<TaskRecord> list_tasks(const TaskQuery& query) override;
  std::vector<TransitionRecord> history(std::string_view task_id) override;
  std::vector<AuditRecord> audit(std::string_view task_id) override;
  std::optional<ArtifactRecord> get_artifact(std::string_view id) override;
  std::vector<ArtifactRecord> artifacts(std::string_view task_id,
                                        const std::optional<std::string>& type) override;
  std::optional<ApprovalRecord> get_approval(std::string_view id) override;
  std::vector<ApprovalRecord> approvals(std::string_view task_id,
                                        const std::optional<std::string>& status) override;
  std::vector<ExecutionRecord> executions(std::string_view task_id) override;
  std::vector<CostRecord> costs(std::string_view task_id) override;
  std::vector<ResourceRecord> resources(std::string_view task_id) override;
  std::vector<TaskLogRecord> logs(std::string_view task_id) override;
  VectorMemoryRecord open_vector_memory(const VectorMemoryRecord& wanted) override;
  std::vector<MemoryEntityRecord> memory_entities(std::string_view memory_name,
                                                  EmbeddingRead embeddings) override;
  std::vector<MemoryEntityRecord> memory_entities_by_id(
      std::string_view memory_name, const std::vector<std::string>& ids) override;
  void put_memory_entities(const std::vector<MemoryEntityRecord>& entities) override;
  void delete_memory_entities(std::string_view memory_name,
                              const std::vector<std::string>& ids) override;
  MemoryChanges memory_changes(std::string_view memory_name, std::string_view since) override;

 private:
  class Transaction;
  std::mutex mutex_;
  SqliteDatabase db_;
};

}  // namespace aadap::store
