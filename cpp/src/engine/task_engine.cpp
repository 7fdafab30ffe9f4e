#include "aadap/engine/task_engine.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/lifecycle/guards.hpp"
#include "aadap/lifecycle/transitions.hpp"
#include "engine_support.hpp"

#include <algorithm>
#include <array>

namespace aadap::engine {

namespace {

using lifecycle::TaskState;
using support::correlation;
using support::logger;
using support::refuse;

template <std::size_t N>
void check_optional(const std::optional<std::string>& value,
                    const std::array<std::string_view, N>& allowed, std::string_view what) {
  if (value) support::check_one_of(*value, allowed, what);
}

bool is_approval_state(TaskState s) {
  return s == TaskState::APPROVAL_PENDING || s == TaskState::IN_REVIEW ||
         s == TaskState::APPROVED || s == TaskState::REJECTED;
}

}  // namespace

TaskEngine::TaskEngine(std::shared_ptr<store::Store> store, const Settings& settings,
                       std::shared_ptr<memory::WorkingMemory> checkpoints)
    : store_(std::move(store)),
      checkpoints_(std::move(checkpoints)),
      default_token_budget_(settings.token_budget_default),
      approval_timeout_seconds_(settings.approval_timeout_seconds),
      approval_allow_self_(settings.approval_allow_self),
      price_input_per_1k_(settings.llm_price_input_per_1k),
      price_output_per_1k_(settings.llm_price_output_per_1k) {}

store::TaskRecord TaskEngine::create_task(const NewTask& spec, std::string_view actor,
                                          std::string_view correlation_id) {
  const std::size_t title_length = support::utf8_length(spec.title);
  if (title_length == 0 || title_length > 512) {
    throw InvalidArgumentError("a task title has 1 to 512 characters (got " +
                               std::to_string(title_length) + ")");
  }
  if (spec.priority < 0 || spec.priority > 10) {
    throw InvalidArgumentError("priority is from 0 to 10 (got " + std::to_string(spec.priority) +
                               ")");
  }
  const TaskEnvironment environment = parse_task_environment(spec.environment);
  check_optional(spec.platform, std::array<std::string_view, 3>{"databricks", "fabric", "local"},
                 "platform");
  check_optional(spec.language, std::array<std::string_view, 3>{"sql", "python", "scala"},
                 "language");
  const auto metadata = support::parse_object(spec.metadata_json, "task metadata");
  const std::int64_t budget = spec.token_budget.value_or(default_token_budget_);
  if (budget < 1) throw InvalidArgumentError("token_budget must be at least 1");

  store::TaskRecord task;
  task.id = new_uuid7();
  task.title = spec.title;
  task.description = spec.description;
  task.priority = spec.priority;
  task.environment = environment == TaskEnvironment::production ? "PRODUCTION" : "SANDBOX";
  task.platform = spec.platform;
  task.language = spec.language;
  task.created_by = spec.created_by.empty() ? std::string(actor) : spec.created_by;
  task.token_budget = budget;
  task.metadata_json = metadata.dump();
  task.created_at = task.updated_at = utc_now_iso();

  guarded(correlation_id, [&](store::StoreTransaction& tx, auto&) {
    tx.insert_task(task);
    tx.insert_audit(store::AuditRecord{
        new_uuid7(), correlation(correlation_id), task.id, "task.created", std::string(actor),
        "create", std::string("task"), task.id,
        nlohmann::json{{"title", task.title}, {"environment", task.environment}}.dump(),
        task.created_at});
    return true;
  });
  logger().info("task.created", correlation_id, log::kv("task_id", task.id),
                log::kv("task_environment", task.environment));
  return task;
}

store::TaskRecord TaskEngine::transition(const TransitionRequest& request,
                                         std::string_view correlation_id) {
  return transition_many(std::span(&request, 1), correlation_id).front();
}

std::vector<store::TaskRecord> TaskEngine::transition_many(
    std::span<const TransitionRequest> requests, std::string_view correlation_id) {
  std::vector<nlohmann::json> metadata;  // input errors first: nothing is written for them
  metadata.reserve(requests.size());
  std::vector<std::string> read_ids;
  std::vector<std::string> lock_ids;
  for (const auto& request : requests) {
    const TaskState to = lifecycle::parse_state(request.to_state);
    metadata.push_back(support::parse_object(request.metadata_json, "transition metadata"));
    if (request.actor.empty()) throw InvalidArgumentError("a transition needs an actor");
    (gated(to) ? lock_ids : read_ids).push_back(request.task_id);
  }
  auto steps = guarded(correlation_id, [&](store::StoreTransaction& tx, auto& violation) {
    if (requests.size() > 1) {
      if (!lock_ids.empty()) tx.lock_tasks(lock_ids);
      if (!read_ids.empty()) tx.read_tasks(read_ids);
    }
    std::vector<Applied> applied;
    applied.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      applied.push_back(apply(tx, requests[i], metadata[i], correlation_id, violation));
    }
    return applied;
  });
  committed(steps, correlation_id);
  std::vector<store::TaskRecord> out;
  out.reserve(steps.size());
  for (auto& step : steps) out.push_back(std::move(step.task));
  return out;
}

