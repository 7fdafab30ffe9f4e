// The 25 task states of lifecycle.md §1 (STATE_SET_VERSION v1.0), their names, ordinal order
// and canonical groups. Pure logic, no I/O; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace aadap::lifecycle {

inline constexpr std::string_view kStateSetVersion = "v1.0";

// Declaration order is the ordinal order of the spec.
enum class TaskState : std::uint8_t {
  SUBMITTED,
  PARSING,
  PARSED,
  PARSE_FAILED,
  PLANNING,
  PLANNED,
  AGENT_ASSIGNMENT,
  AGENT_ASSIGNED,
  IN_DEVELOPMENT,
  CODE_GENERATED,
  DEV_FAILED,
  IN_VALIDATION,
  VALIDATION_PASSED,
  VALIDATION_FAILED,
  OPTIMIZATION_PENDING,
  IN_OPTIMIZATION,
  OPTIMIZED,
  APPROVAL_PENDING,
  IN_REVIEW,
  APPROVED,
  REJECTED,
  DEPLOYING,
  DEPLOYED,
  COMPLETED,
  CANCELLED,
};

inline constexpr std::size_t kStateCount = 25;

/// Every state in ordinal order.
const std::array<TaskState, kStateCount>& all_states() noexcept;

/// The state's name, which is also its string value ("IN_REVIEW").
std::string_view state_name(TaskState state) noexcept;

/// The state named exactly `name` (case-sensitive); InvalidStateError (carrying the string in
/// its details) otherwise.
TaskState parse_state(std::string_view name);

/// 1-based position in the spec's order (SUBMITTED = 1, CANCELLED = 25).
inline int ordinal(TaskState state) noexcept {
  return static_cast<int>(state) + 1;
}

// Canonical groups.
bool is_terminal(TaskState state) noexcept;  // COMPLETED, CANCELLED
bool is_failed(TaskState state) noexcept;  // PARSE_FAILED, DEV_FAILED, VALIDATION_FAILED, REJECTED
bool is_awaiting_human(TaskState state) noexcept;  // APPROVAL_PENDING, IN_REVIEW
bool is_working(TaskState state) noexcept;         // PARSING, PLANNING, ..., DEPLOYING
inline bool is_active(TaskState state) noexcept {
  return !is_terminal(state);
}

/// The UI phase: Planning (states 1-6), Development (7-11), Validation (12-14), Optimization
/// (15-17), Approval (18-21), Deployment (22-25).
std::string_view phase(TaskState state) noexcept;

}  // namespace aadap::lifecycle
