// The autonomy policy matrix of lifecycle.md §5: which operations need a human approval.
// Unknown operation types require approval (fail closed). Pure logic; thread-safe.
#pragma once

#include "aadap/core/settings.hpp"
#include "aadap/lifecycle/risk_level.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace aadap::lifecycle {

/// The operation types the matrix knows; any other string is treated as unknown.
inline constexpr std::string_view kOperationTypes[] = {"read_only", "write", "destructive",
                                                       "schema_change", "permission_change"};

struct ApprovalPolicy {
  bool approval_required = true;
  std::string reason;              // the matrix cell and/or the gate result that decided
  std::vector<std::string> route;  // who decides: team_lead, security_admin, platform_admin
  bool escalate = false;           // CRITICAL risk: escalate
};

/// Decides for one operation. HIGH or CRITICAL risk requires approval whatever the matrix
/// says. Routing by risk: NONE-MEDIUM team_lead; HIGH + security_admin; CRITICAL escalated to
/// team_lead, security_admin and platform_admin.
ApprovalPolicy approval_policy(TaskEnvironment environment, std::string_view operation_type,
                               RiskLevel risk = RiskLevel::NONE);

std::string_view task_environment_name(TaskEnvironment environment) noexcept;

}  // namespace aadap::lifecycle
