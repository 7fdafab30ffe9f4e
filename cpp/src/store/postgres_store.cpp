#include "aadap/store/postgres_store.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/store/postgres_schema.hpp"
#include "postgres_connection.hpp"
#include "postgres_sql.hpp"

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include <array>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace aadap::store {

namespace {

using pg::clean;
using pg::Quoter;
using pg::server_failed;

/// Summary of one task's events, cached by the transaction from lock_task on.
struct EventCounts {
  std::map<std::string, std::int64_t> entries;
  std::int64_t last_seq = 0;
};

/// A task row's new state, waiting for the batched UPDATE.
struct TaskUpdate {
  std::string state;
  std::int64_t version = 0;
  std::int64_t retry_count = 0;
  std::string updated_at;
};

/// The summary as the jsonb literal kept on the task row.
std::string entries_json(const EventCounts& counts) {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [state, n] : counts.entries) entries[state] = n;
  return entries.dump();
}

const log::Logger& logger() {
  static const log::Logger instance("aadap.store");
  return instance;
}

/// The connection broke before COMMIT was sent: the transaction provably did not commit.
[[noreturn]] void not_committed(const std::exception& error) {
  throw StoreUnavailableError(
      "the connection to PostgreSQL broke before the transaction committed (nothing was "
      "written; retry): " +
          clean(error.what()),
      {{"retryable", true}, {"committed", false}});
}

/// A row this transaction read without a lock changed before the commit, which wrote nothing.
[[noreturn]] void changed_meanwhile(const std::string& what) {
  throw ConcurrencyError(what + " (nothing was written; run the operation again)",
                         {{"retryable", true}});
}

std::string conninfo_for(const DatabaseUrl& url) {
  std::string conninfo = url.normalized();
  const char separator = conninfo.find('?') == std::string::npos ? '?' : '&';
  std::string extra;
  if (conninfo.find("application_name=") == std::string::npos) extra += "application_name=aadap";
  if (conninfo.find("connect_timeout=") == std::string::npos) {
    extra += std::string(extra.empty() ? "" : "&") + "connect_timeout=10";
  }
  if (!extra.empty()) conninfo.append(1, separator).append(extra);
  return conninfo;
}

}  // namespace

namespace pg {

std::string clean(std::string message) {
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
    message.pop_back();
  }
  return redact(message);
}

void server_failed() {
  const auto first_line = [](const std::exception& error) {
    std::string message = clean(error.what());
    const auto newline = message.find('\n');
    if (newline != std::string::npos) message.resize(newline);
    return message;
  };
  try {
    throw;
  } catch (const pqxx::serialization_failure& error) {  // not an sql_error in libpqxx 6
    changed_meanwhile("PostgreSQL rolled the transaction back: " + first_line(error));
  } catch (const pqxx::deadlock_detected& error) {
    changed_meanwhile("PostgreSQL rolled the transaction back: " + first_line(error));
  } catch (const pqxx::sql_error& error) {
    const std::string state = error.sqlstate();
    if (state.rfind("23", 0) == 0) {  // integrity constraint violation class
      throw StoreError("the database refused the change: " + first_line(error),
                       {{"sqlstate", state}});
    }
    throw StoreError("a PostgreSQL statement failed: " + first_line(error), {{"sqlstate", state}});
  } catch (const pqxx::failure& error) {
    throw StoreError("PostgreSQL failed: " + first_line(error));
  }
}

}  // namespace pg

// ---- the pool ---------------------------------------------------------------------------

PostgresStore::PostgresStore(const DatabaseUrl& url, Options options)
    : conninfo_(conninfo_for(url)), redacted_(url.redacted()), options_(options) {
  if (options_.pool_size < 1 || options_.pool_overflow < 0) {
    throw InvalidArgumentError("the pool needs pool_size >= 1 and pool_overflow >= 0");
  }
  auto first = acquire();
  try {
    apply_postgres_migrations(*first->connection);
  } catch (const pqxx::failure&) {
    server_failed();
  }
  release(std::move(first));
  opened_ = true;
}

PostgresStore::~PostgresStore() = default;

std::unique_ptr<PostgresStore::Connection> PostgresStore::connect() const {
  // Opening the store fails fast (a wrong URL should not hang); once it has been open, a lost
  // server is waited for up to the reconnect deadline (a restart, a failover).
  const auto deadline = std::chrono::steady_clock::now() +
                        (opened_ ? options_.reconnect_deadline : std::chrono::milliseconds(0));
  auto pause = std::chrono::milliseconds(50);
  for (;;) {
    try {
      return std::make_unique<Connection>(conninfo_);
    } catch (const std::exception& error) {
      if (std::chrono::steady_clock::now() + pause > deadline) {
        throw StoreUnavailableError(
            "cannot connect to PostgreSQL at " + redacted_ + ": " + clean(error.what()),
            {{"url", redacted_}, {"retryable", true}});
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(1000));
    }
  }
}

