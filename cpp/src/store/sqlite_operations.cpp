#include "sqlite_tables.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/store/sqlite_schema.hpp"

namespace aadap::store::sqlite {

namespace {

constexpr const char* kExecutionColumns =
    "id, task_id, environment, platform, status, code_artifact_id, output, error, duration_ms, "
    "metadata, started_at, completed_at, created_at";

ExecutionRecord read_execution(const SqliteStatement& r) {
  return ExecutionRecord{*r.text(0),
                         *r.text(1),
                         *r.text(2),
                         r.text(3),
                         *r.text(4),
                         r.text(5),
                         r.text(6),
                         r.text(7),
                         r.optional_integer(8),
                         r.text(9).value_or("{}"),
                         r.text(10),
                         r.text(11),
                         *r.text(12)};
}

constexpr const char* kResourceColumns =
    "id, task_id, platform, resource_type, platform_resource_id, definition, status, metadata, "
    "created_at, updated_at";

ResourceRecord read_resource(const SqliteStatement& r) {
  return ResourceRecord{*r.text(0), *r.text(1),
                        *r.text(2), *r.text(3),
                        *r.text(4), r.text(5).value_or("{}"),
                        *r.text(6), r.text(7).value_or("{}"),
                        *r.text(8), *r.text(9)};
}

}  // namespace

void insert_execution(SqliteDatabase& db, const ExecutionRecord& e) {
  const auto lease = db.cached(std::string("INSERT INTO executions (") + kExecutionColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  SqliteStatement& s = *lease;
  s.bind(1, e.id).bind(2, e.task_id).bind(3, e.environment).bind_optional(4, e.platform);
  s.bind(5, e.status).bind_optional(6, e.code_artifact_id).bind_optional(7, e.output);
  s.bind_optional(8, e.error).bind_optional(9, e.duration_ms).bind(10, e.metadata_json);
  s.bind_optional(11, e.started_at).bind_optional(12, e.completed_at).bind(13, e.created_at);
  s.run();
}

std::optional<ExecutionRecord> find_execution(SqliteDatabase& db, std::string_view id) {
  const auto lease =
      db.cached(std::string("SELECT ") + kExecutionColumns + " FROM executions WHERE id = ?1");
  lease->bind(1, id);
  if (!lease->step()) return std::nullopt;
  return read_execution(*lease);
}

bool finish_execution(SqliteDatabase& db, const ExecutionRecord& e) {
  const auto lease = db.cached(
      "UPDATE executions SET status = ?2, output = ?3, error = ?4, duration_ms = ?5, "
      "metadata = ?6, completed_at = ?7 WHERE id = ?1 AND status IN ('PENDING', 'RUNNING')");
  SqliteStatement& s = *lease;
  s.bind(1, e.id).bind(2, e.status).bind_optional(3, e.output).bind_optional(4, e.error);
  s.bind_optional(5, e.duration_ms).bind(6, e.metadata_json).bind_optional(7, e.completed_at);
  s.run();
  return db.changes() == 1;
}

std::vector<ExecutionRecord> executions(SqliteDatabase& db, std::string_view task_id) {
  const auto lease = db.cached(std::string("SELECT ") + kExecutionColumns +
                               " FROM executions WHERE task_id = ?1 ORDER BY created_at, id");
  lease->bind(1, task_id);
  return read_all<ExecutionRecord>(*lease, read_execution);
}

bool add_tokens(SqliteDatabase& db, std::string_view task_id, std::int64_t tokens) {
  const auto lease = db.cached(
      "UPDATE tasks SET tokens_used = tokens_used + ?2 "
      "WHERE id = ?1 AND tokens_used + ?2 <= token_budget");
  lease->bind(1, task_id).bind(2, tokens);
  lease->run();
  return db.changes() == 1;
}

void insert_cost(SqliteDatabase& db, const CostRecord& c) {
  const auto lease = db.cached(
      "INSERT INTO cost_records (id, task_id, agent_type, tokens_in, tokens_out, cost_usd, "
      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  SqliteStatement& s = *lease;
  s.bind(1, c.id).bind(2, c.task_id).bind_optional(3, c.agent_type).bind(4, c.tokens_in);
  s.bind(5, c.tokens_out).bind(6, c.cost_usd).bind(7, c.created_at);
  s.run();
}

std::vector<CostRecord> costs(SqliteDatabase& db, std::string_view task_id) {
  const auto lease = db.cached(
      "SELECT id, task_id, agent_type, tokens_in, tokens_out, cost_usd, created_at "
      "FROM cost_records WHERE task_id = ?1 ORDER BY created_at, id");
  lease->bind(1, task_id);
  return read_all<CostRecord>(*lease, [](const SqliteStatement& r) {
    return CostRecord{*r.text(0),   *r.text(1), r.text(2), r.integer(3),
                      r.integer(4), r.real(5),  *r.text(6)};
  });
}

ResourceRecord upsert_resource(SqliteDatabase& db, const ResourceRecord& r) {
  {
    const auto lease = db.cached(
        std::string("INSERT INTO platform_resources (") + kResourceColumns +
        ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
        "ON CONFLICT (task_id, platform, platform_resource_id) DO UPDATE SET "
        "resource_type = excluded.resource_type, definition = excluded.definition, "
        "status = excluded.status, metadata = excluded.metadata, updated_at = excluded.updated_at");
    SqliteStatement& s = *lease;
    s.bind(1, r.id).bind(2, r.task_id).bind(3, r.platform).bind(4, r.resource_type);
    s.bind(5, r.platform_resource_id).bind(6, r.definition_json).bind(7, r.status);
    s.bind(8, r.metadata_json).bind(9, r.created_at).bind(10, r.updated_at);
    s.run();
  }
  const auto lease = db.cached(std::string("SELECT ") + kResourceColumns +
                               " FROM platform_resources WHERE task_id = ?1 AND platform = ?2 "
                               "AND platform_resource_id = ?3");
  lease->bind(1, r.task_id).bind(2, r.platform).bind(3, r.platform_resource_id);
  if (!lease->step()) throw StoreError("a platform resource just written cannot be read back");
  return read_resource(*lease);
}

std::vector<ResourceRecord> resources(SqliteDatabase& db, std::string_view task_id) {
  const auto lease = db.cached(std::string("SELECT ") + kResourceColumns +
                               " FROM platform_resources WHERE task_id = ?1 "
                               "ORDER BY created_at, id");
  lease->bind(1, task_id);
  return read_all<ResourceRecord>(*lease, read_resource);
}

void insert_log(SqliteDatabase& db, const TaskLogRecord& l) {
  const auto lease = db.cached(
      "INSERT INTO task_logs (id, task_id, level, message, correlation_id, source, created_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  SqliteStatement& s = *lease;
  s.bind(1, l.id).bind(2, l.task_id).bind(3, l.level).bind(4, l.message);
  s.bind_optional(5, l.correlation_id).bind_optional(6, l.source).bind(7, l.created_at);
  s.run();
}

std::vector<TaskLogRecord> logs(SqliteDatabase& db, std::string_view task_id) {
  const auto lease = db.cached(
      "SELECT id, task_id, level, message, correlation_id, source, created_at FROM task_logs "
      "WHERE task_id = ?1 ORDER BY created_at, id");
  lease->bind(1, task_id);
  return read_all<TaskLogRecord>(*lease, [](const SqliteStatement& r) {
    return TaskLogRecord{*r.text(0), *r.text(1), *r.text(2), *r.text(3),
                         r.text(4),  r.text(5),  *r.text(6)};
  });
}

std::vector<std::string> prunable_tasks(SqliteDatabase& db, std::string_view cutoff) {
  const auto lease = db.cached(
      "SELECT id FROM tasks WHERE current_state IN ('COMPLETED', 'CANCELLED') "
      "AND updated_at < ?1 ORDER BY updated_at, id");
  lease->bind(1, cutoff);
  return read_all<std::string>(*lease, [](const SqliteStatement& r) { return *r.text(0); });
}

void delete_task(SqliteDatabase& db, std::string_view task_id) {
  // Inside the caller's transaction: a rollback restores the triggers with everything else.
  const auto exemption = prune_exemption_sql();
  db.exec(exemption.lift);
  for (const char* sql : {
           "DELETE FROM state_transitions WHERE task_id = ?1",
           "DELETE FROM approval_requests WHERE task_id = ?1",
           "DELETE FROM executions WHERE task_id = ?1",
           "DELETE FROM platform_resources WHERE task_id = ?1",
           "DELETE FROM task_logs WHERE task_id = ?1",
           "DELETE FROM cost_records WHERE task_id = ?1",
           // children before parents: the lineage's parent_id references stay satisfied
           "DELETE FROM artifacts WHERE task_id = ?1 AND parent_id IS NOT NULL",
           "DELETE FROM artifacts WHERE task_id = ?1",
           "DELETE FROM tasks WHERE id = ?1",  // audit_events.task_id: ON DELETE SET NULL
       }) {
    auto statement = db.prepare(sql);
    statement.bind(1, task_id);
    statement.run();
  }
  db.exec(exemption.restore);
}

}  // namespace aadap::store::sqlite
