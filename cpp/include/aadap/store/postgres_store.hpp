// The Store on PostgreSQL 15+ (libpqxx): the same behaviour as SqliteStore, for services and
// many processes.
//
// Connections come from a pool (AADAP_DB_POOL_SIZE kept open, up to AADAP_DB_POOL_OVERFLOW
// more under load). A transaction costs two round trips for a transition: "BEGIN; lock the
// task row and read its event summary", then "the writes; COMMIT" (writes are batched, with
// values quoted by libpq, and flushed ahead of the next read or with the commit). Reads use
// prepared statements. A broken connection is replaced by itself: an operation that failed
// before its COMMIT was sent provably did not commit and is reported as retryable
// (StoreUnavailableError, details.retryable = true); when the link breaks during COMMIT the
// store reconnects and checks whether the transaction's first row exists, so a commit is
// never reported as failed when it happened, nor applied twice. Passwords never appear in
// messages or logs.
#pragma once

#include "aadap/core/database_url.hpp"
#include "aadap/store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aadap::store {

class PostgresStore final : public Store {
 public:
  struct Options {
    int pool_size = 10;
    int pool_overflow = 5;
    /// How long begin() and reads keep trying to (re)connect, or wait for a busy pool, before
    /// StoreUnavailableError.
    std::chrono::milliseconds reconnect_deadline{30'000};
  };

  /// Connects, migrates (safe from several processes at once) and keeps the first connection
  /// in the pool. StoreUnavailableError (password redacted) when the server cannot be reached.
  PostgresStore(const DatabaseUrl& url, Options options);
  ~PostgresStore() override;

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
  /// LISTEN on a connection of its own, then waits for the deciding process's NOTIFY.
  void await_decision(std::string_view request_id, std::chrono::milliseconds timeout) override;

  /// Connections open now (idle and in use): for tests and diagnostics.
  int open_connections() const;

  class Connection;  // a pooled connection with its prepared statements

 private:
  class Transaction;
  friend class Transaction;

  std::unique_ptr<Connection> acquire();
  void release(std::unique_ptr<Connection> connection);
  std::unique_ptr<Connection> connect() const;
  /// Runs `read` on a pooled connection; once more on a fresh one when the link broke.
  template <class Read>
  auto read(Read&& read);
  /// Runs `work(tx, connection)` in a new `Tx` on a pooled connection, then commits; once more
  /// on a fresh connection when the link broke, even during COMMIT. Only for work that has
  /// the same outcome when done twice (the vector memory's: reads, whole-row upserts,
  /// deletes by id).
  template <class Tx, class Work>
  void run_idempotent(Work&& work);

  std::string conninfo_;
  std::string redacted_;
  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;
  int open_ = 0;
  std::atomic<bool> opened_{false};
};

}  // namespace aadap::store
