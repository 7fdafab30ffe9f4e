// The loop guard of INV-03 (lifecycle.md §2): a state may be entered at most three times per
// task. Pure logic; thread-safe.
#pragma once

#include "aadap/lifecycle/task_state.hpp"

namespace aadap::lifecycle {

inline constexpr int kMaxEntriesPerState = 3;

/// Failed states and CANCELLED are never refused by the loop guard, so a task can always
/// leave a loop by failing or being cancelled.
bool is_loop_exempt(TaskState state) noexcept;

/// Throws when entering `to` would exceed kMaxEntriesPerState, given how many times the task
/// entered it before: RetryLimitExceededError for IN_DEVELOPMENT (the first attempt plus two
/// reworks), LoopDetectedError for any other state. Details: state, entries, limit.
void check_entry_limit(TaskState to, int previous_entries);

}  // namespace aadap::lifecycle
