// The invariant gates on transitions (lifecycle.md §2): INV-07 before VALIDATION_PASSED,
// INV-01 and INV-07 before DEPLOYING. Each refusal is a guard violation (§2a).
#include "aadap/engine/task_engine.hpp"
#include "engine_support.hpp"

#include <algorithm>

namespace aadap::engine {

namespace {

using lifecycle::TaskState;
using support::refuse;

bool is_code(const store::ArtifactRecord& artifact) {
  return std::find(std::begin(kCodeArtifactTypes), std::end(kCodeArtifactTypes),
                   artifact.artifact_type) != std::end(kCodeArtifactTypes);
}

/// The artifact named by the request (an input error when unknown or of another task or not
/// code), else the task's newest code artifact.
std::optional<store::ArtifactRecord> code_artifact(store::StoreTransaction& tx,
                                                   const store::TaskRecord& task,
                                                   const std::optional<std::string>& id) {
  if (!id) {
    const std::vector<std::string> types(std::begin(kCodeArtifactTypes),
                                         std::end(kCodeArtifactTypes));
    return tx.newest_artifact(task.id, types);
  }
  auto artifact = tx.find_artifact(*id);
  if (!artifact || artifact->task_id != task.id) support::not_found("artifact of this task", *id);
  if (!is_code(*artifact)) {
    throw InvalidArgumentError("artifact " + *id + " is a " + artifact->artifact_type +
                               ", not code (generated_code or optimized_code)");
  }
  return artifact;
}

}  // namespace

bool TaskEngine::gated(TaskState to) noexcept {
  return to == TaskState::VALIDATION_PASSED || to == TaskState::DEPLOYING;
}

void TaskEngine::check_gates(store::StoreTransaction& tx, const store::TaskRecord& task,
                             TaskState to, const TransitionRequest& request,
                             const std::string& action, std::optional<GuardViolation>& violation) {
  if (!gated(to)) return;
  const GuardViolation where{task.id, request.actor, action, nlohmann::json::object()};
  if (to == TaskState::DEPLOYING && !request.artifact_id) {
    refuse<ApprovalRequiredError>(violation, where, "deployment",
                                  "name the artifact to deploy (artifact_id): deployment is "
                                  "approved for one exact piece of code (INV-01)");
  }
  const auto code = code_artifact(tx, task, request.artifact_id);
  if (!code) {
    refuse<InvalidTransitionError>(violation, where, "validation",
                                   "task " + task.id +
                                       " has no code artifact to validate (INV-07): add the "
                                       "generated code and record its validation first");
  }
  GuardViolation about = where;
  about.details = {{"artifact_id", code->id}, {"artifact_hash", code->content_hash}};
  const auto verdict = tx.validation_verdict(task.id, code->content_hash);
  if (!verdict || !*verdict) {
    refuse<InvalidTransitionError>(
        violation, about, "validation",
        "artifact " + code->id + " (v" + std::to_string(code->version) + ") has " +
            (verdict ? "failed its latest validation" : "no validation report") +
            " (INV-07): record a passing validation for this exact content first");
  }
  if (to != TaskState::DEPLOYING) return;

  const auto newest = tx.lineage_newest(code->id);
  if (newest.id != code->id) {
    about.details["newer_artifact_id"] = newest.id;
    refuse<ApprovalRequiredError>(violation, about, "deployment",
                                  "artifact " + code->id + " (v" + std::to_string(code->version) +
                                      ") is not the newest version of its code: v" +
                                      std::to_string(newest.version) + " (" + newest.id +
                                      ") exists and needs its own validation and approval");
  }
  const auto approval = tx.latest_approval(task.id);
  if (!approval || approval->status != "APPROVED") {
    if (approval) about.details["approval_id"] = approval->id;
    refuse<ApprovalRequiredError>(
        violation, about, "approval",
        "task " + task.id + " has no approved request for deployment (INV-01)" +
            (approval ? ": its latest request is " + approval->status : std::string()));
  }
  if (approval->artifact_hash != code->content_hash) {
    about.details["approval_id"] = approval->id;
    about.details["approved_hash"] = approval->artifact_hash.value_or("");
    refuse<ApprovalRequiredError>(violation, about, "approval",
                                  "the approved request " + approval->id +
                                      " does not cover this code (content hash differs): "
                                      "validate and approve the code you deploy (INV-01)");
  }
}

}  // namespace aadap::engine