std::unique_ptr<PostgresStore::Connection> PostgresStore::acquire() {
  {
    std::unique_lock lock(mutex_);
    const int limit = options_.pool_size + options_.pool_overflow;
    // Bounded: a pool held by stuck callers is reported instead of hanging forever.
    if (!returned_.wait_for(lock, options_.reconnect_deadline,
                            [&] { return !idle_.empty() || open_ < limit; })) {
      throw StoreUnavailableError(
          "all " + std::to_string(limit) +
              " PostgreSQL connections of the pool stayed busy; raise AADAP_DB_POOL_SIZE or "
              "AADAP_DB_POOL_OVERFLOW",
          {{"retryable", true}, {"pool_limit", limit}});
    }
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (connection->connection->is_open()) return connection;
      --open_;  // dropped by the server while idle: replace it below
    }
    ++open_;
  }
  try {
    return connect();
  } catch (...) {
    std::lock_guard lock(mutex_);
    --open_;
    returned_.notify_one();
    throw;
  }
}

void PostgresStore::release(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (connection->broken) {
    // One broken link usually means the server restarted or failed over: the idle ones are
    // as dead, so they are dropped too rather than handed out to fail one by one.
    open_ -= static_cast<int>(idle_.size());
    idle_.clear();
  }
  const bool keep = !connection->broken && connection->connection->is_open() &&
                    static_cast<int>(idle_.size()) < options_.pool_size;
  if (keep) {
    idle_.push_back(std::move(connection));
  } else {
    --open_;  // overflow or broken: closed when `connection` goes out of scope
  }
  returned_.notify_one();
}

int PostgresStore::open_connections() const {
  std::lock_guard lock(mutex_);
  return open_;
}

template <class Read>
auto PostgresStore::read(Read&& read) {
  for (int attempt = 0;; ++attempt) {
    auto connection = acquire();
    try {
      auto result = [&] {
        pqxx::nontransaction tx(*connection->connection);  // closed before the release below
        return read(tx, *connection);
      }();
      release(std::move(connection));
      return result;
    } catch (const pqxx::broken_connection& error) {
      connection->broken = true;
      release(std::move(connection));
      if (attempt == 1) not_committed(error);  // reads change nothing: one more try is safe
    } catch (const pqxx::failure&) {
      release(std::move(connection));
      server_failed();
    } catch (...) {
      release(std::move(connection));
      throw;
    }
  }
}

// ---- transactions -----------------------------------------------------------------------

class PostgresStore::Transaction final : public StoreTransaction {
 public:
  Transaction(PostgresStore& store, ReadMode reads)
      : store_(store), connection_(store.acquire()), reads_(reads) {}

  ~Transaction() override {
    if (begun_ && !done_ && !connection_->broken) {
      try {
        pqxx::nontransaction tx(*connection_->connection);
        tx.exec("ROLLBACK");
      } catch (const std::exception&) {
        connection_->broken = true;
      }
    }
    if (connection_) store_.release(std::move(connection_));
  }

  std::optional<TaskRecord> lock_task(std::string_view id) override {
    const std::string key(id);
    if (locked_.count(key) == 0) load(quote().text(id), true);
    return cached(key);
  }

  void lock_tasks(const std::vector<std::string>& ids) override {
    const Quoter q = quote();
    std::string list;
    for (const auto& id : std::set<std::string>(ids.begin(), ids.end())) {
      if (locked_.count(id) == 0) list.append(list.empty() ? "" : ",").append(q.text(id));
    }
    if (!list.empty()) load(list, true);
  }

  std::optional<TaskRecord> read_task(std::string_view id) override {
    if (reads_ == ReadMode::locking) return lock_task(id);
    const std::string key(id);
    if (tasks_.count(key) == 0) {
      if (begun_ || !pending_.empty()) {
        load(quote().text(id), false);
      } else {  // the common case: a prepared read in autocommit, no BEGIN needed
        remember(run([&](pqxx::nontransaction& tx) {
                   return tx.exec_prepared(
                       connection_->prepared("read_task", std::string("SELECT ") +
                                                              pg::kTaskColumns + kSummaryColumns +
                                                              " FROM tasks WHERE id = $1"),
                       pg::storable(key));
                 }),
                 false);
      }
    }
    return cached(key);
  }

  void read_tasks(const std::vector<std::string>& ids) override {
    if (reads_ == ReadMode::locking) return lock_tasks(ids);
    const Quoter q = quote();
    std::string list;
    for (const auto& id : std::set<std::string>(ids.begin(), ids.end())) {
      if (tasks_.count(id) == 0) list.append(list.empty() ? "" : ",").append(q.text(id));
    }
    if (!list.empty()) load(list, false);
  }

  void insert_task(const TaskRecord& task) override {
    write(pg::insert_task(quote(), task), "tasks", task.id);
    events_[task.id] = EventCounts{};
    tasks_[task.id] = task;
    read_versions_[task.id] = task.version;
    locked_.insert(task.id);  // nobody else can see it before the commit
  }

