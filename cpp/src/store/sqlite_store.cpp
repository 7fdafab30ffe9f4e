#include "aadap/store/sqlite_store.hpp"

#include "aadap/store/sqlite_schema.hpp"
#include "sqlite_tables.hpp"

namespace aadap::store {

namespace {

constexpr const char* kTaskColumns =
    "id, title, description, current_state, priority, environment, platform, language, "
    "created_by, token_budget, tokens_used, retry_count, version, metadata, created_at, "
    "updated_at";

TaskRecord read_task(const SqliteStatement& row) {
  TaskRecord t;
  t.id = *row.text(0);
  t.title = *row.text(1);
  t.description = row.text(2).value_or("");
  t.current_state = *row.text(3);
  t.priority = static_cast<int>(row.integer(4));
  t.environment = *row.text(5);
  t.platform = row.text(6);
  t.language = row.text(7);
  t.created_by = row.text(8).value_or("");
  t.token_budget = row.integer(9);
  t.tokens_used = row.integer(10);
  t.retry_count = row.integer(11);
  t.version = row.integer(12);
  t.metadata_json = row.text(13).value_or("{}");
  t.created_at = *row.text(14);
  t.updated_at = *row.text(15);
  return t;
}

std::optional<TaskRecord> select_task(SqliteDatabase& db, std::string_view id) {
  const auto lease = db.cached(std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE id = ?1");
  SqliteStatement& statement = *lease;
  statement.bind(1, id);
  if (!statement.step()) return std::nullopt;
  return read_task(statement);
}

}  // namespace

class SqliteStore::Transaction final : public StoreTransaction {
 public:
  explicit Transaction(SqliteStore& store)
      : lock_(store.mutex_), db_(store.db_), transaction_(store.db_) {}

  // BEGIN IMMEDIATE already holds the database's write lock, which is the row lock here.
  std::optional<TaskRecord> lock_task(std::string_view id) override { return select_task(db_, id); }

