#include "postgres_sql.hpp"

#include "aadap/core/errors.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace aadap::store::pg {

namespace {

std::string text(const pqxx::field& f) {
  return f.is_null() ? std::string() : f.c_str();
}

std::optional<std::string> optional_text(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return std::string(f.c_str());
}

std::int64_t integer(const pqxx::field& f) {
  return f.is_null() ? 0 : f.as<long long>();
}

std::optional<std::int64_t> optional_integer(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<long long>();
}

}  // namespace

// jsonb comes back reformatted (spaces, key order by length); the store hands out the same
// compact, key-sorted text the engine writes, so both backends return identical rows.
std::string canonical_json(const pqxx::field& f) {
  if (f.is_null()) return "{}";
  return nlohmann::json::parse(f.c_str()).dump();
}

const std::string& storable(const std::string& value) {
  if (value.find('\0') != std::string::npos) {
    throw InvalidArgumentError(
        "text values cannot contain NUL bytes (PostgreSQL cannot store them): remove the \\0");
  }
  return value;
}

std::string Quoter::text(std::string_view value) const {
  return "'" + connection_.esc(storable(std::string(value))) + "'";
}

std::string Quoter::text(const std::optional<std::string>& value) const {
  return value ? text(*value) : std::string("NULL");
}

std::string Quoter::timestamp(std::string_view iso) const {
  return text(iso) + "::timestamptz";
}

std::string Quoter::timestamp(const std::optional<std::string>& iso) const {
  return iso ? timestamp(std::string_view(*iso)) : std::string("NULL");
}

std::string Quoter::json(std::string_view json) const {
  return text(json) + "::jsonb";
}

std::string Quoter::number(std::int64_t value) {
  return std::to_string(value);
}

std::string Quoter::number(const std::optional<std::int64_t>& value) {
  return value ? number(*value) : std::string("NULL");
}

std::string Quoter::number(double value) {
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) throw InvalidArgumentError("a number cannot be written to SQL");
  return std::string(buffer, end) + "::double precision";
}

const char* const kTaskColumns =
    "id, title, description, current_state, priority, environment, platform, language, "
    "created_by, token_budget, tokens_used, retry_count, version, metadata::text, "
    "aadap_iso(created_at), aadap_iso(updated_at)";
const char* const kTransitionColumns =
    "id, task_id, seq, from_state, to_state, actor, reason, metadata::text, correlation_id, "
    "aadap_iso(created_at)";
const char* const kAuditColumns =
    "id, correlation_id, task_id, event_type, actor, action, resource_type, resource_id, "
    "details::text, aadap_iso(created_at)";
const char* const kArtifactColumns =
    "id, task_id, artifact_type, name, content, content_hash, storage_uri, version, parent_id, "
    "edit_message, metadata::text, aadap_iso(created_at)";
const char* const kApprovalColumns =
    "id, task_id, operation_type, environment, status, requested_by, decided_by, "
    "decision_reason, risk_level, artifact_id, artifact_hash, explanation_artifact_id, "
    "metadata::text, aadap_iso(created_at), aadap_iso(decided_at), aadap_iso(expires_at)";
const char* const kExecutionColumns =
    "id, task_id, environment, platform, status, code_artifact_id, output, error, duration_ms, "
    "metadata::text, aadap_iso(started_at), aadap_iso(completed_at), aadap_iso(created_at)";
const char* const kCostColumns =
    "id, task_id, agent_type, tokens_in, tokens_out, cost_usd, aadap_iso(created_at)";
const char* const kResourceColumns =
    "id, task_id, platform, resource_type, platform_resource_id, definition::text, status, "
    "metadata::text, aadap_iso(created_at), aadap_iso(updated_at)";
const char* const kTaskLogColumns =
    "id, task_id, level, message, correlation_id, source, aadap_iso(created_at)";

TaskRecord read_task(const pqxx::row& r) {
  return TaskRecord{text(r[0]),
                    text(r[1]),
                    text(r[2]),
                    text(r[3]),
                    static_cast<int>(integer(r[4])),
                    text(r[5]),
                    optional_text(r[6]),
                    optional_text(r[7]),
                    text(r[8]),
                    integer(r[9]),
                    integer(r[10]),
                    integer(r[11]),
                    integer(r[12]),
                    canonical_json(r[13]),
                    text(r[14]),
                    text(r[15])};
}