  EventSummary summarize_events(std::string_view task_id, std::string_view state) override {
    auto found = events_.find(std::string(task_id));
    if (found == events_.end()) {
      lock_task(task_id);
      found = events_.find(std::string(task_id));
      if (found == events_.end()) return EventSummary{};
    }
    const auto entries = found->second.entries.find(std::string(state));
    return EventSummary{entries == found->second.entries.end() ? 0 : entries->second,
                        found->second.last_seq};
  }

  void insert_transition(const TransitionRecord& event) override {
    mark("state_transitions", event.id);
    events_rows_.push_back(event);
    auto& counts = events_[event.task_id];
    counts.entries[event.to_state] += 1;
    counts.last_seq = event.seq;
  }

  void update_task_state(std::string_view id, std::string_view state, std::int64_t version,
                         std::int64_t retry_count, std::string_view updated_at) override {
    // The last update of a task in this transaction is the one that counts.
    task_updates_[std::string(id)] =
        TaskUpdate{std::string(state), version, retry_count, std::string(updated_at)};
    const auto cached = tasks_.find(std::string(id));
    if (cached != tasks_.end()) {
      cached->second.current_state = std::string(state);
      cached->second.version = version;
      cached->second.retry_count = retry_count;
      cached->second.updated_at = std::string(updated_at);
    }
  }

  void insert_audit(const AuditRecord& event) override {
    mark("audit_events", event.id);
    audit_rows_.push_back(event);
  }

  std::optional<ArtifactRecord> find_artifact(std::string_view id) override {
    const auto rows = query(std::string("SELECT ") + pg::kArtifactColumns +
                            " FROM artifacts WHERE id = " + quote().text(id));
    if (rows.empty()) return std::nullopt;
    return pg::read_artifact(rows[0]);
  }

  void insert_artifact(const ArtifactRecord& artifact) override {
    write(pg::insert_artifact(quote(), artifact), "artifacts", artifact.id);
  }

  std::int64_t lineage_max_version(std::string_view artifact_id) override {
    return query(lineage(artifact_id) +
                 " SELECT coalesce(max(version), 0) FROM artifacts WHERE id IN "
                 "(SELECT id FROM lineage)")[0][0]
        .as<long long>();
  }

  ArtifactRecord lineage_newest(std::string_view artifact_id) override {
    const auto rows = query(lineage(artifact_id) + " SELECT " + pg::kArtifactColumns +
                            " FROM artifacts WHERE id IN (SELECT id FROM lineage) "
                            "ORDER BY version DESC, created_at DESC, id DESC LIMIT 1");
    if (rows.empty())
      throw StoreError("the lineage of artifact " + std::string(artifact_id) + " is empty");
    return pg::read_artifact(rows[0]);
  }

  std::optional<ArtifactRecord> newest_artifact(std::string_view task_id,
                                                const std::vector<std::string>& types) override {
    const Quoter q = quote();
    std::string list;
    for (const auto& type : types) list.append(list.empty() ? "" : ",").append(q.text(type));
    const auto rows =
        query(std::string("SELECT ") + pg::kArtifactColumns +
              " FROM artifacts WHERE task_id = " + q.text(task_id) + " AND artifact_type IN (" +
              list + ") ORDER BY created_at DESC, id DESC LIMIT 1");
    if (rows.empty()) return std::nullopt;
    return pg::read_artifact(rows[0]);
  }

  std::optional<bool> validation_verdict(std::string_view task_id,
                                         std::string_view artifact_hash) override {
    const Quoter q = quote();
    const auto rows = query(
        "SELECT coalesce((metadata->>'passed')::boolean, false) FROM artifacts WHERE task_id = " +
        q.text(task_id) +
        " AND artifact_type = 'validation_report' AND metadata->>'artifact_hash' = " +
        q.text(artifact_hash) + " ORDER BY created_at DESC, id DESC LIMIT 1");
    if (rows.empty()) return std::nullopt;
    return rows[0][0].as<bool>();
  }

  std::optional<ApprovalRecord> find_approval(std::string_view id) override {
    const auto rows = query(std::string("SELECT ") + pg::kApprovalColumns +
                            " FROM approval_requests WHERE id = " + quote().text(id));
    if (rows.empty()) return std::nullopt;
    return pg::read_approval(rows[0]);
  }

  std::optional<ApprovalRecord> latest_approval(std::string_view task_id) override {
    const auto rows = query(std::string("SELECT ") + pg::kApprovalColumns +
                            " FROM approval_requests WHERE task_id = " + quote().text(task_id) +
                            " ORDER BY created_at DESC, id DESC LIMIT 1");
    if (rows.empty()) return std::nullopt;
    return pg::read_approval(rows[0]);
  }

  void insert_approval(const ApprovalRecord& request) override {
    write(pg::insert_approval(quote(), request), "approval_requests", request.id);
  }

  bool decide_approval(std::string_view id, std::string_view status,
                       const std::optional<std::string>& decided_by,
                       const std::optional<std::string>& reason,
                       std::string_view decided_at) override {
    const Quoter q = quote();
    // Compare-and-set, and a row lock: a concurrent decider waits, then finds it decided.
    const auto rows =
        query("UPDATE approval_requests SET status = " + q.text(status) +
              ", decided_by = " + q.text(decided_by) + ", decision_reason = " + q.text(reason) +
              ", decided_at = " + q.timestamp(decided_at) + " WHERE id = " + q.text(id) +
              " AND status = 'PENDING' RETURNING id");
    return rows.size() == 1;
  }