  void insert_task(const TaskRecord& t) override {
    const auto lease = db_.cached(
        "INSERT INTO tasks (id, title, description, current_state, priority, environment, "
        "platform, language, created_by, token_budget, tokens_used, retry_count, version, "
        "metadata, created_at, updated_at) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
    SqliteStatement& s = *lease;
    s.bind(1, t.id).bind(2, t.title).bind(3, t.description).bind(4, t.current_state);
    s.bind(5, std::int64_t{t.priority}).bind(6, t.environment);
    s.bind_optional(7, t.platform);
    s.bind_optional(8, t.language);
    s.bind(9, t.created_by).bind(10, t.token_budget).bind(11, t.tokens_used);
    s.bind(12, t.retry_count).bind(13, t.version).bind(14, t.metadata_json);
    s.bind(15, t.created_at).bind(16, t.updated_at);
    s.run();
  }

  EventSummary summarize_events(std::string_view task_id, std::string_view state) override {
    const auto lease = db_.cached(
        "SELECT count(*) FILTER (WHERE to_state = ?2), coalesce(max(seq), 0) "
        "FROM state_transitions WHERE task_id = ?1");
    SqliteStatement& s = *lease;
    s.bind(1, task_id).bind(2, state);
    s.step();
    return EventSummary{s.integer(0), s.integer(1)};
  }

  void insert_transition(const TransitionRecord& e) override {
    const auto lease = db_.cached(
        "INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor, reason, "
        "metadata, correlation_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    SqliteStatement& s = *lease;
    s.bind(1, e.id).bind(2, e.task_id).bind(3, e.seq).bind(4, e.from_state).bind(5, e.to_state);
    s.bind(6, e.actor).bind(7, e.reason).bind(8, e.metadata_json);
    s.bind_optional(9, e.correlation_id);
    s.bind(10, e.created_at);
    s.run();
  }

  void update_task_state(std::string_view id, std::string_view state, std::int64_t version,
                         std::int64_t retry_count, std::string_view updated_at) override {
    const auto lease = db_.cached(
        "UPDATE tasks SET current_state = ?2, version = ?3, retry_count = ?4, updated_at = ?5 "
        "WHERE id = ?1");
    SqliteStatement& s = *lease;
    s.bind(1, id).bind(2, state).bind(3, version).bind(4, retry_count).bind(5, updated_at);
    s.run();
  }

  void insert_audit(const AuditRecord& a) override {
    const auto lease = db_.cached(
        "INSERT INTO audit_events (id, correlation_id, task_id, event_type, actor, action, "
        "resource_type, resource_id, details, created_at) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    SqliteStatement& s = *lease;
    s.bind(1, a.id);
    s.bind_optional(2, a.correlation_id);
    s.bind_optional(3, a.task_id);
    s.bind(4, a.event_type).bind(5, a.actor).bind(6, a.action);
    s.bind_optional(7, a.resource_type);
    s.bind_optional(8, a.resource_id);
    s.bind(9, a.details_json).bind(10, a.created_at);
    s.run();
  }

  std::optional<ArtifactRecord> find_artifact(std::string_view id) override {
    return sqlite::find_artifact(db_, id);
  }
  void insert_artifact(const ArtifactRecord& artifact) override {
    sqlite::insert_artifact(db_, artifact);
  }
  std::int64_t lineage_max_version(std::string_view artifact_id) override {
    return sqlite::lineage_max_version(db_, artifact_id);
  }
  ArtifactRecord lineage_newest(std::string_view artifact_id) override {
    return sqlite::lineage_newest(db_, artifact_id);
  }
  std::optional<ArtifactRecord> newest_artifact(std::string_view task_id,
                                                const std::vector<std::string>& types) override {
    return sqlite::newest_artifact(db_, task_id, types);
  }
  std::optional<bool> validation_verdict(std::string_view task_id,
                                         std::string_view artifact_hash) override {
    return sqlite::validation_verdict(db_, task_id, artifact_hash);
  }
  std::optional<ApprovalRecord> find_approval(std::string_view id) override {
    return sqlite::find_approval(db_, id);
  }
  std::optional<ApprovalRecord> latest_approval(std::string_view task_id) override {
    return sqlite::latest_approval(db_, task_id);
  }
  void insert_approval(const ApprovalRecord& request) override {
    sqlite::insert_approval(db_, request);
  }
  bool decide_approval(std::string_view id, std::string_view status,
                       const std::optional<std::string>& decided_by,
                       const std::optional<std::string>& reason,
                       std::string_view decided_at) override {
    return sqlite::decide_approval(db_, id, status, decided_by, reason, decided_at);
  }
  std::vector<std::string> due_approvals(std::string_view now) override {
    return sqlite::due_approvals(db_, now);
  }
  void insert_execution(const ExecutionRecord& execution) override {
    sqlite::insert_execution(db_, execution);
  }
  std::optional<ExecutionRecord> find_execution(std::string_view id) override {
    return sqlite::find_execution(db_, id);
  }
  bool finish_execution(const ExecutionRecord& finished) override {
    return sqlite::finish_execution(db_, finished);
  }
  bool add_tokens(std::string_view task_id, std::int64_t tokens) override {
    return sqlite::add_tokens(db_, task_id, tokens);
  }
  void insert_cost(const CostRecord& cost) override { sqlite::insert_cost(db_, cost); }
  ResourceRecord upsert_resource(const ResourceRecord& resource) override {
    return sqlite::upsert_resource(db_, resource);
  }
  void insert_log(const TaskLogRecord& entry) override { sqlite::insert_log(db_, entry); }
  std::vector<std::string> prunable_tasks(std::string_view cutoff) override {
    return sqlite::prunable_tasks(db_, cutoff);
  }
  void delete_task(std::string_view task_id) override { sqlite::delete_task(db_, task_id); }

  void commit() override { transaction_.commit(); }

 private:
  std::lock_guard<std::mutex> lock_;
  SqliteDatabase& db_;
  SqliteTransaction transaction_;
};

SqliteStore::SqliteStore(const std::string& path, SqliteSynchronous synchronous)
    : db_(path, synchronous) {
  apply_sqlite_migrations(db_);
}

// Every SQLite transaction locks the whole database (BEGIN IMMEDIATE): reads are locking.
std::unique_ptr<StoreTransaction> SqliteStore::begin(ReadMode /*reads*/) {
  return std::make_unique<Transaction>(*this);
}

std::optional<TaskRecord> SqliteStore::get_task(std::string_view id) {
  std::lock_guard lock(mutex_);
  return select_task(db_, id);
}

std::vector<TaskRecord> SqliteStore::list_tasks(const TaskQuery& query) {
  // Only whitelisted identifiers reach the SQL text; every value is a bound parameter.
  std::string sql = std::string("SELECT ") + kTaskColumns + " FROM tasks WHERE 1 = 1";
  std::vector<std::string> texts;
  std::vector<std::int64_t> numbers;
  int index = 0;
  std::vector<std::pair<int, bool>> order;  // (parameter index, is text)
  // Appends a placeholder to `sql` (appending, not "?" + string: GCC 12 warns falsely about
  // that expression, bug 105329).
  auto placeholder = [&] { sql.append("?").append(std::to_string(++index)); };
  auto text_param = [&](const std::string& value) {
    texts.push_back(value);
    order.emplace_back(static_cast<int>(texts.size() - 1), true);
    placeholder();
  };
  auto number_param = [&](std::int64_t value) {
    numbers.push_back(value);
    order.emplace_back(static_cast<int>(numbers.size() - 1), false);
    placeholder();
  };
  if (!query.states.empty()) {
    sql += " AND current_state IN (";
    for (std::size_t i = 0; i < query.states.size(); ++i) {
      if (i > 0) sql += ", ";
      text_param(query.states[i]);
    }
    sql += ")";
  }
  if (query.environment) {
    sql += " AND environment = ";
    text_param(*query.environment);
  }
  if (query.platform) {
    sql += " AND platform = ";
    text_param(*query.platform);
  }
  if (query.min_priority) {
    sql += " AND priority >= ";
    number_param(*query.min_priority);
  }
  if (query.max_priority) {
    sql += " AND priority <= ";
    number_param(*query.max_priority);
  }
  if (query.created_after) {
    sql += " AND created_at >= ";
    text_param(*query.created_after);
  }
  if (query.created_before) {
    sql += " AND created_at < ";
    text_param(*query.created_before);
  }
  const std::string direction = query.descending ? " DESC" : " ASC";
  sql += " ORDER BY " + query.order_by + direction + ", id" + direction;
  sql += " LIMIT ";
  number_param(query.limit);
  sql += " OFFSET ";
  number_param(query.offset);

  std::lock_guard lock(mutex_);
  auto statement = db_.prepare(sql);
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto [slot, is_text] = order[i];
    if (is_text) {
      statement.bind(static_cast<int>(i + 1), texts[static_cast<std::size_t>(slot)]);
    } else {
      statement.bind(static_cast<int>(i + 1), numbers[static_cast<std::size_t>(slot)]);
    }
  }
  std::vector<TaskRecord> out;
  while (statement.step()) out.push_back(read_task(statement));
  return out;
}

std::vector<TransitionRecord> SqliteStore::history(std::string_view task_id) {
  std::lock_guard lock(mutex_);
  const auto lease = db_.cached(
      "SELECT id, task_id, seq, from_state, to_state, actor, reason, metadata, correlation_id, "
      "created_at FROM state_transitions WHERE task_id = ?1 ORDER BY seq");
  SqliteStatement& s = *lease;
  s.bind(1, task_id);
  std::vector<TransitionRecord> out;
  while (s.step()) {
    out.push_back(TransitionRecord{*s.text(0), *s.text(1), s.integer(2), *s.text(3), *s.text(4),
                                   *s.text(5), s.text(6).value_or(""), s.text(7).value_or("{}"),
                                   s.text(8), *s.text(9)});
  }
  return out;
}

std::vector<AuditRecord> SqliteStore::audit(std::string_view task_id) {
  std::lock_guard lock(mutex_);
  const auto lease = db_.cached(
      "SELECT id, correlation_id, task_id, event_type, actor, action, resource_type, "
      "resource_id, details, created_at FROM audit_events WHERE ?1 = '' OR task_id = ?1 "
      "ORDER BY rowid");
  SqliteStatement& s = *lease;
  s.bind(1, task_id);
  std::vector<AuditRecord> out;
  while (s.step()) {
    out.push_back(AuditRecord{*s.text(0), s.text(1), s.text(2), *s.text(3), *s.text(4),
                              s.text(5).value_or(""), s.text(6), s.text(7),
                              s.text(8).value_or("{}"), *s.text(9)});
  }
  return out;
}

std::optional<ArtifactRecord> SqliteStore::get_artifact(std::string_view id) {
  std::lock_guard lock(mutex_);
  return sqlite::find_artifact(db_, id);
}

std::vector<ArtifactRecord> SqliteStore::artifacts(std::string_view task_id,
                                                   const std::optional<std::string>& type) {
  std::lock_guard lock(mutex_);
  return sqlite::artifacts(db_, task_id, type);
}

std::optional<ApprovalRecord> SqliteStore::get_approval(std::string_view id) {
  std::lock_guard lock(mutex_);
  return sqlite::find_approval(db_, id);
}

std::vector<ApprovalRecord> SqliteStore::approvals(std::string_view task_id,
                                                   const std::optional<std::string>& status) {
  std::lock_guard lock(mutex_);
  return sqlite::approvals(db_, task_id, status);
}

std::vector<ExecutionRecord> SqliteStore::executions(std::string_view task_id) {
  std::lock_guard lock(mutex_);
  return sqlite::executions(db_, task_id);
}

std::vector<CostRecord> SqliteStore::costs(std::string_view task_id) {
  std::lock_guard lock(mutex_);
  return sqlite::costs(db_, task_id);
}

std::vector<ResourceRecord> SqliteStore::resources(std::string_view task_id) {
  std::lock_guard lock(mutex_);
  return sqlite::resources(db_, task_id);
}

std::vector<TaskLogRecord> SqliteStore::logs(std::string_view task_id) {
  std::lock_guard lock(mutex_);
  return sqlite::logs(db_, task_id);
}

}  // namespace aadap::store