void TaskEngine::committed(std::vector<Applied>& steps, std::string_view correlation_id) {
  for (const auto& step : steps) {
    logger().info("task.transitioned", correlation_id, log::kv("task_id", step.task.id),
                  log::kv("from_state", step.from_state),
                  log::kv("to_state", step.task.current_state), log::kv("seq", step.seq));
    write_checkpoint(step.task, step.seq, step.metadata_json);
  }
}

TaskEngine::Applied TaskEngine::apply(store::StoreTransaction& tx, const TransitionRequest& request,
                                      const nlohmann::json& metadata,
                                      std::string_view correlation_id,
                                      std::optional<GuardViolation>& violation, Route route) {
  const TaskState to = lifecycle::parse_state(request.to_state);
  auto task = gated(to) ? tx.lock_task(request.task_id) : tx.read_task(request.task_id);
  if (!task) support::not_found("task", request.task_id);
  if (request.expected_version && *request.expected_version != task->version) {
    throw ConcurrencyError("task " + task->id + " is at version " + std::to_string(task->version) +
                               ", not the expected " + std::to_string(*request.expected_version) +
                               ": read it again and retry",
                           {{"task_id", task->id},
                            {"expected_version", *request.expected_version},
                            {"actual_version", task->version}});
  }
  const TaskState from = lifecycle::parse_state(task->current_state);  // the stored state
  const std::string action = task->current_state + " → " + request.to_state;
  const store::EventSummary events = tx.summarize_events(task->id, request.to_state);
  try {
    lifecycle::validate_transition(from, to);
    lifecycle::check_entry_limit(to, static_cast<int>(events.entries));
  } catch (const Error& refused) {
    nlohmann::json details = refused.details();
    details["guard"] = details.value("guard", std::string("transition"));
    details["message"] = refused.what();
    details["error"] = std::string(error_class_name(refused.code()));
    violation = GuardViolation{task->id, request.actor, action, std::move(details)};
    throw;
  }
  if (route == Route::transition_api && is_approval_state(to)) {
    const std::string how = to == TaskState::APPROVAL_PENDING
                                ? "request_approval(), which records the request and its "
                                  "DecisionExplanation (INV-09)"
                            : to == TaskState::IN_REVIEW ? "start_review()"
                                                         : "approve() or reject()";
    refuse<ApprovalRequiredError>(violation, {task->id, request.actor, action, {}}, "approval",
                                  request.to_state + " is entered through " + how);
  }
  check_gates(tx, *task, to, request, action, violation);
  const std::int64_t seq = events.last_seq + 1;
  const std::string now = utc_now_iso();
  const std::string metadata_json = metadata.dump();
  tx.insert_transition(store::TransitionRecord{new_uuid7(), task->id, seq, task->current_state,
                                               request.to_state, request.actor, request.reason,
                                               metadata_json, correlation(correlation_id), now});
  task->retry_count += lifecycle::is_rework(from, to) ? 1 : 0;
  task->version += 1;
  task->current_state = request.to_state;
  task->updated_at = now;
  tx.update_task_state(task->id, task->current_state, task->version, task->retry_count, now);
  tx.insert_audit(
      store::AuditRecord{new_uuid7(), correlation(correlation_id), task->id, "state.transition",
                         request.actor, action, std::string("task"), task->id,
                         nlohmann::json{{"from_state", std::string(lifecycle::state_name(from))},
                                        {"to_state", request.to_state},
                                        {"seq", seq},
                                        {"reason", request.reason}}
                             .dump(),
                         now});
  return Applied{std::move(*task), seq, metadata_json, std::string(lifecycle::state_name(from))};
}

