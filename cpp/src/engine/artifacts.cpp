// Artifacts: immutable, content-hashed, versioned by lineage (lifecycle.md §3), and the
// validation records INV-07 checks.
#include "aadap/core/ids.hpp"
#include "aadap/core/sha256.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/lifecycle/risk_level.hpp"
#include "engine_support.hpp"

namespace aadap::engine {

namespace {

using support::correlation;

constexpr std::size_t kMaxArtifactBytes = 64 * 1024 * 1024;

void check_text(std::string_view value, std::string_view what, std::size_t max_length) {
  const std::size_t length = support::utf8_length(value);
  if (length == 0 || length > max_length) {
    throw InvalidArgumentError(std::string(what) + " has 1 to " + std::to_string(max_length) +
                               " characters (got " + std::to_string(length) + ")");
  }
}

}  // namespace

store::ArtifactRecord TaskEngine::add_artifact(const NewArtifact& spec, std::string_view actor,
                                               std::string_view correlation_id) {
  check_text(spec.artifact_type, "an artifact type", 64);
  check_text(spec.name, "an artifact name", 512);
  if (spec.content.size() > kMaxArtifactBytes) {
    throw InvalidArgumentError("artifact content is limited to 64 MiB (got " +
                               std::to_string(spec.content.size()) + " bytes)");
  }
  if (actor.empty()) throw InvalidArgumentError("adding an artifact needs an actor");
  const auto metadata = support::parse_object(spec.metadata_json, "artifact metadata");

  store::ArtifactRecord artifact;
  artifact.id = new_uuid7();
  artifact.task_id = spec.task_id;
  artifact.artifact_type = spec.artifact_type;
  artifact.name = spec.name;
  artifact.content = spec.content;
  artifact.content_hash = sha256_hex(spec.content);
  artifact.storage_uri = spec.storage_uri;
  artifact.parent_id = spec.parent_id;
  artifact.edit_message = spec.edit_message;
  artifact.metadata_json = metadata.dump();
  artifact.created_at = utc_now_iso();
  guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    support::lock_task(tx, spec.task_id);
    if (spec.parent_id) {
      const auto parent = tx.find_artifact(*spec.parent_id);
      if (!parent || parent->task_id != spec.task_id) {
        support::not_found("parent artifact of this task", *spec.parent_id);
      }
      // The task row lock serialises editors, so two edits never take the same version.
      artifact.version = tx.lineage_max_version(*spec.parent_id) + 1;
    }
    support::insert_artifact_audited(tx, artifact, actor, correlation_id);
    return true;
  });
  support::logger().info("artifact.created", correlation_id, log::kv("task_id", artifact.task_id),
                         log::kv("artifact_id", artifact.id),
                         log::kv("artifact_type", artifact.artifact_type),
                         log::kv("version", artifact.version));
  return artifact;
}

store::ArtifactRecord TaskEngine::record_validation(const ValidationResult& result,
                                                    std::string_view actor,
                                                    std::string_view correlation_id) {
  const auto risk = lifecycle::parse_risk(result.risk_level);
  const auto findings = support::parse_array(result.findings_json, "validation findings");
  if (actor.empty()) throw InvalidArgumentError("recording a validation needs an actor");
  if (result.passed && !lifecycle::passes_gate(risk)) {
    throw InvalidArgumentError("a validation with risk " + result.risk_level +
                               " cannot pass: a gate passes only below HIGH");
  }
  auto code = store_->get_artifact(result.artifact_id);
  if (!code) support::not_found("artifact", result.artifact_id);

  store::ArtifactRecord report;
  report.id = new_uuid7();
  report.task_id = code->task_id;
  report.artifact_type = "validation_report";
  report.name = "validation of " + code->name + " v" + std::to_string(code->version);
  report.content = nlohmann::json{
      {"artifact_id", code->id},
      {"passed", result.passed},
      {"risk_level", result.risk_level},
      {"findings", findings},
      {"summary",
       result.summary}}.dump();
  report.content_hash = sha256_hex(report.content);
  report.metadata_json = nlohmann::json{
      {"artifact_id", code->id},
      {"artifact_hash", code->content_hash},
      {"passed", result.passed},
      {"risk_level",
       result.risk_level}}.dump();
  report.created_at = utc_now_iso();
  guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    support::lock_task(tx, code->task_id);
    support::insert_artifact_audited(tx, report, actor, correlation_id);
    return true;
  });
  return report;
}

store::ArtifactRecord TaskEngine::get_artifact(std::string_view artifact_id) {
  auto artifact = store_->get_artifact(artifact_id);
  if (!artifact) support::not_found("artifact", artifact_id);
  return std::move(*artifact);
}

std::vector<store::ArtifactRecord> TaskEngine::artifacts(std::string_view task_id,
                                                         const std::optional<std::string>& type) {
  support::find_task(*store_, task_id);
  return store_->artifacts(task_id, type);
}

}  // namespace aadap::engine
