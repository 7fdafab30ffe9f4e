#include "engine_support.hpp"

#include "aadap/core/ids.hpp"

namespace aadap::engine::support {

const log::Logger& logger() {
  static const log::Logger instance("aadap.engine");
  return instance;
}

std::optional<std::string> correlation(std::string_view id) {
  if (id.empty()) return std::nullopt;
  return std::string(id);
}

std::size_t utf8_length(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

nlohmann::json parse_object(std::string_view json, std::string_view what) {
  nlohmann::json value = nlohmann::json::parse(json, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    throw InvalidArgumentError(std::string(what) + " must be a JSON object");
  }
  return value;
}

nlohmann::json parse_array(std::string_view json, std::string_view what) {
  nlohmann::json value = nlohmann::json::parse(json, nullptr, false);
  if (value.is_discarded() || !value.is_array()) {
    throw InvalidArgumentError(std::string(what) + " must be a JSON array");
  }
  return value;
}

void not_found(std::string_view what, std::string_view id) {
  const std::string shown(id.substr(0, 80));
  throw NotFoundError("no " + std::string(what) + " with id '" + shown + "'", {{"id", shown}});
}

store::TaskRecord find_task(store::Store& store, std::string_view task_id) {
  auto task = store.get_task(task_id);
  if (!task) not_found("task", task_id);
  return std::move(*task);
}

store::TaskRecord lock_task(store::StoreTransaction& tx, std::string_view task_id) {
  auto task = tx.lock_task(task_id);
  if (!task) not_found("task", task_id);
  return std::move(*task);
}

/// Inserts `artifact` with its artifact.created audit event (INV-06).
void insert_artifact_audited(store::StoreTransaction& tx, const store::ArtifactRecord& artifact,
                             std::string_view actor, std::string_view correlation_id) {
  tx.insert_artifact(artifact);
  tx.insert_audit(store::AuditRecord{
      new_uuid7(), correlation(correlation_id), artifact.task_id, "artifact.created",
      std::string(actor), "add " + artifact.artifact_type, std::string("artifact"), artifact.id,
      nlohmann::json{{"artifact_type", artifact.artifact_type},
                     {"name", artifact.name},
                     {"version", artifact.version},
                     {"content_hash", artifact.content_hash},
                     {"parent_id", artifact.parent_id ? nlohmann::json(*artifact.parent_id)
                                                      : nlohmann::json(nullptr)}}
          .dump(),
      artifact.created_at});
}

}  // namespace aadap::engine::support
