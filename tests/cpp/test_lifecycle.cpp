#include "aadap/core/errors.hpp"
#include "aadap/lifecycle/autonomy_policy.hpp"
#include "aadap/lifecycle/guards.hpp"
#include "aadap/lifecycle/risk_level.hpp"
#include "aadap/lifecycle/transitions.hpp"

#include <gtest/gtest.h>

#include <map>
#include <queue>
#include <set>
#include <string>

using namespace aadap;
using namespace aadap::lifecycle;

namespace {

// The whitelist of lifecycle.md §1, written out independently of the implementation.
const std::set<std::pair<std::string, std::string>> kSpecEdges = {
    {"SUBMITTED", "PARSING"},
    {"SUBMITTED", "CANCELLED"},
    {"PARSING", "PARSED"},
    {"PARSING", "PARSE_FAILED"},
    {"PARSED", "PLANNING"},
    {"PARSED", "CANCELLED"},
    {"PARSE_FAILED", "PARSING"},
    {"PARSE_FAILED", "CANCELLED"},
    {"PLANNING", "PLANNED"},
    {"PLANNING", "CANCELLED"},
    {"PLANNED", "AGENT_ASSIGNMENT"},
    {"PLANNED", "CANCELLED"},
    {"AGENT_ASSIGNMENT", "AGENT_ASSIGNED"},
    {"AGENT_ASSIGNMENT", "CANCELLED"},
    {"AGENT_ASSIGNED", "IN_DEVELOPMENT"},
    {"AGENT_ASSIGNED", "CANCELLED"},
    {"IN_DEVELOPMENT", "CODE_GENERATED"},
    {"IN_DEVELOPMENT", "DEV_FAILED"},
    {"CODE_GENERATED", "IN_VALIDATION"},
    {"CODE_GENERATED", "CANCELLED"},
    {"DEV_FAILED", "IN_DEVELOPMENT"},
    {"DEV_FAILED", "CANCELLED"},
    {"IN_VALIDATION", "VALIDATION_PASSED"},
    {"IN_VALIDATION", "VALIDATION_FAILED"},
    {"VALIDATION_PASSED", "OPTIMIZATION_PENDING"},
    {"VALIDATION_PASSED", "APPROVAL_PENDING"},
    {"VALIDATION_FAILED", "IN_DEVELOPMENT"},
    {"VALIDATION_FAILED", "CANCELLED"},
    {"OPTIMIZATION_PENDING", "IN_OPTIMIZATION"},
    {"OPTIMIZATION_PENDING", "CANCELLED"},
    {"IN_OPTIMIZATION", "OPTIMIZED"},
    {"IN_OPTIMIZATION", "CANCELLED"},
    {"OPTIMIZED", "APPROVAL_PENDING"},
    {"OPTIMIZED", "CANCELLED"},
    {"APPROVAL_PENDING", "IN_REVIEW"},
    {"IN_REVIEW", "APPROVED"},
    {"IN_REVIEW", "REJECTED"},
    {"APPROVED", "DEPLOYING"},
    {"APPROVED", "CANCELLED"},
    {"REJECTED", "IN_DEVELOPMENT"},
    {"REJECTED", "CANCELLED"},
    {"DEPLOYING", "DEPLOYED"},
    {"DEPLOYING", "DEV_FAILED"},
    {"DEPLOYED", "COMPLETED"},
};

int shortest_path(TaskState from, TaskState to, bool avoid_direct_approval) {
  std::map<TaskState, int> distance{{from, 0}};
  std::queue<TaskState> queue;
  queue.push(from);
  while (!queue.empty()) {
    const TaskState current = queue.front();
    queue.pop();
    for (const TaskState next : allowed_targets(current)) {
      if (avoid_direct_approval && current == TaskState::VALIDATION_PASSED &&
          next == TaskState::APPROVAL_PENDING) {
        continue;
      }
      if (distance.emplace(next, distance[current] + 1).second) queue.push(next);
    }
  }
  return distance.count(to) ? distance[to] : -1;
}

}  // namespace

