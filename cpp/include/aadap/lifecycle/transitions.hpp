// The transition whitelist of lifecycle.md §1: 44 edges, everything else (self-loops
// included) is invalid. Pure logic; thread-safe.
#pragma once

#include "aadap/lifecycle/task_state.hpp"

#include <span>

namespace aadap::lifecycle {

inline constexpr std::size_t kEdgeCount = 44;

/// The states reachable in one step from `from`, sorted by name (empty for terminal states).
std::span<const TaskState> allowed_targets(TaskState from) noexcept;

bool is_allowed(TaskState from, TaskState to) noexcept;

/// Throws InvalidTransitionError (details: from_state, to_state, allowed) unless the edge is
/// whitelisted; the message lists the allowed targets in sorted order.
void validate_transition(TaskState from, TaskState to);

/// Entering IN_DEVELOPMENT from a failed or rejected state: one rework (retry_count + 1).
bool is_rework(TaskState from, TaskState to) noexcept;

}  // namespace aadap::lifecycle
