// A TaskEngine on a given store with helpers to walk tasks through the governed path; shared
// by the SQLite and PostgreSQL governance tests.
#pragma once

#include "aadap/core/errors.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/store/sqlite_store.hpp"

#include <memory>
#include <optional>
#include <string>

namespace aadap::testing {

using namespace aadap::engine;

inline NewArtifact artifact(const std::string& task_id, const std::string& type,
                            const std::string& content,
                            std::optional<std::string> parent = std::nullopt) {
  NewArtifact spec;
  spec.task_id = task_id;
  spec.artifact_type = type;
  spec.name = "job.sql";
  spec.content = content;
  spec.parent_id = std::move(parent);
  return spec;
}

struct Governed {
  explicit Governed(const std::string& path = ":memory:")
      : Governed(std::make_shared<store::SqliteStore>(path, SqliteSynchronous::normal)) {}
  explicit Governed(std::shared_ptr<store::Store> backend)
      : store(std::move(backend)), engine(store, Settings::from_maps({{"HOME", "/tmp"}}, {})) {}

  std::shared_ptr<store::Store> store;
  TaskEngine engine;

  std::string task(const std::string& environment = "SANDBOX") {
    NewTask spec;
    spec.title = "governed";
    spec.environment = environment;
    return engine.create_task(spec, "tester", "cid").id;
  }
  void go(const std::string& id, const std::string& to,
          std::optional<std::string> artifact = std::nullopt) {
    engine.transition(TransitionRequest{id, to, "tester", "", "{}", std::nullopt, artifact}, "cid");
  }
  /// To VALIDATION_PASSED with validated code; returns the code artifact.
  store::ArtifactRecord validated(const std::string& id, const std::string& sql = "SELECT 1") {
    for (auto s : {"PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT", "AGENT_ASSIGNED",
                   "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION"}) {
      go(id, s);
    }
    auto code = engine.add_artifact(artifact(id, "generated_code", sql), "dev", "cid");
    engine.record_validation(ValidationResult{code.id, true, "LOW", "[]", "ok"}, "validator",
                             "cid");
    go(id, "VALIDATION_PASSED");
    return code;
  }
  store::ApprovalRecord request(const std::string& id, const std::string& operation,
                                const std::string& artifact) {
    ApprovalRequestSpec spec;
    spec.task_id = id;
    spec.operation_type = operation;
    spec.requested_by = "pipeline";
    spec.artifact_id = artifact;
    return engine.request_approval(spec, "cid");
  }
  std::size_t count(const std::string& id, const std::string& type) {
    std::size_t n = 0;
    for (const auto& a : engine.audit(id)) n += a.event_type == type ? 1 : 0;
    return n;
  }
};

}  // namespace aadap::testing