TransitionRecord read_transition(const pqxx::row& r) {
  return TransitionRecord{text(r[0]),          text(r[1]), integer(r[2]), text(r[3]),
                          text(r[4]),          text(r[5]), text(r[6]),    canonical_json(r[7]),
                          optional_text(r[8]), text(r[9])};
}

AuditRecord read_audit(const pqxx::row& r) {
  return AuditRecord{
      text(r[0]), optional_text(r[1]), optional_text(r[2]), text(r[3]),           text(r[4]),
      text(r[5]), optional_text(r[6]), optional_text(r[7]), canonical_json(r[8]), text(r[9])};
}

ArtifactRecord read_artifact(const pqxx::row& r) {
  return ArtifactRecord{text(r[0]),
                        text(r[1]),
                        text(r[2]),
                        text(r[3]),
                        text(r[4]),
                        text(r[5]),
                        optional_text(r[6]),
                        integer(r[7]),
                        optional_text(r[8]),
                        optional_text(r[9]),
                        canonical_json(r[10]),
                        text(r[11])};
}

ApprovalRecord read_approval(const pqxx::row& r) {
  return ApprovalRecord{text(r[0]),
                        text(r[1]),
                        text(r[2]),
                        text(r[3]),
                        text(r[4]),
                        text(r[5]),
                        optional_text(r[6]),
                        optional_text(r[7]),
                        text(r[8]),
                        optional_text(r[9]),
                        optional_text(r[10]),
                        optional_text(r[11]),
                        canonical_json(r[12]),
                        text(r[13]),
                        optional_text(r[14]),
                        optional_text(r[15])};
}

ExecutionRecord read_execution(const pqxx::row& r) {
  return ExecutionRecord{text(r[0]),           text(r[1]),           text(r[2]),
                         optional_text(r[3]),  text(r[4]),           optional_text(r[5]),
                         optional_text(r[6]),  optional_text(r[7]),  optional_integer(r[8]),
                         canonical_json(r[9]), optional_text(r[10]), optional_text(r[11]),
                         text(r[12])};
}

CostRecord read_cost(const pqxx::row& r) {
  return CostRecord{text(r[0]),    text(r[1]),        optional_text(r[2]), integer(r[3]),
                    integer(r[4]), r[5].as<double>(), text(r[6])};
}

ResourceRecord read_resource(const pqxx::row& r) {
  return ResourceRecord{
      text(r[0]),           text(r[1]), text(r[2]),           text(r[3]), text(r[4]),
      canonical_json(r[5]), text(r[6]), canonical_json(r[7]), text(r[8]), text(r[9])};
}

TaskLogRecord read_task_log(const pqxx::row& r) {
  return TaskLogRecord{text(r[0]),          text(r[1]),          text(r[2]), text(r[3]),
                       optional_text(r[4]), optional_text(r[5]), text(r[6])};
}

std::string insert_task(const Quoter& q, const TaskRecord& t) {
  return "INSERT INTO tasks (id, title, description, current_state, priority, environment, "
         "platform, language, created_by, token_budget, tokens_used, retry_count, version, "
         "metadata, created_at, updated_at) VALUES (" +
         q.text(t.id) + "," + q.text(t.title) + "," + q.text(t.description) + "," +
         q.text(t.current_state) + "," + Quoter::number(std::int64_t{t.priority}) + "," +
         q.text(t.environment) + "," + q.text(t.platform) + "," + q.text(t.language) + "," +
         q.text(t.created_by) + "," + Quoter::number(t.token_budget) + "," +
         Quoter::number(t.tokens_used) + "," + Quoter::number(t.retry_count) + "," +
         Quoter::number(t.version) + "," + q.json(t.metadata_json) + "," +
         q.timestamp(t.created_at) + "," + q.timestamp(t.updated_at) + ");";
}

