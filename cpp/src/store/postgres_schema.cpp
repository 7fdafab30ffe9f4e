#include "aadap/store/postgres_schema.hpp"

#include "aadap/core/errors.hpp"

#include <string>
#include <vector>

namespace aadap::store {

namespace {

// Timestamps are timestamptz (written as ISO-8601 UTC text, read back through aadap_iso() in
// the same form as SQLite's); JSON columns are jsonb objects. Ids are text holding UUIDs, so a
// lookup with any string is "not found" rather than a type error, as on SQLite.
constexpr const char* kInitialSchema = R"sql(
CREATE FUNCTION aadap_iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;

CREATE TABLE tasks (
  id               text PRIMARY KEY,
  title            text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 512),
  description      text NOT NULL DEFAULT '',
  current_state    text NOT NULL DEFAULT 'SUBMITTED' CHECK (current_state IN (
                     'SUBMITTED','PARSING','PARSED','PARSE_FAILED','PLANNING','PLANNED',
                     'AGENT_ASSIGNMENT','AGENT_ASSIGNED','IN_DEVELOPMENT','CODE_GENERATED',
                     'DEV_FAILED','IN_VALIDATION','VALIDATION_PASSED','VALIDATION_FAILED',
                     'OPTIMIZATION_PENDING','IN_OPTIMIZATION','OPTIMIZED','APPROVAL_PENDING',
                     'IN_REVIEW','APPROVED','REJECTED','DEPLOYING','DEPLOYED','COMPLETED',
                     'CANCELLED')),
  priority         integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 10),
  environment      text NOT NULL DEFAULT 'SANDBOX' CHECK (environment IN ('SANDBOX','PRODUCTION')),
  platform         text CHECK (platform IN ('databricks','fabric','local')),
  language         text CHECK (language IN ('sql','python','scala')),
  created_by       text NOT NULL DEFAULT '',
  token_budget     bigint NOT NULL DEFAULT 50000 CHECK (token_budget >= 1),
  tokens_used      bigint NOT NULL DEFAULT 0 CHECK (tokens_used >= 0),
  retry_count      bigint NOT NULL DEFAULT 0 CHECK (retry_count >= 0),
  version          bigint NOT NULL DEFAULT 0 CHECK (version >= 0),
  metadata         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_current_state ON tasks (current_state);
CREATE INDEX tasks_priority ON tasks (priority);
CREATE INDEX tasks_created_at ON tasks (created_at);

CREATE TABLE state_transitions (
  id               text PRIMARY KEY,
  task_id          text NOT NULL REFERENCES tasks (id),
  seq              bigint NOT NULL CHECK (seq >= 1),
  from_state       text NOT NULL,
  to_state         text NOT NULL,
  actor            text NOT NULL,
  reason           text NOT NULL DEFAULT '',
  metadata         jsonb NOT NULL DEFAULT '{}',
  correlation_id   text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (task_id, seq)
);

CREATE TABLE artifacts (
  id               text PRIMARY KEY,
  task_id          text NOT NULL REFERENCES tasks (id),
  artifact_type    text NOT NULL,
  name             text NOT NULL,
  content          text NOT NULL,
  content_hash     text NOT NULL CHECK (char_length(content_hash) = 64),
  storage_uri      text,
  version          bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
  parent_id        text REFERENCES artifacts (id),
  edit_message     text,
  metadata         jsonb NOT NULL DEFAULT '{}',
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_task ON artifacts (task_id, artifact_type);
CREATE INDEX artifacts_parent ON artifacts (parent_id);

CREATE TABLE approval_requests (
  id                       text PRIMARY KEY,
  task_id                  text NOT NULL REFERENCES tasks (id),
  operation_type           text NOT NULL,
  environment              text NOT NULL CHECK (environment IN ('SANDBOX','PRODUCTION')),
  status                   text NOT NULL DEFAULT 'PENDING'
                             CHECK (status IN ('PENDING','APPROVED','REJECTED','EXPIRED','ESCALATED')),
  requested_by             text NOT NULL,
  decided_by               text,
  decision_reason          text,
  risk_level               text NOT NULL DEFAULT 'NONE'
                             CHECK (risk_level IN ('NONE','LOW','MEDIUM','HIGH','CRITICAL')),
  artifact_id              text REFERENCES artifacts (id),
  artifact_hash            text,
  explanation_artifact_id  text REFERENCES artifacts (id),
  metadata                 jsonb NOT NULL DEFAULT '{}',
  created_at               timestamptz NOT NULL DEFAULT now(),
  decided_at               timestamptz,
  expires_at               timestamptz
);
CREATE INDEX approval_requests_task ON approval_requests (task_id);
CREATE INDEX approval_requests_pending ON approval_requests (status, expires_at);

CREATE TABLE executions (
  id                text PRIMARY KEY,
  task_id           text NOT NULL REFERENCES tasks (id),
  environment       text NOT NULL CHECK (environment IN ('SANDBOX','PRODUCTION')),
  platform          text,
  status            text NOT NULL DEFAULT 'PENDING'
                      CHECK (status IN ('PENDING','RUNNING','SUCCESS','FAILED','CANCELLED')),
  code_artifact_id  text REFERENCES artifacts (id),
  output            text,
  error             text,
  duration_ms       bigint,
  metadata          jsonb NOT NULL DEFAULT '{}',
  started_at        timestamptz,
  completed_at      timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX executions_task ON executions (task_id);

CREATE TABLE audit_events (
  id              text PRIMARY KEY,
  correlation_id  text,
  task_id         text REFERENCES tasks (id) ON DELETE SET NULL,
  event_type      text NOT NULL,
  actor           text NOT NULL,
  action          text NOT NULL DEFAULT '',
  resource_type   text,
  resource_id     text,
  details         jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_task ON audit_events (task_id, created_at);
CREATE INDEX audit_events_type ON audit_events (event_type, created_at);

CREATE TABLE platform_resources (
  id                    text PRIMARY KEY,
  task_id               text NOT NULL REFERENCES tasks (id),
  platform              text NOT NULL CHECK (platform IN ('databricks','fabric')),
  resource_type         text NOT NULL
                          CHECK (resource_type IN ('pipeline','job','table','notebook','shortcut')),
  platform_resource_id  text NOT NULL,
  definition            jsonb NOT NULL DEFAULT '{}',
  status                text NOT NULL DEFAULT 'CREATED'
                          CHECK (status IN ('CREATED','QUEUED','RUNNING','COMPLETED','FAILED')),
  metadata              jsonb NOT NULL DEFAULT '{}',
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  UNIQUE (task_id, platform, platform_resource_id)
);

CREATE TABLE task_logs (
  id              text PRIMARY KEY,
  task_id         text NOT NULL REFERENCES tasks (id),
  level           text NOT NULL,
  message         text NOT NULL,
  correlation_id  text,
  source          text,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_logs_task ON task_logs (task_id, created_at);

CREATE TABLE cost_records (
  id          text PRIMARY KEY,
  task_id     text NOT NULL REFERENCES tasks (id),
  agent_type  text,
  tokens_in   bigint NOT NULL DEFAULT 0 CHECK (tokens_in >= 0),
  tokens_out  bigint NOT NULL DEFAULT 0 CHECK (tokens_out >= 0),
  cost_usd    double precision NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cost_records_task ON cost_records (task_id);

CREATE TABLE vector_memories (
  name               text PRIMARY KEY,
  dimension          integer NOT NULL CHECK (dimension BETWEEN 1 AND 8192),
  embedder_provider  text NOT NULL,
  embedder_model     text NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memory_entities (
  id                    text PRIMARY KEY,
  memory_name           text NOT NULL REFERENCES vector_memories (name),
  content               text NOT NULL,
  embedding             bytea NOT NULL,
  entity_type           text NOT NULL,
  provenance            text NOT NULL CHECK (char_length(btrim(provenance)) > 0),
  confidence            double precision NOT NULL DEFAULT 1.0 CHECK (confidence BETWEEN 0 AND 1),
  use_count             bigint NOT NULL DEFAULT 0 CHECK (use_count >= 0),
  validation_pass_rate  double precision NOT NULL DEFAULT 1.0
                          CHECK (validation_pass_rate BETWEEN 0 AND 1),
  validation_failures   bigint NOT NULL DEFAULT 0 CHECK (validation_failures >= 0),
  critical_failure_at   timestamptz,
  is_deprecated         boolean NOT NULL DEFAULT false,
  metadata              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX memory_entities_memory ON memory_entities (memory_name, updated_at);

-- Append-only event tables: only prune, inside its own transaction (SET LOCAL aadap.prune),
-- may delete events or null an audit event's task_id.
CREATE FUNCTION aadap_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('aadap.prune', true) = 'on' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER state_transitions_append_only BEFORE UPDATE OR DELETE ON state_transitions
  FOR EACH ROW EXECUTE FUNCTION aadap_append_only();
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION aadap_append_only();
CREATE FUNCTION aadap_audit_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION aadap_audit_never_deleted();

CREATE FUNCTION aadap_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'artifacts are immutable: add a new version instead'
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER artifacts_immutable BEFORE UPDATE ON artifacts
  FOR EACH ROW EXECUTE FUNCTION aadap_immutable();

CREATE FUNCTION aadap_environment_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.environment IS DISTINCT FROM OLD.environment THEN
    RAISE EXCEPTION 'a task''s environment is fixed at creation (INV-05)'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER tasks_environment_immutable BEFORE UPDATE OF environment ON tasks
  FOR EACH ROW EXECUTE FUNCTION aadap_environment_fixed();
)sql";

// Each task row carries its event summary (the last seq and the entries per state), kept in
// the same transaction as the events. Locking the row then hands the guards everything they
// need in the row itself: FOR UPDATE returns the row as the previous writer left it, with no
// second query and no snapshot subtleties (subqueries of a FOR UPDATE statement would see
// the events as of the statement's start). Existing rows are filled from their events.
constexpr const char* kTaskEventSummary = R"sql(
ALTER TABLE tasks ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,
                  ADD COLUMN entry_counts jsonb NOT NULL DEFAULT '{}';
UPDATE tasks t SET
  last_seq = coalesce((SELECT max(e.seq) FROM state_transitions e WHERE e.task_id = t.id), 0),
  entry_counts = coalesce((SELECT jsonb_object_agg(s.to_state, s.n) FROM
                            (SELECT e.to_state, count(*) AS n FROM state_transitions e
                             WHERE e.task_id = t.id GROUP BY e.to_state) s), '{}');
)sql";

// A transaction that read task rows without locking them updates them on condition that their
// version is unchanged; this turns "fewer rows updated than expected" into an error that
// aborts the whole batch (SQLSTATE 40001, which the store reports as a retryable conflict).
constexpr const char* kExpectRows = R"sql(
CREATE FUNCTION aadap_expect_rows(actual bigint, expected bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
  IF actual <> expected THEN
    RAISE EXCEPTION 'a task changed after this transaction read it (% of % rows current)',
      actual, expected USING ERRCODE = 'serialization_failure';
  END IF;
  RETURN actual;
END $$;
)sql";

// The vector memory hands out its entities in the order they were first written, as SQLite's
// rowid does: an identity column, which replacing a row (ON CONFLICT DO UPDATE) leaves alone,
// indexed for reading a memory in pages. Embeddings (float32 vectors) do not compress: they
// are stored out of line without trying.
constexpr const char* kMemoryEntityStorage = R"sql(
ALTER TABLE memory_entities ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX memory_entities_order ON memory_entities (memory_name, seq);
ALTER TABLE memory_entities ALTER COLUMN embedding SET STORAGE EXTERNAL;
)sql";

// Entity ids are scoped by their memory (the same id in two memories names two entities: an
// upsert into one must never move a row out of the other), and each row says which vector it
// holds without reading the vector (embedding_digest, store/embedding_digest.hpp; NULL for
// rows written before).
constexpr const char* kEntityKeyAndDigest = R"sql(
ALTER TABLE memory_entities DROP CONSTRAINT memory_entities_pkey,
  ADD PRIMARY KEY (memory_name, id),
  ADD COLUMN embedding_digest bigint;
)sql";

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> list = {
      {1, "initial schema", kInitialSchema},
      {2, "event summary on the task row", kTaskEventSummary},
      {3, "conditional task updates", kExpectRows},
      {4, "vector memory write order and storage", kMemoryEntityStorage},
      {5, "memory entity ids per memory, embedding digests", kEntityKeyAndDigest},
  };
  return list;
}

// Any constant shared by every aadap process: the advisory lock that serialises migrations.
constexpr long long kMigrationLock = 0x61616461704d4967LL;  // "aadapMIg"

int current_version(pqxx::transaction_base& tx) {
  return tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations").at(0).at(0).as<int>();
}

}  // namespace

int postgres_schema_version() noexcept {
  return migrations().back().version;
}

int apply_postgres_migrations(pqxx::connection& connection) {
  int version = 0;
  {
    pqxx::work tx(connection);
    tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")");
    tx.exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    version = current_version(tx);
    for (const auto& migration : migrations()) {
      if (version >= migration.version) continue;
      tx.exec(migration.sql);
      tx.exec("INSERT INTO schema_migrations (version, name) VALUES (" +
              std::to_string(migration.version) + ", " + tx.quote(migration.name) + ")");
      version = migration.version;
    }
    tx.commit();
  }
  if (version > postgres_schema_version()) {
    throw StoreError("the database has schema version " + std::to_string(version) +
                         ", newer than this aadap understands (" +
                         std::to_string(postgres_schema_version()) + "): upgrade aadap",
                     {{"schema_version", version}});
  }
  return version;
}

}  // namespace aadap::store