  std::vector<std::string> due_approvals(std::string_view now) override {
    std::vector<std::string> ids;
    for (const auto& row : query("SELECT id FROM approval_requests WHERE status = 'PENDING' "
                                 "AND expires_at <= " +
                                 quote().timestamp(now) + " ORDER BY expires_at, id")) {
      ids.emplace_back(row[0].c_str());
    }
    return ids;
  }

  void insert_execution(const ExecutionRecord& execution) override {
    write(pg::insert_execution(quote(), execution), "executions", execution.id);
  }

  std::optional<ExecutionRecord> find_execution(std::string_view id) override {
    const auto rows = query(std::string("SELECT ") + pg::kExecutionColumns +
                            " FROM executions WHERE id = " + quote().text(id) + " FOR UPDATE");
    if (rows.empty()) return std::nullopt;
    return pg::read_execution(rows[0]);
  }

  bool finish_execution(const ExecutionRecord& e) override {
    const Quoter q = quote();
    const auto rows = query(
        "UPDATE executions SET status = " + q.text(e.status) + ", output = " + q.text(e.output) +
        ", error = " + q.text(e.error) + ", duration_ms = " + Quoter::number(e.duration_ms) +
        ", metadata = " + q.json(e.metadata_json) +
        ", completed_at = " + q.timestamp(e.completed_at) + " WHERE id = " + q.text(e.id) +
        " AND status IN ('PENDING', 'RUNNING') RETURNING id");
    return rows.size() == 1;
  }

  bool add_tokens(std::string_view task_id, std::int64_t tokens) override {
    const auto rows =
        query("UPDATE tasks SET tokens_used = tokens_used + " + Quoter::number(tokens) +
              " WHERE id = " + quote().text(task_id) + " AND tokens_used + " +
              Quoter::number(tokens) + " <= token_budget RETURNING id");
    const auto cached = tasks_.find(std::string(task_id));
    if (rows.size() == 1 && cached != tasks_.end()) cached->second.tokens_used += tokens;
    return rows.size() == 1;
  }

  void insert_cost(const CostRecord& cost) override {
    write(pg::insert_cost(quote(), cost), "cost_records", cost.id);
  }

  ResourceRecord upsert_resource(const ResourceRecord& r) override {
    const Quoter q = quote();
    const auto rows = query(
        "INSERT INTO platform_resources (id, task_id, platform, resource_type, "
        "platform_resource_id, definition, status, metadata, created_at, updated_at) VALUES (" +
        q.text(r.id) + "," + q.text(r.task_id) + "," + q.text(r.platform) + "," +
        q.text(r.resource_type) + "," + q.text(r.platform_resource_id) + "," +
        q.json(r.definition_json) + "," + q.text(r.status) + "," + q.json(r.metadata_json) + "," +
        q.timestamp(r.created_at) + "," + q.timestamp(r.updated_at) +
        ") ON CONFLICT (task_id, platform, platform_resource_id) DO UPDATE SET "
        "resource_type = excluded.resource_type, definition = excluded.definition, "
        "status = excluded.status, metadata = excluded.metadata, "
        "updated_at = excluded.updated_at RETURNING " +
        pg::kResourceColumns);
    return pg::read_resource(rows[0]);
  }

  void insert_log(const TaskLogRecord& entry) override {
    write(pg::insert_log(quote(), entry), "task_logs", entry.id);
  }

  std::vector<std::string> prunable_tasks(std::string_view cutoff) override {
    std::vector<std::string> ids;
    for (const auto& row :
         query("SELECT id FROM tasks WHERE current_state IN ('COMPLETED', 'CANCELLED') AND "
               "updated_at < " +
               quote().timestamp(cutoff) + " ORDER BY updated_at, id")) {
      ids.emplace_back(row[0].c_str());
    }
    return ids;
  }

  void delete_task(std::string_view task_id) override {
    const std::string key(task_id);
    tasks_.erase(key);
    events_.erase(key);
    read_versions_.erase(key);
    task_updates_.erase(key);
    locked_.erase(key);
    const std::string id = quote().text(task_id);
    std::string sql = std::string(kPostgresPruneExemption) + ";";
    for (const char* table : {"state_transitions", "approval_requests", "executions",
                              "platform_resources", "task_logs", "cost_records"}) {
      sql += std::string("DELETE FROM ") + table + " WHERE task_id = " + id + ";";
    }
    // children before parents: the lineage's parent_id references stay satisfied
    sql += "DELETE FROM artifacts WHERE task_id = " + id + " AND parent_id IS NOT NULL;";
    sql += "DELETE FROM artifacts WHERE task_id = " + id + ";";
    sql += "DELETE FROM tasks WHERE id = " + id + ";";  // audit_events.task_id: SET NULL
    sql += "RESET aadap.prune;";
    write(std::move(sql));
  }

