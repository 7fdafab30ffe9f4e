#include "sqlite_tables.hpp"

#include "aadap/core/errors.hpp"

namespace aadap::store::sqlite {

namespace {

constexpr const char* kArtifactColumns =
    "id, task_id, artifact_type, name, content, content_hash, storage_uri, version, parent_id, "
    "edit_message, metadata, created_at";

ArtifactRecord read_artifact(const SqliteStatement& r) {
  return ArtifactRecord{*r.text(0),
                        *r.text(1),
                        *r.text(2),
                        *r.text(3),
                        *r.text(4),
                        *r.text(5),
                        r.text(6),
                        r.integer(7),
                        r.text(8),
                        r.text(9),
                        r.text(10).value_or("{}"),
                        *r.text(11)};
}

constexpr const char* kApprovalColumns =
    "id, task_id, operation_type, environment, status, requested_by, decided_by, "
    "decision_reason, risk_level, artifact_id, artifact_hash, explanation_artifact_id, metadata, "
    "created_at, decided_at, expires_at";

ApprovalRecord read_approval(const SqliteStatement& r) {
  return ApprovalRecord{*r.text(0),
                        *r.text(1),
                        *r.text(2),
                        *r.text(3),
                        *r.text(4),
                        *r.text(5),
                        r.text(6),
                        r.text(7),
                        *r.text(8),
                        r.text(9),
                        r.text(10),
                        r.text(11),
                        r.text(12).value_or("{}"),
                        *r.text(13),
                        r.text(14),
                        r.text(15)};
}

// The root of an artifact's lineage, then every descendant of it (parent_id links).
constexpr const char* kLineage = R"sql(
WITH RECURSIVE up (id, parent_id) AS (
  SELECT id, parent_id FROM artifacts WHERE id = ?1
  UNION ALL SELECT a.id, a.parent_id FROM artifacts a JOIN up ON a.id = up.parent_id
), lineage (id) AS (
  SELECT id FROM up WHERE parent_id IS NULL
  UNION ALL SELECT a.id FROM artifacts a JOIN lineage ON a.parent_id = lineage.id
))sql";

}  // namespace

std::optional<ArtifactRecord> find_artifact(SqliteDatabase& db, std::string_view id) {
  const auto lease =
      db.cached(std::string("SELECT ") + kArtifactColumns + " FROM artifacts WHERE id = ?1");
  lease->bind(1, id);
  if (!lease->step()) return std::nullopt;
  return read_artifact(*lease);
}

