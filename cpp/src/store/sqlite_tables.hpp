// SQL for the governance and operations tables of the SQLite store (lifecycle.md §3), as free
// functions over a connection: SqliteStore's transaction calls them under its write lock and
// its read methods under the store mutex. Internal to the store.
#pragma once

#include "aadap/store/records.hpp"
#include "aadap/store/sqlite_database.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aadap::store::sqlite {

/// Every row of `statement`, each turned into a Record by `read`.
template <class Record, class Read>
std::vector<Record> read_all(SqliteStatement& statement, Read read) {
  std::vector<Record> out;
  while (statement.step()) out.push_back(read(statement));
  return out;
}

// Artifacts and validation records (sqlite_governance.cpp).
std::optional<ArtifactRecord> find_artifact(SqliteDatabase& db, std::string_view id);
void insert_artifact(SqliteDatabase& db, const ArtifactRecord& artifact);
std::int64_t lineage_max_version(SqliteDatabase& db, std::string_view artifact_id);
ArtifactRecord lineage_newest(SqliteDatabase& db, std::string_view artifact_id);
std::optional<ArtifactRecord> newest_artifact(SqliteDatabase& db, std::string_view task_id,
                                              const std::vector<std::string>& types);
std::optional<bool> validation_verdict(SqliteDatabase& db, std::string_view task_id,
                                       std::string_view artifact_hash);
std::vector<ArtifactRecord> artifacts(SqliteDatabase& db, std::string_view task_id,
                                      const std::optional<std::string>& type);

// Approval requests (sqlite_governance.cpp).
std::optional<ApprovalRecord> find_approval(SqliteDatabase& db, std::string_view id);
std::optional<ApprovalRecord> latest_approval(SqliteDatabase& db, std::string_view task_id);
void insert_approval(SqliteDatabase& db, const ApprovalRecord& request);
bool decide_approval(SqliteDatabase& db, std::string_view id, std::string_view status,
                     const std::optional<std::string>& decided_by,
                     const std::optional<std::string>& reason, std::string_view decided_at);
std::vector<std::string> due_approvals(SqliteDatabase& db, std::string_view now);
std::vector<ApprovalRecord> approvals(SqliteDatabase& db, std::string_view task_id,
                                      const std::optional<std::string>& status);

// Executions, token charges, platform resources, task logs, pruning (sqlite_operations.cpp).
void insert_execution(SqliteDatabase& db, const ExecutionRecord& execution);
std::optional<ExecutionRecord> find_execution(SqliteDatabase& db, std::string_view id);
bool finish_execution(SqliteDatabase& db, const ExecutionRecord& finished);
std::vector<ExecutionRecord> executions(SqliteDatabase& db, std::string_view task_id);
bool add_tokens(SqliteDatabase& db, std::string_view task_id, std::int64_t tokens);
void insert_cost(SqliteDatabase& db, const CostRecord& cost);
std::vector<CostRecord> costs(SqliteDatabase& db, std::string_view task_id);
ResourceRecord upsert_resource(SqliteDatabase& db, const ResourceRecord& resource);
std::vector<ResourceRecord> resources(SqliteDatabase& db, std::string_view task_id);
void insert_log(SqliteDatabase& db, const TaskLogRecord& entry);
std::vector<TaskLogRecord> logs(SqliteDatabase& db, std::string_view task_id);
std::vector<std::string> prunable_tasks(SqliteDatabase& db, std::string_view cutoff);
void delete_task(SqliteDatabase& db, std::string_view task_id);

}  // namespace aadap::store::sqlite