  void notify_decision(std::string_view request_id) override {
    // Delivered by the server when (and only if) this transaction commits.
    write("SELECT pg_notify('aadap_approvals', " + quote().text(request_id) + ");");
  }

  void commit() override {
    // The common case, a transition read optimistically: one statement in autocommit, one
    // round trip, no BEGIN and no row lock.
    if (!task_updates_.empty() && !begun_ && pending_.empty()) {
      return finish([&](pqxx::nontransaction& tx) { exec_transitions(tx); });
    }
    write_transitions();
    const std::string batch = take_pending() + "COMMIT";
    finish([&](pqxx::nontransaction& tx) { tx.exec(batch); });
  }

 private:
  static constexpr const char* kSummaryColumns = ", entry_counts::text, last_seq";

  Quoter quote() const { return Quoter(*connection_->connection); }

  std::optional<TaskRecord> cached(const std::string& id) const {
    const auto found = tasks_.find(id);
    if (found == tasks_.end()) return std::nullopt;
    return found->second;
  }

  /// Reads the tasks of `quoted_ids` with the event summary their rows carry, in id order
  /// (concurrent batches never deadlock), locking them when `lock`. One round trip.
  void load(const std::string& quoted_ids, bool lock) {
    const std::string sql = std::string("SELECT ") + pg::kTaskColumns + kSummaryColumns +
                            " FROM tasks WHERE id IN (" + quoted_ids + ") ORDER BY id" +
                            (lock ? " FOR UPDATE" : "");
    if (lock || begun_ || !pending_.empty()) {
      remember(query(sql), lock);
    } else {
      remember(run([&](pqxx::nontransaction& tx) { return tx.exec(sql); }), false);
    }
  }

  /// Caches rows read by load(). A row this transaction had already read keeps its cached
  /// copy (which carries the transaction's own changes); locking it now only confirms that
  /// nobody changed it since the unlocked read.
  void remember(const pqxx::result& rows, bool locked) {
    for (const auto& row : rows) {
      auto task = pg::read_task(row);
      if (locked) locked_.insert(task.id);
      const auto known = read_versions_.find(task.id);
      if (known != read_versions_.end()) {
        if (known->second != task.version) {
          changed_meanwhile("task " + task.id + " changed after this transaction read it");
        }
        continue;
      }
      EventCounts counts;
      const auto entries = nlohmann::json::parse(row[16].c_str());
      for (auto entry = entries.begin(); entry != entries.end(); ++entry) {
        counts.entries[entry.key()] = entry.value().get<std::int64_t>();
      }
      counts.last_seq = row[17].as<long long>();
      read_versions_[task.id] = task.version;
      events_[task.id] = std::move(counts);
      tasks_[task.id] = std::move(task);
    }
  }

  /// Runs the statement that commits; a link broken on the way leaves the commit in doubt,
  /// settled by resolve_in_doubt().
  template <class Exec>
  void finish(Exec&& exec) {
    try {
      pqxx::nontransaction tx(*connection_->connection);
      exec(tx);
      done_ = true;
    } catch (const pqxx::broken_connection& error) {
      connection_->broken = true;
      done_ = true;
      resolve_in_doubt(error);
    } catch (const pqxx::failure&) {
      server_failed();
    }
  }

  /// Sends the queued transitions (task updates with their events and audit rows) inside the
  /// transaction, after the writes queued before them.
  void write_transitions() {
    if (task_updates_.empty()) return;
    if (!begun_ || !pending_.empty()) {
      const std::string batch = begin_prefix() + std::exchange(pending_, {});
      run([&](pqxx::nontransaction& tx) { return tx.exec(batch); });
    }
    run([&](pqxx::nontransaction& tx) { return exec_transitions(tx); });
  }

