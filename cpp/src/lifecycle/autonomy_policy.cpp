#include "aadap/lifecycle/autonomy_policy.hpp"

#include <algorithm>

namespace aadap::lifecycle {

std::string_view task_environment_name(TaskEnvironment environment) noexcept {
  return environment == TaskEnvironment::production ? "PRODUCTION" : "SANDBOX";
}

ApprovalPolicy approval_policy(TaskEnvironment environment, std::string_view operation_type,
                               RiskLevel risk) {
  ApprovalPolicy policy;
  const std::string env(task_environment_name(environment));
  const std::string op(operation_type.substr(0, 80));
  const bool known = std::find(std::begin(kOperationTypes), std::end(kOperationTypes),
                               operation_type) != std::end(kOperationTypes);
  bool matrix_requires = true;
  if (!known) {
    policy.reason = "unknown operation type '" + op + "' requires approval (fail closed)";
  } else if (op == "read_only") {
    matrix_requires = false;
    policy.reason = env + " / read_only: no approval needed";
  } else if (op == "write") {
    matrix_requires = environment == TaskEnvironment::production;
    policy.reason =
        env + " / write: " + (matrix_requires ? "approval required" : "no approval needed");
  } else {
    policy.reason = (op == "destructive" ? env : std::string("any environment")) + " / " + op +
                    ": approval required";
  }
  policy.approval_required = matrix_requires || !passes_gate(risk);
  if (!passes_gate(risk)) {
    policy.reason += "; risk " + std::string(risk_name(risk)) + " requires approval";
  }
  policy.route = {"team_lead"};
  if (risk >= RiskLevel::HIGH) policy.route.push_back("security_admin");
  if (risk == RiskLevel::CRITICAL) {
    policy.route.push_back("platform_admin");
    policy.escalate = true;
  }
  return policy;
}

}  // namespace aadap::lifecycle
