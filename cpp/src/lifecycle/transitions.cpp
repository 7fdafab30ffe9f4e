#include "aadap/lifecycle/transitions.hpp"

#include "aadap/core/errors.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace aadap::lifecycle {

namespace {

using enum TaskState;

struct Edges {
  TaskState from;
  std::vector<TaskState> to;
};

// Targets sorted by name: the order errors and allowed_targets() report.
std::array<std::vector<TaskState>, kStateCount> build_table() {
  const std::vector<Edges> spec = {
      {SUBMITTED, {PARSING, CANCELLED}},
      {PARSING, {PARSED, PARSE_FAILED}},
      {PARSED, {PLANNING, CANCELLED}},
      {PARSE_FAILED, {PARSING, CANCELLED}},
      {PLANNING, {PLANNED, CANCELLED}},
      {PLANNED, {AGENT_ASSIGNMENT, CANCELLED}},
      {AGENT_ASSIGNMENT, {AGENT_ASSIGNED, CANCELLED}},
      {AGENT_ASSIGNED, {IN_DEVELOPMENT, CANCELLED}},
      {IN_DEVELOPMENT, {CODE_GENERATED, DEV_FAILED}},
      {CODE_GENERATED, {IN_VALIDATION, CANCELLED}},
      {DEV_FAILED, {IN_DEVELOPMENT, CANCELLED}},
      {IN_VALIDATION, {VALIDATION_PASSED, VALIDATION_FAILED}},
      {VALIDATION_PASSED, {OPTIMIZATION_PENDING, APPROVAL_PENDING}},
      {VALIDATION_FAILED, {IN_DEVELOPMENT, CANCELLED}},
      {OPTIMIZATION_PENDING, {IN_OPTIMIZATION, CANCELLED}},
      {IN_OPTIMIZATION, {OPTIMIZED, CANCELLED}},
      {OPTIMIZED, {APPROVAL_PENDING, CANCELLED}},
      {APPROVAL_PENDING, {IN_REVIEW}},
      {IN_REVIEW, {APPROVED, REJECTED}},
      {APPROVED, {DEPLOYING, CANCELLED}},
      {REJECTED, {IN_DEVELOPMENT, CANCELLED}},
      {DEPLOYING, {DEPLOYED, DEV_FAILED}},
      {DEPLOYED, {COMPLETED}},
  };
  std::array<std::vector<TaskState>, kStateCount> table;
  for (const auto& edges : spec) {
    auto targets = edges.to;
    std::sort(targets.begin(), targets.end(),
              [](TaskState a, TaskState b) { return state_name(a) < state_name(b); });
    table[static_cast<std::size_t>(edges.from)] = std::move(targets);
  }
  return table;
}

const std::array<std::vector<TaskState>, kStateCount>& table() {
  static const auto instance = build_table();
  return instance;
}

}  // namespace

std::span<const TaskState> allowed_targets(TaskState from) noexcept {
  return table()[static_cast<std::size_t>(from)];
}

bool is_allowed(TaskState from, TaskState to) noexcept {
  const auto targets = allowed_targets(from);
  return std::find(targets.begin(), targets.end(), to) != targets.end();
}

void validate_transition(TaskState from, TaskState to) {
  if (is_allowed(from, to)) return;
  std::string allowed;
  nlohmann::json allowed_names = nlohmann::json::array();
  for (const TaskState target : allowed_targets(from)) {
    allowed += (allowed.empty() ? "" : ", ") + std::string(state_name(target));
    allowed_names.push_back(std::string(state_name(target)));
  }
  const std::string from_name(state_name(from));
  const std::string to_name(state_name(to));
  throw InvalidTransitionError(
      "invalid transition " + from_name + " -> " + to_name + ": from " + from_name + " " +
          (allowed.empty() ? "no transition is allowed (it is terminal)"
                           : "the allowed targets are " + allowed),
      {{"from_state", from_name}, {"to_state", to_name}, {"allowed", allowed_names}});
}

bool is_rework(TaskState from, TaskState to) noexcept {
  return to == IN_DEVELOPMENT && is_failed(from);
}

}  // namespace aadap::lifecycle