  /// kTransitionsStatement for everything queued in task_updates_, events_rows_, audit_rows_;
  /// kTransitionStatement when that is one transition.
  pqxx::result exec_transitions(pqxx::nontransaction& tx) {
    if (task_updates_.size() == 1 && events_rows_.size() == 1 && audit_rows_.size() == 1) {
      return exec_one_transition(tx);
    }
    std::array<pg::ArrayLiteral, 28> p;
    for (const auto& [id, u] : task_updates_) {
      const auto& counts = events_[id];  // kept current by insert_transition
      p[0].add(id);
      p[1].add(expected_version(id));
      p[2].add(u.state);
      p[3].add(u.version);
      p[4].add(u.retry_count);
      p[5].add(u.updated_at);
      p[6].add(counts.last_seq);
      p[7].add(entries_json(counts));
    }
    for (const auto& e : events_rows_) {
      p[8].add(e.id);
      p[9].add(e.task_id);
      p[10].add(e.seq);
      p[11].add(e.from_state);
      p[12].add(e.to_state);
      p[13].add(e.actor);
      p[14].add(e.reason);
      p[15].add(e.metadata_json);
      p[16].add(e.correlation_id);
      p[17].add(e.created_at);
    }
    for (const auto& a : audit_rows_) {
      p[18].add(a.id);
      p[19].add(a.correlation_id);
      p[20].add(a.task_id);
      p[21].add(a.event_type);
      p[22].add(a.actor);
      p[23].add(a.action);
      p[24].add(a.resource_type);
      p[25].add(a.resource_id);
      p[26].add(a.details_json);
      p[27].add(a.created_at);
    }
    task_updates_.clear();
    events_rows_.clear();
    audit_rows_.clear();
    std::array<std::string, 28> v;
    for (std::size_t i = 0; i < p.size(); ++i) v[i] = std::move(p[i]).text();
    const std::string statement = connection_->prepared("transitions", pg::kTransitionsStatement);
    return tx.exec_prepared(statement, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9],
                            v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17], v[18], v[19],
                            v[20], v[21], v[22], v[23], v[24], v[25], v[26], v[27]);
  }

  pqxx::result exec_one_transition(pqxx::nontransaction& tx) {
    const auto [id, u] = *task_updates_.begin();
    const TransitionRecord e = std::move(events_rows_.front());
    const AuditRecord a = std::move(audit_rows_.front());
    task_updates_.clear();
    events_rows_.clear();
    audit_rows_.clear();
    const auto& counts = events_[id];
    const std::string entries = entries_json(counts);
    const auto nullable = [](const std::optional<std::string>& value) {
      return value ? pg::storable(*value).c_str() : nullptr;
    };
    using pg::storable;
    const std::string statement = connection_->prepared("transition", pg::kTransitionStatement);
    auto result = tx.exec_prepared(
        statement, storable(id), expected_version(id), storable(u.state), u.version, u.retry_count,
        storable(u.updated_at), counts.last_seq, entries, storable(e.id), storable(e.task_id),
        e.seq, storable(e.from_state), storable(e.to_state), storable(e.actor), storable(e.reason),
        storable(e.metadata_json), nullable(e.correlation_id), storable(e.created_at),
        storable(a.id), nullable(a.correlation_id), nullable(a.task_id), storable(a.event_type),
        storable(a.actor), storable(a.action), nullable(a.resource_type), nullable(a.resource_id),
        storable(a.details_json), storable(a.created_at));
    if (result[0][0].as<long long>() != 1) {  // nothing was written
      changed_meanwhile("task " + id + " changed after this transaction read it");
    }
    return result;
  }

  std::int64_t expected_version(const std::string& id) const {
    const auto found = read_versions_.find(id);
    if (found == read_versions_.end()) {
      throw StoreError("task " + id + " is updated by a transaction that did not read it first");
    }
    return found->second;
  }

  std::string begin_prefix() {
    if (begun_) return {};
    begun_ = true;
    return "BEGIN;";
  }

  /// Queues a write; it reaches the server with the next read or the commit.
  void write(std::string sql, const char* table = nullptr, const std::string& id = {}) {
    if (table != nullptr) mark(table, id);
    pending_ += sql;
    if (pending_.back() != ';') pending_ += ';';
  }

  /// Remembers the transaction's first inserted row, to settle a commit left in doubt.
  void mark(const char* table, const std::string& id) {
    if (!marker_) marker_ = std::make_pair(std::string(table), id);
  }

  /// Everything queued but the transitions, as SQL: the writes in order, then events and
  /// audit rows written without a task update, as one multi-row statement each.
  std::string take_pending() {
    const Quoter q = quote();
    std::string sql = begin_prefix();
    sql += pending_;
    pending_.clear();
    auto rows = [&](const char* head, auto& records, auto values) {
      if (records.empty()) return;
      sql += head;
      for (std::size_t i = 0; i < records.size(); ++i) {
        if (i > 0) sql += ',';
        sql += values(q, records[i]);
      }
      sql += ';';
      records.clear();
    };
    rows(pg::kInsertTransitions, events_rows_, pg::transition_values);
    rows(pg::kInsertAudits, audit_rows_, pg::audit_values);
    return sql;
  }

  /// Runs `exec` on this transaction's connection, mapping broken links and server errors.
  template <class Exec>
  pqxx::result run(Exec&& exec) {
    try {
      pqxx::nontransaction tx(*connection_->connection);
      return exec(tx);
    } catch (const pqxx::broken_connection& error) {
      connection_->broken = true;
      not_committed(error);
    } catch (const pqxx::failure&) {
      server_failed();
    }
  }

  /// The queued writes and `sql` (in one round trip unless transitions are queued); returns
  /// the result of `sql`.
  pqxx::result query(const std::string& sql) {
    write_transitions();
    const std::string batch = take_pending() + sql;
    return run([&](pqxx::nontransaction& tx) { return tx.exec(batch); });
  }

  std::string lineage(std::string_view artifact_id) {
    return "WITH RECURSIVE up (id, parent_id) AS (SELECT id, parent_id FROM artifacts WHERE id = " +
           quote().text(artifact_id) +
           " UNION ALL SELECT a.id, a.parent_id FROM artifacts a JOIN up ON a.id = up.parent_id"
           "), lineage (id) AS (SELECT id FROM up WHERE parent_id IS NULL UNION ALL SELECT a.id "
           "FROM artifacts a JOIN lineage ON a.parent_id = lineage.id)";
  }

  /// The link broke while COMMIT was on its way: look for this transaction's first row on a
  /// new connection to learn whether it committed.
  void resolve_in_doubt(const std::exception& error) {
    if (!marker_) {
      throw StoreError(
          "the connection to PostgreSQL broke during COMMIT; whether it committed "
          "is unknown: " +
              clean(error.what()),
          {{"in_doubt", true}});
    }
    const auto [table, id] = *marker_;
    store_.release(std::move(connection_));  // broken; frees its pool slot for the check
    const bool committed = store_.read([&](pqxx::nontransaction& tx, Connection& c) {
      return !tx.exec("SELECT 1 FROM " + table + " WHERE id = " + Quoter(*c.connection).text(id))
                  .empty();
    });
    logger().warning("store.commit_in_doubt", "", log::kv("committed", committed),
                     log::kv("table", table));
    if (!committed) not_committed(error);
  }

  PostgresStore& store_;
  std::unique_ptr<Connection> connection_;
  ReadMode reads_;
  std::string pending_;
  std::vector<TransitionRecord> events_rows_;
  std::map<std::string, TaskUpdate> task_updates_;
  std::vector<AuditRecord> audit_rows_;
  bool begun_ = false;
  bool done_ = false;
  std::optional<std::pair<std::string, std::string>> marker_;
  std::unordered_map<std::string, EventCounts> events_;
  std::unordered_map<std::string, TaskRecord> tasks_;            // rows read, kept current
  std::unordered_map<std::string, std::int64_t> read_versions_;  // as first read: updates
                                                                 // expect them
  std::unordered_set<std::string> locked_;
};