void insert_artifact(SqliteDatabase& db, const ArtifactRecord& a) {
  const auto lease = db.cached(std::string("INSERT INTO artifacts (") + kArtifactColumns +
                               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  SqliteStatement& s = *lease;
  s.bind(1, a.id).bind(2, a.task_id).bind(3, a.artifact_type).bind(4, a.name).bind(5, a.content);
  s.bind(6, a.content_hash)
      .bind_optional(7, a.storage_uri)
      .bind(8, a.version)
      .bind_optional(9, a.parent_id);
  s.bind_optional(10, a.edit_message).bind(11, a.metadata_json).bind(12, a.created_at);
  s.run();
}

std::int64_t lineage_max_version(SqliteDatabase& db, std::string_view artifact_id) {
  const auto lease = db.cached(
      std::string(kLineage) +
      " SELECT coalesce(max(version), 0) FROM artifacts WHERE id IN (SELECT id FROM lineage)");
  lease->bind(1, artifact_id);
  lease->step();
  return lease->integer(0);
}

ArtifactRecord lineage_newest(SqliteDatabase& db, std::string_view artifact_id) {
  const auto lease = db.cached(std::string(kLineage) + " SELECT " + kArtifactColumns +
                               " FROM artifacts WHERE id IN (SELECT id FROM lineage) "
                               "ORDER BY version DESC, created_at DESC, id DESC LIMIT 1");
  lease->bind(1, artifact_id);
  if (!lease->step())
    throw StoreError("artifact lineage of " + std::string(artifact_id) + " is empty");
  return read_artifact(*lease);
}

std::optional<ArtifactRecord> newest_artifact(SqliteDatabase& db, std::string_view task_id,
                                              const std::vector<std::string>& types) {
  // Ids are time-ordered (UUIDv7), so the greatest id is the newest row.
  const auto lease = db.cached(std::string("SELECT ") + kArtifactColumns +
                               " FROM artifacts WHERE task_id = ?1 AND "
                               "artifact_type IN (SELECT value FROM json_each(?2)) "
                               "ORDER BY created_at DESC, id DESC LIMIT 1");
  std::string list = "[";
  for (const auto& type : types)
    list.append(list.size() > 1 ? ",\"" : "\"").append(type).append("\"");
  list += "]";
  lease->bind(1, task_id).bind(2, list);
  if (!lease->step()) return std::nullopt;
  return read_artifact(*lease);
}

std::optional<bool> validation_verdict(SqliteDatabase& db, std::string_view task_id,
                                       std::string_view artifact_hash) {
  const auto lease = db.cached(
      "SELECT json_extract(metadata, '$.passed') FROM artifacts WHERE task_id = ?1 AND "
      "artifact_type = 'validation_report' AND json_extract(metadata, '$.artifact_hash') = ?2 "
      "ORDER BY created_at DESC, id DESC LIMIT 1");
  lease->bind(1, task_id).bind(2, artifact_hash);
  if (!lease->step()) return std::nullopt;
  return lease->integer(0) != 0;
}

std::vector<ArtifactRecord> artifacts(SqliteDatabase& db, std::string_view task_id,
                                      const std::optional<std::string>& type) {
  const auto lease = db.cached(std::string("SELECT ") + kArtifactColumns +
                               " FROM artifacts WHERE task_id = ?1 AND "
                               "(?2 IS NULL OR artifact_type = ?2) ORDER BY created_at, id");
  lease->bind(1, task_id).bind_optional(2, type);
  return read_all<ArtifactRecord>(*lease, read_artifact);
}

std::optional<ApprovalRecord> find_approval(SqliteDatabase& db, std::string_view id) {
  const auto lease = db.cached(std::string("SELECT ") + kApprovalColumns +
                               " FROM approval_requests WHERE id = ?1");
  lease->bind(1, id);
  if (!lease->step()) return std::nullopt;
  return read_approval(*lease);
}

std::optional<ApprovalRecord> latest_approval(SqliteDatabase& db, std::string_view task_id) {
  const auto lease = db.cached(std::string("SELECT ") + kApprovalColumns +
                               " FROM approval_requests WHERE task_id = ?1 "
                               "ORDER BY created_at DESC, id DESC LIMIT 1");
  lease->bind(1, task_id);
  if (!lease->step()) return std::nullopt;
  return read_approval(*lease);
}

void insert_approval(SqliteDatabase& db, const ApprovalRecord& a) {
  const auto lease =
      db.cached(std::string("INSERT INTO approval_requests (") + kApprovalColumns +
                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  SqliteStatement& s = *lease;
  s.bind(1, a.id).bind(2, a.task_id).bind(3, a.operation_type).bind(4, a.environment);
  s.bind(5, a.status)
      .bind(6, a.requested_by)
      .bind_optional(7, a.decided_by)
      .bind_optional(8, a.decision_reason);
  s.bind(9, a.risk_level).bind_optional(10, a.artifact_id).bind_optional(11, a.artifact_hash);
  s.bind_optional(12, a.explanation_artifact_id).bind(13, a.metadata_json).bind(14, a.created_at);
  s.bind_optional(15, a.decided_at).bind_optional(16, a.expires_at);
  s.run();
}

bool decide_approval(SqliteDatabase& db, std::string_view id, std::string_view status,
                     const std::optional<std::string>& decided_by,
                     const std::optional<std::string>& reason, std::string_view decided_at) {
  const auto lease = db.cached(
      "UPDATE approval_requests SET status = ?2, decided_by = ?3, decision_reason = ?4, "
      "decided_at = ?5 WHERE id = ?1 AND status = 'PENDING'");
  lease->bind(1, id)
      .bind(2, status)
      .bind_optional(3, decided_by)
      .bind_optional(4, reason)
      .bind(5, decided_at);
  lease->run();
  return db.changes() == 1;
}

std::vector<std::string> due_approvals(SqliteDatabase& db, std::string_view now) {
  const auto lease = db.cached(
      "SELECT id FROM approval_requests WHERE status = 'PENDING' AND expires_at <= ?1 "
      "ORDER BY expires_at, id");
  lease->bind(1, now);
  return read_all<std::string>(*lease, [](const SqliteStatement& r) { return *r.text(0); });
}

std::vector<ApprovalRecord> approvals(SqliteDatabase& db, std::string_view task_id,
                                      const std::optional<std::string>& status) {
  const auto lease = db.cached(std::string("SELECT ") + kApprovalColumns +
                               " FROM approval_requests WHERE (?1 = '' OR task_id = ?1) AND "
                               "(?2 IS NULL OR status = ?2) ORDER BY created_at, id");
  lease->bind(1, task_id).bind_optional(2, status);
  return read_all<ApprovalRecord>(*lease, read_approval);
}

}  // namespace aadap::store::sqlite