TEST(Lifecycle, StatesInOrder) {
  ASSERT_EQ(all_states().size(), 25u);
  EXPECT_EQ(state_name(all_states().front()), "SUBMITTED");
  EXPECT_EQ(state_name(all_states().back()), "CANCELLED");
  EXPECT_EQ(ordinal(TaskState::IN_REVIEW), 19);
  for (const TaskState state : all_states()) EXPECT_EQ(parse_state(state_name(state)), state);
}

TEST(Lifecycle, UnknownStateNamesAreRefused) {
  for (auto bad : {"BOGUS", "parsing", "", "SUBMITTED ", "START", "END"}) {
    try {
      parse_state(bad);
      FAIL() << bad;
    } catch (const InvalidStateError& e) {
      EXPECT_EQ(e.details().at("state"), bad);
    }
  }
}

TEST(Lifecycle, All625PairsMatchTheWhitelist) {
  int allowed = 0;
  for (const TaskState from : all_states()) {
    for (const TaskState to : all_states()) {
      const bool expected =
          kSpecEdges.count({std::string(state_name(from)), std::string(state_name(to))}) > 0;
      EXPECT_EQ(is_allowed(from, to), expected) << state_name(from) << " -> " << state_name(to);
      if (expected) {
        EXPECT_NO_THROW(validate_transition(from, to));
        ++allowed;
      } else {
        EXPECT_THROW(validate_transition(from, to), InvalidTransitionError);
      }
    }
  }
  EXPECT_EQ(allowed, 44);
  EXPECT_EQ(kSpecEdges.size(), kEdgeCount);
}

TEST(Lifecycle, GraphFacts) {
  for (const TaskState to : all_states()) {
    bool incoming = false;
    for (const TaskState from : all_states()) incoming = incoming || is_allowed(from, to);
    EXPECT_EQ(incoming, to != TaskState::SUBMITTED) << state_name(to);
    EXPECT_FALSE(is_allowed(to, to)) << "self-loop " << state_name(to);
  }
  EXPECT_EQ(shortest_path(TaskState::SUBMITTED, TaskState::COMPLETED, false), 16);
  EXPECT_EQ(shortest_path(TaskState::SUBMITTED, TaskState::COMPLETED, true), 19);
  EXPECT_TRUE(allowed_targets(TaskState::COMPLETED).empty());
  EXPECT_TRUE(allowed_targets(TaskState::CANCELLED).empty());
}

TEST(Lifecycle, InvalidTransitionErrorListsSortedTargets) {
  try {
    validate_transition(TaskState::SUBMITTED, TaskState::COMPLETED);
    FAIL();
  } catch (const InvalidTransitionError& e) {
    EXPECT_EQ(e.details().at("from_state"), "SUBMITTED");
    EXPECT_EQ(e.details().at("to_state"), "COMPLETED");
    EXPECT_EQ(e.details().at("allowed"), nlohmann::json::array({"CANCELLED", "PARSING"}));
    EXPECT_NE(std::string(e.what()).find("CANCELLED, PARSING"), std::string::npos) << e.what();
  }
  EXPECT_THROW(validate_transition(TaskState::COMPLETED, TaskState::SUBMITTED),
               InvalidTransitionError);
}

TEST(Lifecycle, Groups) {
  std::map<std::string, int> counts;
  for (const TaskState s : all_states()) {
    counts["terminal"] += is_terminal(s);
    counts["failed"] += is_failed(s);
    counts["awaiting"] += is_awaiting_human(s);
    counts["working"] += is_working(s);
    counts["active"] += is_active(s);
    counts[std::string(phase(s))] += 1;
  }
  EXPECT_EQ(counts["terminal"], 2);
  EXPECT_EQ(counts["failed"], 4);
  EXPECT_EQ(counts["awaiting"], 2);
  EXPECT_EQ(counts["working"], 7);
  EXPECT_EQ(counts["active"], 23);
  EXPECT_EQ(counts["Planning"], 6);
  EXPECT_EQ(counts["Development"], 5);
  EXPECT_EQ(counts["Validation"], 3);
  EXPECT_EQ(counts["Optimization"], 3);
  EXPECT_EQ(counts["Approval"], 4);
  EXPECT_EQ(counts["Deployment"], 4);
  EXPECT_TRUE(is_rework(TaskState::REJECTED, TaskState::IN_DEVELOPMENT));
  EXPECT_FALSE(is_rework(TaskState::AGENT_ASSIGNED, TaskState::IN_DEVELOPMENT));
}