std::unique_ptr<StoreTransaction> PostgresStore::begin(ReadMode reads) {
  return std::make_unique<Transaction>(*this, reads);
}

// ---- reads (prepared statements) --------------------------------------------------------

namespace {

template <class Record, class Reader>
std::vector<Record> all(const pqxx::result& rows, Reader reader) {
  std::vector<Record> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(reader(row));
  return out;
}

}  // namespace

std::optional<TaskRecord> PostgresStore::get_task(std::string_view id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) -> std::optional<TaskRecord> {
    const auto rows =
        tx.exec_prepared(c.prepared("get_task", std::string("SELECT ") + pg::kTaskColumns +
                                                    " FROM tasks WHERE id = $1"),
                         std::string(id));
    if (rows.empty()) return std::nullopt;
    return pg::read_task(rows[0]);
  });
}

std::vector<TaskRecord> PostgresStore::list_tasks(const TaskQuery& query) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    const Quoter q(*c.connection);
    // Only whitelisted identifiers reach the SQL text; every value is quoted by libpq.
    std::string sql = std::string("SELECT ") + pg::kTaskColumns + " FROM tasks WHERE true";
    if (!query.states.empty()) {
      std::string list;
      for (const auto& s : query.states) list.append(list.empty() ? "" : ",").append(q.text(s));
      sql += " AND current_state IN (" + list + ")";
    }
    if (query.environment) sql += " AND environment = " + q.text(*query.environment);
    if (query.platform) sql += " AND platform = " + q.text(*query.platform);
    if (query.min_priority) sql += " AND priority >= " + std::to_string(*query.min_priority);
    if (query.max_priority) sql += " AND priority <= " + std::to_string(*query.max_priority);
    if (query.created_after) sql += " AND created_at >= " + q.timestamp(*query.created_after);
    if (query.created_before) sql += " AND created_at < " + q.timestamp(*query.created_before);
    const std::string direction = query.descending ? " DESC" : " ASC";
    sql += " ORDER BY " + query.order_by + direction + ", id" + direction;
    sql += " LIMIT " + std::to_string(query.limit) + " OFFSET " + std::to_string(query.offset);
    return all<TaskRecord>(tx.exec(sql), pg::read_task);
  });
}

std::vector<TransitionRecord> PostgresStore::history(std::string_view task_id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<TransitionRecord>(
        tx.exec_prepared(c.prepared("history", std::string("SELECT ") + pg::kTransitionColumns +
                                                   " FROM state_transitions WHERE task_id = $1 "
                                                   "ORDER BY seq"),
                         std::string(task_id)),
        pg::read_transition);
  });
}

std::vector<AuditRecord> PostgresStore::audit(std::string_view task_id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    // Ids are time-ordered (UUIDv7): id order is write order, like SQLite's rowid.
    return all<AuditRecord>(
        tx.exec_prepared(c.prepared("audit", std::string("SELECT ") + pg::kAuditColumns +
                                                 " FROM audit_events WHERE $1 = '' OR "
                                                 "task_id = $1 ORDER BY created_at, id"),
                         std::string(task_id)),
        pg::read_audit);
  });
}

