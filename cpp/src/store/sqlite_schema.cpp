#include "aadap/store/sqlite_schema.hpp"

#include "aadap/core/errors.hpp"

#include <string>
#include <vector>

namespace aadap::store {

namespace {

struct Migration {
  int version;
  const char* name;
  std::string sql;
};

// Timestamps are ISO-8601 UTC text with milliseconds and a Z; JSON columns are validated
// objects; the event tables (state_transitions, audit_events) and artifacts reject UPDATE and
// DELETE in the database itself.
constexpr const char* kInitialSchema = R"sql(
CREATE TABLE tasks (
  id               TEXT PRIMARY KEY,
  title            TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 512),
  description      TEXT NOT NULL DEFAULT '',
  -- Not "IN (<25 names>)": SQLite builds a temporary index for a long IN list on every
  -- evaluation, which was half the cost of a transition's UPDATE. A search in one string
  -- (names never contain '|') checks the same set at a fraction of the cost.
  current_state    TEXT NOT NULL DEFAULT 'SUBMITTED' CHECK (instr(current_state, '|') = 0 AND
                     instr('|SUBMITTED|PARSING|PARSED|PARSE_FAILED|PLANNING|PLANNED|' ||
                           'AGENT_ASSIGNMENT|AGENT_ASSIGNED|IN_DEVELOPMENT|CODE_GENERATED|' ||
                           'DEV_FAILED|IN_VALIDATION|VALIDATION_PASSED|VALIDATION_FAILED|' ||
                           'OPTIMIZATION_PENDING|IN_OPTIMIZATION|OPTIMIZED|APPROVAL_PENDING|' ||
                           'IN_REVIEW|APPROVED|REJECTED|DEPLOYING|DEPLOYED|COMPLETED|CANCELLED|',
                           '|' || current_state || '|') > 0),
  priority         INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 10),
  environment      TEXT NOT NULL DEFAULT 'SANDBOX' CHECK (environment IN ('SANDBOX','PRODUCTION')),
  platform         TEXT CHECK (platform IN ('databricks','fabric','local')),
  language         TEXT CHECK (language IN ('sql','python','scala')),
  created_by       TEXT NOT NULL DEFAULT '',
  token_budget     INTEGER NOT NULL DEFAULT 50000 CHECK (token_budget >= 1),
  tokens_used      INTEGER NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
  retry_count      INTEGER NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  version          INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0),
  metadata         TEXT NOT NULL DEFAULT '{}'
                     CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX tasks_current_state ON tasks (current_state);
CREATE INDEX tasks_priority ON tasks (priority);
CREATE INDEX tasks_created_at ON tasks (created_at);

CREATE TABLE state_transitions (
  id               TEXT PRIMARY KEY,
  task_id          TEXT NOT NULL REFERENCES tasks (id),
  seq              INTEGER NOT NULL CHECK (seq >= 1),
  from_state       TEXT NOT NULL,
  to_state         TEXT NOT NULL,
  actor            TEXT NOT NULL,
  reason           TEXT NOT NULL DEFAULT '',
  metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  correlation_id   TEXT,
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (task_id, seq)
);