const char* const kInsertTransitions =
    "INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor, reason, "
    "metadata, correlation_id, created_at) VALUES ";

std::string transition_values(const Quoter& q, const TransitionRecord& e) {
  return "(" + q.text(e.id) + "," + q.text(e.task_id) + "," + Quoter::number(e.seq) + "," +
         q.text(e.from_state) + "," + q.text(e.to_state) + "," + q.text(e.actor) + "," +
         q.text(e.reason) + "," + q.json(e.metadata_json) + "," + q.text(e.correlation_id) + "," +
         q.timestamp(e.created_at) + ")";
}

const char* const kTransitionStatement =
    "WITH u AS (UPDATE tasks SET current_state = $3, version = $4, retry_count = $5, "
    "updated_at = $6::timestamptz, last_seq = $7, entry_counts = $8::jsonb "
    "WHERE id = $1 AND version = $2 RETURNING 1), "
    "n AS (SELECT count(*) AS updated FROM u), "
    "e AS (INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor, reason, "
    "metadata, correlation_id, created_at) SELECT $9::text, $10::text, $11::bigint, $12::text, "
    "$13::text, $14::text, $15::text, $16::jsonb, $17::text, $18::timestamptz "
    "WHERE (SELECT updated FROM n) = 1), "
    "a AS (INSERT INTO audit_events (id, correlation_id, task_id, event_type, actor, action, "
    "resource_type, resource_id, details, created_at) SELECT $19::text, $20::text, $21::text, "
    "$22::text, $23::text, $24::text, $25::text, $26::text, $27::jsonb, $28::timestamptz "
    "WHERE (SELECT updated FROM n) = 1) "
    "SELECT updated FROM n";

const char* const kTransitionsStatement =
    "WITH v AS (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[], "
    "$5::bigint[], $6::timestamptz[], $7::bigint[], $8::jsonb[]) AS v (id, expected, state, "
    "version, retry_count, updated_at, last_seq, entry_counts)), "
    "u AS (UPDATE tasks AS t SET current_state = v.state, version = v.version, "
    "retry_count = v.retry_count, updated_at = v.updated_at, last_seq = v.last_seq, "
    "entry_counts = v.entry_counts FROM v WHERE t.id = v.id AND t.version = v.expected "
    "RETURNING 1), "
    "n AS (SELECT count(*) AS updated FROM u), "
    "e AS (INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor, reason, "
    "metadata, correlation_id, created_at) SELECT * FROM unnest($9::text[], $10::text[], "
    "$11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[], $16::jsonb[], "
    "$17::text[], $18::timestamptz[]) WHERE (SELECT updated FROM n) = cardinality($1::text[])), "
    "a AS (INSERT INTO audit_events (id, correlation_id, task_id, event_type, actor, action, "
    "resource_type, resource_id, details, created_at) SELECT * FROM unnest($19::text[], "
    "$20::text[], $21::text[], $22::text[], $23::text[], $24::text[], $25::text[], $26::text[], "
    "$27::jsonb[], $28::timestamptz[]) WHERE (SELECT updated FROM n) = cardinality($1::text[])) "
    "SELECT aadap_expect_rows(updated, cardinality($1::text[])) FROM n";

