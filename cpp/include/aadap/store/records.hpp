// Rows of the store as plain values (lifecycle.md §3). JSON columns are kept as JSON text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aadap::store {

struct TaskRecord {
  std::string id;
  std::string title;
  std::string description;
  std::string current_state = "SUBMITTED";
  int priority = 0;
  std::string environment = "SANDBOX";
  std::optional<std::string> platform;
  std::optional<std::string> language;
  std::string created_by;
  std::int64_t token_budget = 50000;
  std::int64_t tokens_used = 0;
  std::int64_t retry_count = 0;
  std::int64_t version = 0;
  std::string metadata_json = "{}";
  std::string created_at;
  std::string updated_at;
};

struct TransitionRecord {
  std::string id;
  std::string task_id;
  std::int64_t seq = 0;
  std::string from_state;
  std::string to_state;
  std::string actor;
  std::string reason;
  std::string metadata_json = "{}";
  std::optional<std::string> correlation_id;
  std::string created_at;
};

struct AuditRecord {
  std::string id;
  std::optional<std::string> correlation_id;
  std::optional<std::string> task_id;
  std::string event_type;
  std::string actor;
  std::string action;
  std::optional<std::string> resource_type;
  std::optional<std::string> resource_id;
  std::string details_json = "{}";
  std::string created_at;
};

/// A task's events as the next transition sees them.
struct EventSummary {
  std::int64_t entries = 0;   // events that entered the state asked about
  std::int64_t last_seq = 0;  // 0 when the task has no events yet
};

/// A filtered, ordered page of tasks. Empty/unset fields do not filter.
struct TaskQuery {
  std::vector<std::string> states;  // any of these states
  std::optional<std::string> environment;
  std::optional<std::string> platform;
  std::optional<int> min_priority;
  std::optional<int> max_priority;
  std::optional<std::string> created_after;   // ISO-8601 UTC, inclusive
  std::optional<std::string> created_before;  // ISO-8601 UTC, exclusive
  std::string order_by = "created_at";        // created_at | updated_at | priority
  bool descending = true;
  int limit = 50;
  std::int64_t offset = 0;
};

}  // namespace aadap::store