CREATE TABLE artifacts (
  id               TEXT PRIMARY KEY,
  task_id          TEXT NOT NULL REFERENCES tasks (id),
  artifact_type    TEXT NOT NULL,
  name             TEXT NOT NULL,
  content          TEXT NOT NULL,
  content_hash     TEXT NOT NULL CHECK (length(content_hash) = 64),
  storage_uri      TEXT,
  version          INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
  parent_id        TEXT REFERENCES artifacts (id),
  edit_message     TEXT,
  metadata         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX artifacts_task ON artifacts (task_id, artifact_type);

CREATE TABLE approval_requests (
  id                       TEXT PRIMARY KEY,
  task_id                  TEXT NOT NULL REFERENCES tasks (id),
  operation_type           TEXT NOT NULL,
  environment              TEXT NOT NULL CHECK (environment IN ('SANDBOX','PRODUCTION')),
  status                   TEXT NOT NULL DEFAULT 'PENDING'
                             CHECK (status IN ('PENDING','APPROVED','REJECTED','EXPIRED','ESCALATED')),
  requested_by             TEXT NOT NULL,
  decided_by               TEXT,
  decision_reason          TEXT,
  risk_level               TEXT NOT NULL DEFAULT 'NONE'
                             CHECK (risk_level IN ('NONE','LOW','MEDIUM','HIGH','CRITICAL')),
  artifact_id              TEXT REFERENCES artifacts (id),
  artifact_hash            TEXT,
  explanation_artifact_id  TEXT REFERENCES artifacts (id),
  metadata                 TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at               TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  decided_at               TEXT,
  expires_at               TEXT
);
CREATE INDEX approval_requests_task ON approval_requests (task_id);
CREATE INDEX approval_requests_pending ON approval_requests (status, expires_at);

CREATE TABLE executions (
  id                TEXT PRIMARY KEY,
  task_id           TEXT NOT NULL REFERENCES tasks (id),
  environment       TEXT NOT NULL CHECK (environment IN ('SANDBOX','PRODUCTION')),
  platform          TEXT,
  status            TEXT NOT NULL DEFAULT 'PENDING'
                      CHECK (status IN ('PENDING','RUNNING','SUCCESS','FAILED','CANCELLED')),
  code_artifact_id  TEXT REFERENCES artifacts (id),
  output            TEXT,
  error             TEXT,
  duration_ms       INTEGER,
  metadata          TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  started_at        TEXT,
  completed_at      TEXT,
  created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX executions_task ON executions (task_id);

CREATE TABLE audit_events (
  id              TEXT PRIMARY KEY,
  correlation_id  TEXT,
  task_id         TEXT REFERENCES tasks (id) ON DELETE SET NULL,
  event_type      TEXT NOT NULL,
  actor           TEXT NOT NULL,
  action          TEXT NOT NULL DEFAULT '',
  resource_type   TEXT,
  resource_id     TEXT,
  details         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX audit_events_task ON audit_events (task_id, created_at);
CREATE INDEX audit_events_type ON audit_events (event_type, created_at);

CREATE TABLE platform_resources (
  id                    TEXT PRIMARY KEY,
  task_id               TEXT NOT NULL REFERENCES tasks (id),
  platform              TEXT NOT NULL CHECK (platform IN ('databricks','fabric')),
  resource_type         TEXT NOT NULL
                          CHECK (resource_type IN ('pipeline','job','table','notebook','shortcut')),
  platform_resource_id  TEXT NOT NULL,
  definition            TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(definition)),
  status                TEXT NOT NULL DEFAULT 'CREATED'
                          CHECK (status IN ('CREATED','QUEUED','RUNNING','COMPLETED','FAILED')),
  metadata              TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
  created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  UNIQUE (task_id, platform, platform_resource_id)
);

CREATE TABLE task_logs (
  id              TEXT PRIMARY KEY,
  task_id         TEXT NOT NULL REFERENCES tasks (id),
  level           TEXT NOT NULL,
  message         TEXT NOT NULL,
  correlation_id  TEXT,
  source          TEXT,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX task_logs_task ON task_logs (task_id, created_at);

CREATE TABLE cost_records (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL REFERENCES tasks (id),
  agent_type  TEXT,
  tokens_in   INTEGER NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
  tokens_out  INTEGER NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
  cost_usd    REAL NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX cost_records_task ON cost_records (task_id);

CREATE TABLE vector_memories (
  name               TEXT PRIMARY KEY,
  dimension          INTEGER NOT NULL CHECK (dimension BETWEEN 1 AND 8192),
  embedder_provider  TEXT NOT NULL,
  embedder_model     TEXT NOT NULL,
  created_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE memory_entities (
  id                    TEXT PRIMARY KEY,
  memory_name           TEXT NOT NULL REFERENCES vector_memories (name),
  content               TEXT NOT NULL,
  embedding             BLOB NOT NULL,
  entity_type           TEXT NOT NULL,
  provenance            TEXT NOT NULL CHECK (length(trim(provenance)) > 0),
  confidence            REAL NOT NULL DEFAULT 1.0 CHECK (confidence BETWEEN 0 AND 1),
  use_count             INTEGER NOT NULL DEFAULT 0 CHECK (use_count >= 0),
  validation_pass_rate  REAL NOT NULL DEFAULT 1.0 CHECK (validation_pass_rate BETWEEN 0 AND 1),
  validation_failures   INTEGER NOT NULL DEFAULT 0 CHECK (validation_failures >= 0),
  critical_failure_at   TEXT,
  is_deprecated         INTEGER NOT NULL DEFAULT 0 CHECK (is_deprecated IN (0, 1)),
  metadata              TEXT NOT NULL DEFAULT '{}'
                          CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX memory_entities_memory ON memory_entities (memory_name, updated_at);

CREATE TRIGGER state_transitions_append_only_update BEFORE UPDATE ON state_transitions
BEGIN SELECT RAISE(ABORT, 'state_transitions is append-only'); END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER tasks_environment_immutable BEFORE UPDATE OF environment ON tasks
WHEN NEW.environment IS NOT OLD.environment
BEGIN SELECT RAISE(ABORT, 'a task''s environment is fixed at creation (INV-05)'); END;
CREATE TRIGGER artifacts_immutable BEFORE UPDATE ON artifacts
BEGIN SELECT RAISE(ABORT, 'artifacts are immutable: add a new version instead'); END;
CREATE INDEX artifacts_parent ON artifacts (parent_id);
)sql";

// The two append-only rules prune must pass (deleting a task's events; audit_events.task_id
// set to null by ON DELETE SET NULL). Part of the initial schema; see prune_exemption_sql().
constexpr const char* kPruneGuardedTriggers = R"sql(
CREATE TRIGGER state_transitions_append_only_delete BEFORE DELETE ON state_transitions
BEGIN SELECT RAISE(ABORT, 'state_transitions is append-only'); END;
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
)sql";

// Entity ids are scoped by their memory (the same id in two memories names two entities: an
// upsert into one must never move a row out of the other), and each row says which vector it
// holds without reading the vector (embedding_digest, store/embedding_digest.hpp; NULL for
// rows written before). SQLite cannot change a primary key in place: the table is rebuilt,
// rowids (the order entities were first written in) kept, and the embedding goes last, so
// reading the other columns never walks a row's overflow pages.
constexpr const char* kEntityKeyAndDigest = R"sql(
CREATE TABLE memory_entities_rebuilt (
  id                    TEXT NOT NULL,
  memory_name           TEXT NOT NULL REFERENCES vector_memories (name),
  content               TEXT NOT NULL,
  entity_type           TEXT NOT NULL,
  provenance            TEXT NOT NULL CHECK (length(trim(provenance)) > 0),
  confidence            REAL NOT NULL DEFAULT 1.0 CHECK (confidence BETWEEN 0 AND 1),
  use_count             INTEGER NOT NULL DEFAULT 0 CHECK (use_count >= 0),
  validation_pass_rate  REAL NOT NULL DEFAULT 1.0 CHECK (validation_pass_rate BETWEEN 0 AND 1),
  validation_failures   INTEGER NOT NULL DEFAULT 0 CHECK (validation_failures >= 0),
  critical_failure_at   TEXT,
  is_deprecated         INTEGER NOT NULL DEFAULT 0 CHECK (is_deprecated IN (0, 1)),
  metadata              TEXT NOT NULL DEFAULT '{}'
                          CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  embedding_digest      INTEGER,
  embedding             BLOB NOT NULL,
  PRIMARY KEY (memory_name, id)
);
INSERT INTO memory_entities_rebuilt (rowid, id, memory_name, content, embedding, entity_type,
  provenance, confidence, use_count, validation_pass_rate, validation_failures,
  critical_failure_at, is_deprecated, metadata, created_at, updated_at)
SELECT rowid, id, memory_name, content, embedding, entity_type, provenance, confidence,
  use_count, validation_pass_rate, validation_failures, critical_failure_at, is_deprecated,
  metadata, created_at, updated_at FROM memory_entities;
DROP TABLE memory_entities;
ALTER TABLE memory_entities_rebuilt RENAME TO memory_entities;
CREATE INDEX memory_entities_memory ON memory_entities (memory_name, updated_at);
)sql";

// A memory's rows in the order they were first written (an index on memory_name alone keeps
// equal names in rowid order), read without scanning the rows of every other memory.
constexpr const char* kEntitiesByMemory = R"sql(
CREATE INDEX memory_entities_by_memory ON memory_entities (memory_name);
)sql";

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {1, "initial schema", std::string(kInitialSchema) + kPruneGuardedTriggers},
      {2, "memory entity ids per memory, embedding digests", kEntityKeyAndDigest},
      {3, "memory entities in write order per memory", kEntitiesByMemory}};
  return list;
}