void TaskEngine::record_guard_violation(const GuardViolation& v, std::string_view correlation_id) {
  auto tx = store_->begin(store::ReadMode::locking);
  tx->insert_audit(store::AuditRecord{new_uuid7(), correlation(correlation_id), v.task_id,
                                      "guard.violation", v.actor, v.action, std::string("task"),
                                      v.task_id, v.details.dump(), utc_now_iso()});
  tx->commit();
  logger().warning("guard.violation", correlation_id, log::kv("task_id", v.task_id),
                   log::kv("action", v.action), log::kv("details", v.details));
}

void TaskEngine::write_checkpoint(const store::TaskRecord& task, std::int64_t seq,
                                  const std::string& metadata_json) {
  if (!checkpoints_) return;
  const nlohmann::json checkpoint = {{"task_id", task.id},
                                     {"state", task.current_state},
                                     {"seq", seq},
                                     {"metadata", nlohmann::json::parse(metadata_json)},
                                     {"created_at", task.updated_at}};
  const std::string_view parts[] = {"task", task.id};
  checkpoints_->set("cp", memory::scoped_key(parts), checkpoint.dump());
}

store::TaskRecord TaskEngine::get_task(std::string_view task_id) {
  return support::find_task(*store_, task_id);
}

std::vector<store::TaskRecord> TaskEngine::list_tasks(store::TaskQuery query,
                                                      const std::vector<std::string>& groups) {
  for (const auto& state : query.states) lifecycle::parse_state(state);
  for (const auto& group : groups) {
    bool (*member)(TaskState) = nullptr;
    if (group == "terminal") member = lifecycle::is_terminal;
    if (group == "failed") member = lifecycle::is_failed;
    if (group == "awaiting_human") member = lifecycle::is_awaiting_human;
    if (group == "working") member = lifecycle::is_working;
    if (group == "active") member = lifecycle::is_active;
    if (member == nullptr) {
      throw InvalidArgumentError("unknown state group '" + group.substr(0, 40) +
                                 "': use terminal, failed, awaiting_human, working or active");
    }
    for (const TaskState s : lifecycle::all_states()) {
      if (member(s)) query.states.emplace_back(lifecycle::state_name(s));
    }
  }
  if (!groups.empty() && query.states.empty()) return {};
  if (query.environment) {
    query.environment = parse_task_environment(*query.environment) == TaskEnvironment::production
                            ? "PRODUCTION"
                            : "SANDBOX";
  }
  check_optional(query.platform, std::array<std::string_view, 3>{"databricks", "fabric", "local"},
                 "platform");
  for (const auto& bound : {query.min_priority, query.max_priority}) {
    if (bound && (*bound < 0 || *bound > 10)) {
      throw InvalidArgumentError("priority bounds are from 0 to 10 (got " + std::to_string(*bound) +
                                 ")");
    }
  }
  for (const auto& stamp : {query.created_after, query.created_before}) {
    // 2026-11-25T21:40:04Z or with fractional seconds: the store's own format.
    if (stamp && (stamp->size() < 20 || stamp->back() != 'Z' || (*stamp)[10] != 'T')) {
      throw InvalidArgumentError("timestamps are ISO-8601 UTC such as 2026-11-25T21:40:04Z (got '" +
                                 stamp->substr(0, 40) + "')");
    }
  }
  if (query.order_by != "created_at" && query.order_by != "updated_at" &&
      query.order_by != "priority") {
    throw InvalidArgumentError("order_by is created_at, updated_at or priority (got '" +
                               query.order_by.substr(0, 40) + "')");
  }
  if (query.limit < 1 || query.limit > 1000) {
    throw InvalidArgumentError("limit is from 1 to 1000 (got " + std::to_string(query.limit) + ")");
  }
  if (query.offset < 0) throw InvalidArgumentError("offset must be >= 0");
  return store_->list_tasks(query);
}