std::optional<ArtifactRecord> PostgresStore::get_artifact(std::string_view id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) -> std::optional<ArtifactRecord> {
    const auto rows =
        tx.exec_prepared(c.prepared("get_artifact", std::string("SELECT ") + pg::kArtifactColumns +
                                                        " FROM artifacts WHERE id = $1"),
                         std::string(id));
    if (rows.empty()) return std::nullopt;
    return pg::read_artifact(rows[0]);
  });
}

std::vector<ArtifactRecord> PostgresStore::artifacts(std::string_view task_id,
                                                     const std::optional<std::string>& type) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<ArtifactRecord>(
        tx.exec_prepared(c.prepared("artifacts", std::string("SELECT ") + pg::kArtifactColumns +
                                                     " FROM artifacts WHERE task_id = $1 AND "
                                                     "($2::text IS NULL OR artifact_type = $2) "
                                                     "ORDER BY created_at, id"),
                         std::string(task_id), type ? type->c_str() : nullptr),
        pg::read_artifact);
  });
}

std::optional<ApprovalRecord> PostgresStore::get_approval(std::string_view id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) -> std::optional<ApprovalRecord> {
    const auto rows =
        tx.exec_prepared(c.prepared("get_approval", std::string("SELECT ") + pg::kApprovalColumns +
                                                        " FROM approval_requests WHERE id = $1"),
                         std::string(id));
    if (rows.empty()) return std::nullopt;
    return pg::read_approval(rows[0]);
  });
}

std::vector<ApprovalRecord> PostgresStore::approvals(std::string_view task_id,
                                                     const std::optional<std::string>& status) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<ApprovalRecord>(
        tx.exec_prepared(
            c.prepared("approvals", std::string("SELECT ") + pg::kApprovalColumns +
                                        " FROM approval_requests WHERE ($1 = '' OR task_id = $1) "
                                        "AND ($2::text IS NULL OR status = $2) "
                                        "ORDER BY created_at, id"),
            std::string(task_id), status ? status->c_str() : nullptr),
        pg::read_approval);
  });
}

std::vector<ExecutionRecord> PostgresStore::executions(std::string_view task_id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<ExecutionRecord>(
        tx.exec_prepared(c.prepared("executions", std::string("SELECT ") + pg::kExecutionColumns +
                                                      " FROM executions WHERE task_id = $1 "
                                                      "ORDER BY created_at, id"),
                         std::string(task_id)),
        pg::read_execution);
  });
}

std::vector<CostRecord> PostgresStore::costs(std::string_view task_id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<CostRecord>(
        tx.exec_prepared(c.prepared("costs", std::string("SELECT ") + pg::kCostColumns +
                                                 " FROM cost_records WHERE task_id = $1 "
                                                 "ORDER BY created_at, id"),
                         std::string(task_id)),
        pg::read_cost);
  });
}

std::vector<ResourceRecord> PostgresStore::resources(std::string_view task_id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<ResourceRecord>(
        tx.exec_prepared(c.prepared("resources", std::string("SELECT ") + pg::kResourceColumns +
                                                     " FROM platform_resources WHERE task_id = "
                                                     "$1 ORDER BY created_at, id"),
                         std::string(task_id)),
        pg::read_resource);
  });
}

std::vector<TaskLogRecord> PostgresStore::logs(std::string_view task_id) {
  return read([&](pqxx::nontransaction& tx, Connection& c) {
    return all<TaskLogRecord>(
        tx.exec_prepared(c.prepared("logs", std::string("SELECT ") + pg::kTaskLogColumns +
                                                " FROM task_logs WHERE task_id = $1 "
                                                "ORDER BY created_at, id"),
                         std::string(task_id)),
        pg::read_task_log);
  });
}

namespace {

/// Collects the payloads of the approval channel.
class DecisionListener final : public pqxx::notification_receiver {
 public:
  DecisionListener(pqxx::connection& connection, std::string request_id)
      : pqxx::notification_receiver(connection, "aadap_approvals"),
        request_id_(std::move(request_id)) {}
  void operator()(const std::string& payload, int /*backend_pid*/) override {
    decided_ = decided_ || payload == request_id_;
  }
  bool decided() const noexcept { return decided_; }

 private:
  std::string request_id_;
  bool decided_ = false;
};

}  // namespace

void PostgresStore::await_decision(std::string_view request_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  try {
    pqxx::connection connection(conninfo_);
    DecisionListener listener(connection, std::string(request_id));  // LISTEN, then look
    {
      pqxx::nontransaction tx(connection);
      const auto rows = tx.exec("SELECT status FROM approval_requests WHERE id = " +
                                tx.quote(std::string(request_id)));
      if (rows.empty() || std::string(rows[0][0].c_str()) != "PENDING") return;
    }
    while (!listener.decided()) {
      const auto left = std::chrono::duration_cast<std::chrono::microseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      connection.await_notification(static_cast<long>(left.count() / 1'000'000),
                                    static_cast<long>(left.count() % 1'000'000));
    }
  } catch (const pqxx::broken_connection& error) {
    throw StoreUnavailableError(
        "lost PostgreSQL while waiting for a decision: " + clean(error.what()),
        {{"retryable", true}});
  }
}

}  // namespace aadap::store