int current_version(SqliteDatabase& db) {
  return static_cast<int>(db.scalar("SELECT coalesce(max(version), 0) FROM schema_migrations"));
}

}  // namespace

PruneExemption prune_exemption_sql() {
  return {
      "DROP TRIGGER state_transitions_append_only_delete; "
      "DROP TRIGGER audit_events_append_only_update;",
      kPruneGuardedTriggers};
}

int sqlite_schema_version() noexcept {
  return migrations().back().version;
}

int apply_sqlite_migrations(SqliteDatabase& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
      "NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))");
  for (const auto& migration : migrations()) {
    if (current_version(db) >= migration.version) continue;
    SqliteTransaction transaction(db);
    if (current_version(db) >= migration.version) continue;  // another process was first
    db.exec(migration.sql);
    db.prepare("INSERT INTO schema_migrations (version, name) VALUES (?1, ?2)")
        .bind(1, std::int64_t{migration.version})
        .bind(2, migration.name)
        .run();
    transaction.commit();
  }
  const int version = current_version(db);
  if (version > sqlite_schema_version()) {
    throw StoreError("the database " + db.path() + " has schema version " +
                         std::to_string(version) + ", newer than this aadap understands (" +
                         std::to_string(sqlite_schema_version()) + "): upgrade aadap",
                     {{"schema_version", version}});
  }
  return version;
}

}  // namespace aadap::store