std::vector<store::TransitionRecord> TaskEngine::history(std::string_view task_id) {
  auto events = store_->history(task_id);
  if (events.empty())
    support::find_task(*store_, task_id);  // events imply the task: one read, not two
  return events;
}

VerifyReport TaskEngine::verify(std::string_view task_id) {
  const auto task = support::find_task(*store_, task_id);
  VerifyReport report;
  std::string state = "SUBMITTED";
  std::int64_t expected_seq = 1;
  for (const auto& event : store_->history(task_id)) {
    const std::string where = "event " + std::to_string(event.seq);
    if (event.seq != expected_seq) {
      report.problems.push_back(where + ": expected seq " + std::to_string(expected_seq));
    }
    if (event.from_state != state) {
      report.problems.push_back(where + ": from_state " + event.from_state + " does not follow " +
                                state);
    }
    try {
      lifecycle::validate_transition(lifecycle::parse_state(event.from_state),
                                     lifecycle::parse_state(event.to_state));
    } catch (const Error& e) {
      report.problems.push_back(where + ": " + e.what());
    }
    state = event.to_state;
    expected_seq = event.seq + 1;
  }
  if (state != task.current_state) {
    report.problems.push_back("the events lead to " + state + " but the task says " +
                              task.current_state);
  }
  report.replayed_state = state;
  report.ok = report.problems.empty();
  return report;
}

std::string TaskEngine::replay(std::string_view task_id) {
  const auto report = verify(task_id);
  if (!report.ok) {
    throw StoreError("the event chain of task " + std::string(task_id) +
                         " is broken: " + report.problems.front(),
                     {{"problems", report.problems}});
  }
  return report.replayed_state;
}

std::vector<store::AuditRecord> TaskEngine::audit(std::string_view task_id) {
  return store_->audit(task_id);
}

std::string TaskEngine::checkpoint(std::string_view task_id) {
  const auto events = history(task_id);
  const std::string_view parts[] = {"task", task_id};
  const std::string key = memory::scoped_key(parts);
  if (checkpoints_) {
    if (auto cached = checkpoints_->get("cp", key)) {
      const auto value = nlohmann::json::parse(*cached, nullptr, false);
      const std::int64_t latest = events.empty() ? 0 : events.back().seq;
      if (!value.is_discarded() && value.value("seq", std::int64_t{-1}) == latest) return *cached;
    }
  }
  const auto task = get_task(task_id);
  const std::int64_t seq = events.empty() ? 0 : events.back().seq;
  const std::string metadata = events.empty() ? "{}" : events.back().metadata_json;
  write_checkpoint(task, seq, metadata);
  return nlohmann::json{{"task_id", task.id},
                        {"state", task.current_state},
                        {"seq", seq},
                        {"metadata", nlohmann::json::parse(metadata)},
                        {"created_at", task.updated_at}}
      .dump();
}

}  // namespace aadap::engine