void ArrayLiteral::add(const std::string& value) {
  text_ += text_.size() > 1 ? ",\"" : "\"";
  for (const char c : storable(value)) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void ArrayLiteral::add(const std::optional<std::string>& value) {
  if (value) return add(*value);
  text_ += text_.size() > 1 ? ",NULL" : "NULL";
}

void ArrayLiteral::add(std::int64_t value) {
  if (text_.size() > 1) text_ += ',';
  text_ += std::to_string(value);
}

void ArrayLiteral::add(double value) {
  if (text_.size() > 1) text_ += ',';
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (ec != std::errc()) throw InvalidArgumentError("a number cannot be written to SQL");
  text_.append(buffer, end);
}

std::string ArrayLiteral::text() && {
  text_ += '}';
  return std::move(text_);
}

const char* const kInsertAudits =
    "INSERT INTO audit_events (id, correlation_id, task_id, event_type, actor, action, "
    "resource_type, resource_id, details, created_at) VALUES ";

std::string audit_values(const Quoter& q, const AuditRecord& a) {
  return "(" + q.text(a.id) + "," + q.text(a.correlation_id) + "," + q.text(a.task_id) + "," +
         q.text(a.event_type) + "," + q.text(a.actor) + "," + q.text(a.action) + "," +
         q.text(a.resource_type) + "," + q.text(a.resource_id) + "," + q.json(a.details_json) +
         "," + q.timestamp(a.created_at) + ")";
}

std::string insert_artifact(const Quoter& q, const ArtifactRecord& a) {
  return "INSERT INTO artifacts (id, task_id, artifact_type, name, content, content_hash, "
         "storage_uri, version, parent_id, edit_message, metadata, created_at) VALUES (" +
         q.text(a.id) + "," + q.text(a.task_id) + "," + q.text(a.artifact_type) + "," +
         q.text(a.name) + "," + q.text(a.content) + "," + q.text(a.content_hash) + "," +
         q.text(a.storage_uri) + "," + Quoter::number(a.version) + "," + q.text(a.parent_id) + "," +
         q.text(a.edit_message) + "," + q.json(a.metadata_json) + "," + q.timestamp(a.created_at) +
         ");";
}

std::string insert_approval(const Quoter& q, const ApprovalRecord& a) {
  return "INSERT INTO approval_requests (id, task_id, operation_type, environment, status, "
         "requested_by, decided_by, decision_reason, risk_level, artifact_id, artifact_hash, "
         "explanation_artifact_id, metadata, created_at, decided_at, expires_at) VALUES (" +
         q.text(a.id) + "," + q.text(a.task_id) + "," + q.text(a.operation_type) + "," +
         q.text(a.environment) + "," + q.text(a.status) + "," + q.text(a.requested_by) + "," +
         q.text(a.decided_by) + "," + q.text(a.decision_reason) + "," + q.text(a.risk_level) + "," +
         q.text(a.artifact_id) + "," + q.text(a.artifact_hash) + "," +
         q.text(a.explanation_artifact_id) + "," + q.json(a.metadata_json) + "," +
         q.timestamp(a.created_at) + "," + q.timestamp(a.decided_at) + "," +
         q.timestamp(a.expires_at) + ");";
}

std::string insert_execution(const Quoter& q, const ExecutionRecord& e) {
  return "INSERT INTO executions (id, task_id, environment, platform, status, code_artifact_id, "
         "output, error, duration_ms, metadata, started_at, completed_at, created_at) VALUES (" +
         q.text(e.id) + "," + q.text(e.task_id) + "," + q.text(e.environment) + "," +
         q.text(e.platform) + "," + q.text(e.status) + "," + q.text(e.code_artifact_id) + "," +
         q.text(e.output) + "," + q.text(e.error) + "," + Quoter::number(e.duration_ms) + "," +
         q.json(e.metadata_json) + "," + q.timestamp(e.started_at) + "," +
         q.timestamp(e.completed_at) + "," + q.timestamp(e.created_at) + ");";
}

std::string insert_cost(const Quoter& q, const CostRecord& c) {
  return "INSERT INTO cost_records (id, task_id, agent_type, tokens_in, tokens_out, cost_usd, "
         "created_at) VALUES (" +
         q.text(c.id) + "," + q.text(c.task_id) + "," + q.text(c.agent_type) + "," +
         Quoter::number(c.tokens_in) + "," + Quoter::number(c.tokens_out) + "," +
         Quoter::number(c.cost_usd) + "," + q.timestamp(c.created_at) + ");";
}

std::string insert_log(const Quoter& q, const TaskLogRecord& l) {
  return "INSERT INTO task_logs (id, task_id, level, message, correlation_id, source, "
         "created_at) VALUES (" +
         q.text(l.id) + "," + q.text(l.task_id) + "," + q.text(l.level) + "," + q.text(l.message) +
         "," + q.text(l.correlation_id) + "," + q.text(l.source) + "," + q.timestamp(l.created_at) +
         ");";
}

}  // namespace aadap::store::pg
