// Approvals and the autonomy matrix (lifecycle.md §5-6): requests with their
// DecisionExplanation (INV-09), auto-approval, review, compare-and-set decisions, expiry.
#include "aadap/core/ids.hpp"
#include "aadap/core/sha256.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/lifecycle/autonomy_policy.hpp"
#include "engine_support.hpp"

#include <chrono>

namespace aadap::engine {

namespace {

using support::correlation;
using support::refuse;

constexpr const char* kPolicyActor = "system:autonomy_policy";
constexpr const char* kExpiryActor = "system:expiry";

void audit_approval(store::StoreTransaction& tx, const store::ApprovalRecord& request,
                    std::string_view event_type, std::string_view actor,
                    const nlohmann::json& details, std::string_view correlation_id) {
  tx.insert_audit(store::AuditRecord{
      new_uuid7(), correlation(correlation_id), request.task_id, std::string(event_type),
      std::string(actor), std::string(event_type.substr(9)) + " " + request.operation_type,
      std::string("approval_request"), request.id, details.dump(), utc_now_iso()});
}

std::string seconds_from_now(double seconds) {
  return utc_iso(std::chrono::system_clock::now() +
                 std::chrono::duration_cast<std::chrono::system_clock::duration>(
                     std::chrono::duration<double>(seconds)));
}

/// A request that can no longer be decided, refused as §2a.
[[noreturn]] void refuse_status(std::optional<GuardViolation>& violation,
                                const store::ApprovalRecord& request, std::string_view actor,
                                std::string_view what) {
  const GuardViolation where{request.task_id,
                             std::string(actor),
                             std::string(what) + " approval request " + request.id,
                             {{"approval_id", request.id}, {"status", request.status}}};
  const std::string message =
      "approval request " + request.id + " is " + request.status +
      ", not PENDING: only a pending request can be decided or reviewed" +
      (request.decided_by ? " (decided by " + *request.decided_by + ")" : std::string());
  if (request.status == "EXPIRED") {
    refuse<ApprovalExpiredError>(violation, where, "approval_status", message);
  }
  refuse<ApprovalError>(violation, where, "approval_status", message);
}

}  // namespace

store::ApprovalRecord TaskEngine::request_approval(const ApprovalRequestSpec& spec,
                                                   std::string_view correlation_id) {
  if (spec.operation_type.empty() || spec.operation_type.size() > 64) {
    throw InvalidArgumentError(
        "an operation type has 1 to 64 characters (read_only, write, "
        "destructive, schema_change, permission_change; any other "
        "type requires approval)");
  }
  if (spec.requested_by.empty()) throw InvalidArgumentError("requested_by is required");
  const auto risk = lifecycle::parse_risk(spec.risk_level);
  const auto findings = support::parse_array(spec.findings_json, "findings");
  const auto explanation = support::parse_object(spec.explanation_json, "explanation");
  const double timeout =
      spec.expires_in_seconds.value_or(static_cast<double>(approval_timeout_seconds_));
  if (!(timeout > 0)) throw InvalidArgumentError("expires_in must be a positive number of seconds");

  auto [steps,
        request] = guarded(correlation_id, [&](store::StoreTransaction& tx, auto& violation) {
    const auto task = support::lock_task(tx, spec.task_id);
    std::optional<store::ArtifactRecord> code;
    if (spec.artifact_id) {
      code = tx.find_artifact(*spec.artifact_id);
      if (!code || code->task_id != task.id) {
        support::not_found("artifact of this task", *spec.artifact_id);
      }
    }
    const auto policy = lifecycle::approval_policy(parse_task_environment(task.environment),
                                                   spec.operation_type, risk);
    const std::string now = utc_now_iso();
    store::ApprovalRecord request;
    request.id = new_uuid7();

    std::vector<Applied> applied;
    applied.push_back(apply(tx,
                            TransitionRequest{task.id, "APPROVAL_PENDING", spec.requested_by,
                                              "approval requested: " + spec.operation_type, "{}",
                                              std::nullopt, std::nullopt},
                            nlohmann::json{{"approval_id", request.id}}, correlation_id, violation,
                            Route::approvals));

    store::ArtifactRecord why;  // INV-09
    why.id = new_uuid7();
    why.task_id = task.id;
    why.artifact_type = "decision_explanation";
    why.name = "decision explanation: " + spec.operation_type;
    why.content = nlohmann::json{
        {"task_id", task.id},
        {"operation_type", spec.operation_type},
        {"environment", task.environment},
        {"platform", task.platform ? nlohmann::json(*task.platform) : nlohmann::json()},
        {"language", task.language ? nlohmann::json(*task.language) : nlohmann::json()},
        {"risk_level", std::string(lifecycle::risk_name(risk))},
        {"findings", findings},
        {"approval_required", policy.approval_required},
        {"why_approval_required", policy.reason},
        {"route", policy.route},
        {"chosen_approach", explanation.value("chosen_approach", nlohmann::json(""))},
        {"alternatives_considered",
         explanation.value("alternatives_considered", nlohmann::json::array())},
        {"decision_reason", explanation.value("decision_reason", nlohmann::json(""))},
        {"artifact_id", code ? nlohmann::json(code->id) : nlohmann::json()},
        {"generated_at",
         now}}.dump();
    why.content_hash = sha256_hex(why.content);
    why.metadata_json = nlohmann::json{{"approval_id", request.id}}.dump();
    why.created_at = now;
    support::insert_artifact_audited(tx, why, spec.requested_by, correlation_id);

    request.task_id = task.id;
    request.operation_type = spec.operation_type;
    request.environment = task.environment;
    request.requested_by = spec.requested_by;
    request.risk_level = std::string(lifecycle::risk_name(risk));
    if (code) {
      request.artifact_id = code->id;
      request.artifact_hash = code->content_hash;
    }
    request.explanation_artifact_id = why.id;
    request.metadata_json = nlohmann::json{
        {"approval_required", policy.approval_required},
        {"policy", policy.reason},
        {"route", policy.route},
        {"escalate",
         policy.escalate}}.dump();
    request.created_at = now;
    request.expires_at = seconds_from_now(timeout);
    if (!policy.approval_required) {
      request.status = "APPROVED";
      request.decided_by = kPolicyActor;
      request.decision_reason = policy.reason;
      request.decided_at = now;
    }
    tx.insert_approval(request);
    const nlohmann::json details = {
        {"operation_type", request.operation_type},
        {"risk_level", request.risk_level},
        {"approval_required", policy.approval_required},
        {"reason", policy.reason},
        {"route", policy.route},
        {"artifact_id",
         request.artifact_id ? nlohmann::json(*request.artifact_id) : nlohmann::json()},
        {"expires_at", *request.expires_at}};
    audit_approval(tx, request, "approval.requested", spec.requested_by, details, correlation_id);
    if (policy.escalate) {
      audit_approval(tx, request, "approval.escalated", kPolicyActor, details, correlation_id);
    }
    if (!policy.approval_required) {
      audit_approval(tx, request, "approval.auto_approved", kPolicyActor, details, correlation_id);
      for (const char* state : {"IN_REVIEW", "APPROVED"}) {
        applied.push_back(apply(tx,
                                TransitionRequest{task.id, state, kPolicyActor, policy.reason, "{}",
                                                  std::nullopt, std::nullopt},
                                nlohmann::json{{"approval_id", request.id}}, correlation_id,
                                violation, Route::approvals));
      }
    }
    return std::make_pair(std::move(applied), std::move(request));
  });
  committed(steps, correlation_id);
  return request;
}

store::ApprovalRecord TaskEngine::start_review(std::string_view request_id,
                                               std::string_view reviewer,
                                               std::string_view correlation_id) {
  if (reviewer.empty()) throw InvalidArgumentError("start_review needs a reviewer");
  expire_one(request_id, correlation_id);
  auto [steps,
        request] = guarded(correlation_id, [&](store::StoreTransaction& tx, auto& violation) {
    auto request = tx.find_approval(request_id);
    if (!request) support::not_found("approval request", request_id);
    if (request->status != "PENDING") refuse_status(violation, *request, reviewer, "review");
    std::vector<Applied> applied;
    applied.push_back(apply(tx,
                            TransitionRequest{request->task_id, "IN_REVIEW", std::string(reviewer),
                                              "review started", "{}", std::nullopt, std::nullopt},
                            nlohmann::json{{"approval_id", request->id}}, correlation_id, violation,
                            Route::approvals));
    return std::make_pair(std::move(applied), std::move(*request));
  });
  committed(steps, correlation_id);
  return request;
}

store::ApprovalRecord TaskEngine::decide(std::string_view request_id, bool approve,
                                         std::string_view decided_by, std::string_view reason,
                                         std::string_view correlation_id) {
  if (decided_by.empty()) throw InvalidArgumentError("a decision needs decided_by");
  const std::string verb = approve ? "approve" : "reject";
  expire_one(request_id, correlation_id);
  auto [steps,
        request] = guarded(correlation_id, [&](store::StoreTransaction& tx, auto& violation) {
    auto request = tx.find_approval(request_id);
    if (!request) support::not_found("approval request", request_id);
    if (request->status != "PENDING") refuse_status(violation, *request, decided_by, verb);
    if (approve && request->requested_by == decided_by && !approval_allow_self_) {
      refuse<ApprovalError>(
          violation,
          {request->task_id,
           std::string(decided_by),
           "approve approval request " + request->id,
           {{"approval_id", request->id}, {"requested_by", request->requested_by}}},
          "self_approval",
          std::string(decided_by) +
              " requested this approval and cannot approve it too (set "
              "AADAP_APPROVAL_ALLOW_SELF=true to allow it)");
    }
    const std::string now = utc_now_iso();
    const std::string status = approve ? "APPROVED" : "REJECTED";
    if (!tx.decide_approval(request->id, status, std::string(decided_by), std::string(reason),
                            now)) {
      refuse_status(violation, *tx.find_approval(request->id), decided_by, verb);
    }
    std::vector<Applied> applied;
    const auto task = support::lock_task(tx, request->task_id);
    std::vector<const char*> path;
    if (task.current_state == "APPROVAL_PENDING") path.push_back("IN_REVIEW");
    path.push_back(approve ? "APPROVED" : "REJECTED");
    for (const char* state : path) {
      applied.push_back(
          apply(tx,
                TransitionRequest{task.id, state, std::string(decided_by), std::string(reason),
                                  "{}", std::nullopt, std::nullopt},
                nlohmann::json{{"approval_id", request->id}}, correlation_id, violation,
                Route::approvals));
    }
    tx.notify_decision(request->id);
    auto decided = *tx.find_approval(request->id);
    audit_approval(tx, decided, approve ? "approval.approved" : "approval.rejected", decided_by,
                   {{"reason", std::string(reason)}, {"operation_type", decided.operation_type}},
                   correlation_id);
    return std::make_pair(std::move(applied), std::move(decided));
  });
  committed(steps, correlation_id);
  return request;
}

bool TaskEngine::expire_one(std::string_view request_id, std::string_view correlation_id) {
  auto steps = guarded(
      correlation_id,
      [&](store::StoreTransaction& tx, auto& violation) -> std::optional<std::vector<Applied>> {
        auto request = tx.find_approval(request_id);
        const std::string now = utc_now_iso();
        if (!request || request->status != "PENDING" || !request->expires_at ||
            *request->expires_at > now) {
          return std::nullopt;
        }
        const std::string reason = "expired at " + *request->expires_at;
        tx.decide_approval(request->id, "EXPIRED", std::string(kExpiryActor), reason, now);
        const auto task = support::lock_task(tx, request->task_id);
        std::vector<const char*> path;
        if (task.current_state == "APPROVAL_PENDING") path.push_back("IN_REVIEW");
        if (task.current_state == "APPROVAL_PENDING" || task.current_state == "IN_REVIEW") {
          path.push_back("REJECTED");
        }
        std::vector<Applied> applied;
        for (const char* state : path) {  // a system move on a whitelisted path
          applied.push_back(apply(tx,
                                  TransitionRequest{task.id, state, kExpiryActor, reason, "{}",
                                                    std::nullopt, std::nullopt},
                                  nlohmann::json{{"approval_id", request->id}}, correlation_id,
                                  violation, Route::approvals));
        }
        request->status = "EXPIRED";
        audit_approval(tx, *request, "approval.expired", kExpiryActor,
                       {{"expires_at", *request->expires_at}}, correlation_id);
        return applied;
      });
  if (!steps) return false;
  committed(*steps, correlation_id);
  return true;
}

std::vector<store::ApprovalRecord> TaskEngine::expire_due(std::string_view correlation_id) {
  const auto due = guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    return tx.due_approvals(utc_now_iso());
  });
  std::vector<store::ApprovalRecord> expired;
  for (const auto& id : due) {
    if (expire_one(id, correlation_id)) expired.push_back(*store_->get_approval(id));
  }
  return expired;
}