TEST(Lifecycle, LoopGuardAtItsLimits) {
  EXPECT_NO_THROW(check_entry_limit(TaskState::PARSING, 0));
  EXPECT_NO_THROW(check_entry_limit(TaskState::PARSING, 2));  // the third entry
  EXPECT_THROW(check_entry_limit(TaskState::PARSING, 3), LoopDetectedError);
  try {
    check_entry_limit(TaskState::IN_DEVELOPMENT, 3);
    FAIL();
  } catch (const RetryLimitExceededError& e) {
    EXPECT_EQ(e.details().at("guard"), "retry");
    EXPECT_EQ(e.details().at("entries"), 3);
  }
  EXPECT_THROW(check_entry_limit(TaskState::IN_DEVELOPMENT, 3), LoopDetectedError)
      << "RetryLimitExceededError is a LoopDetectedError";
  for (const TaskState exempt :
       {TaskState::PARSE_FAILED, TaskState::DEV_FAILED, TaskState::VALIDATION_FAILED,
        TaskState::REJECTED, TaskState::CANCELLED}) {
    EXPECT_NO_THROW(check_entry_limit(exempt, 100)) << state_name(exempt);
  }
}

TEST(Lifecycle, RiskLevelsCompareByOrdinal) {
  EXPECT_LT(RiskLevel::NONE, RiskLevel::LOW);
  EXPECT_LT(RiskLevel::MEDIUM, RiskLevel::HIGH);
  EXPECT_TRUE(passes_gate(RiskLevel::MEDIUM));
  EXPECT_FALSE(passes_gate(RiskLevel::HIGH));
  EXPECT_EQ(parse_risk("CRITICAL"), RiskLevel::CRITICAL);
  EXPECT_THROW(parse_risk("critical"), InvalidArgumentError);
}

TEST(Lifecycle, AutonomyMatrix) {
  const auto S = TaskEnvironment::sandbox;
  const auto P = TaskEnvironment::production;
  EXPECT_FALSE(approval_policy(S, "read_only").approval_required);
  EXPECT_FALSE(approval_policy(S, "write").approval_required);
  EXPECT_TRUE(approval_policy(S, "destructive").approval_required);
  EXPECT_FALSE(approval_policy(P, "read_only").approval_required);
  EXPECT_TRUE(approval_policy(P, "write").approval_required);
  EXPECT_TRUE(approval_policy(P, "destructive").approval_required);
  for (const auto env : {S, P}) {
    EXPECT_TRUE(approval_policy(env, "schema_change").approval_required);
    EXPECT_TRUE(approval_policy(env, "permission_change").approval_required);
    const auto unknown = approval_policy(env, "drop_everything");
    EXPECT_TRUE(unknown.approval_required) << "fail closed";
    EXPECT_NE(unknown.reason.find("fail closed"), std::string::npos);
  }
  const auto risky = approval_policy(S, "read_only", RiskLevel::HIGH);
  EXPECT_TRUE(risky.approval_required);
  EXPECT_EQ(risky.route, (std::vector<std::string>{"team_lead", "security_admin"}));
  const auto critical = approval_policy(S, "write", RiskLevel::CRITICAL);
  EXPECT_TRUE(critical.escalate);
  EXPECT_EQ(critical.route.size(), 3u);
  EXPECT_EQ(approval_policy(S, "write", RiskLevel::MEDIUM).route,
            std::vector<std::string>{"team_lead"});
}