store::ApprovalRecord TaskEngine::get_approval(std::string_view request_id,
                                               std::string_view correlation_id) {
  expire_one(request_id, correlation_id);
  auto request = store_->get_approval(request_id);
  if (!request) support::not_found("approval request", request_id);
  return std::move(*request);
}

store::ApprovalRecord TaskEngine::wait_for_decision(std::string_view request_id,
                                                    std::chrono::milliseconds timeout,
                                                    std::string_view correlation_id) {
  const auto deadline = std::chrono::system_clock::now() + timeout;
  for (;;) {
    auto request = get_approval(request_id, correlation_id);  // expires it when due
    const auto now = std::chrono::system_clock::now();
    if (request.status != "PENDING" || now >= deadline) return request;
    auto wake = deadline;
    if (const auto expires = parse_utc_iso(request.expires_at.value_or(""))) {
      wake = std::min(wake, *expires + std::chrono::milliseconds(5));  // to expire it then
    }
    store_->await_decision(request_id, std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::max(wake - now, decltype(wake - now){})));
  }
}

std::vector<store::ApprovalRecord> TaskEngine::approvals(std::string_view task_id,
                                                         const std::optional<std::string>& status,
                                                         std::string_view correlation_id) {
  if (!task_id.empty()) support::find_task(*store_, task_id);
  if (status) {
    support::check_one_of(
        *status,
        std::array<std::string_view, 5>{"PENDING", "APPROVED", "REJECTED", "EXPIRED", "ESCALATED"},
        "approval status");
  }
  expire_due(correlation_id);
  return store_->approvals(task_id, status);
}

}  // namespace aadap::engine
