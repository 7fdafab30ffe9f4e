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

struct ArtifactRecord {
  std::string id;
  std::string task_id;
  std::string artifact_type;  // generated_code, validation_report, decision_explanation, ...
  std::string name;
  std::string content;
  std::string content_hash;  // sha256 hex of the UTF-8 content
  std::optional<std::string> storage_uri;
  std::int64_t version = 1;
  std::optional<std::string> parent_id;
  std::optional<std::string> edit_message;
  std::string metadata_json = "{}";
  std::string created_at;
};

struct ApprovalRecord {
  std::string id;
  std::string task_id;
  std::string operation_type;
  std::string environment;
  std::string status = "PENDING";  // PENDING | APPROVED | REJECTED | EXPIRED | ESCALATED
  std::string requested_by;
  std::optional<std::string> decided_by;
  std::optional<std::string> decision_reason;
  std::string risk_level = "NONE";
  std::optional<std::string> artifact_id;
  std::optional<std::string> artifact_hash;
  std::optional<std::string> explanation_artifact_id;
  std::string metadata_json = "{}";
  std::string created_at;
  std::optional<std::string> decided_at;
  std::optional<std::string> expires_at;
};

struct ExecutionRecord {
  std::string id;
  std::string task_id;
  std::string environment;
  std::optional<std::string> platform;
  std::string status = "RUNNING";  // PENDING | RUNNING | SUCCESS | FAILED | CANCELLED
  std::optional<std::string> code_artifact_id;
  std::optional<std::string> output;
  std::optional<std::string> error;
  std::optional<std::int64_t> duration_ms;
  std::string metadata_json = "{}";
  std::optional<std::string> started_at;
  std::optional<std::string> completed_at;
  std::string created_at;
};

struct CostRecord {
  std::string id;
  std::string task_id;
  std::optional<std::string> agent_type;
  std::int64_t tokens_in = 0;
  std::int64_t tokens_out = 0;
  double cost_usd = 0;
  std::string created_at;
};

struct ResourceRecord {
  std::string id;
  std::string task_id;
  std::string platform;       // databricks | fabric
  std::string resource_type;  // pipeline | job | table | notebook | shortcut
  std::string platform_resource_id;
  std::string definition_json = "{}";
  std::string status = "CREATED";  // CREATED | QUEUED | RUNNING | COMPLETED | FAILED
  std::string metadata_json = "{}";
  std::string created_at;
  std::string updated_at;
};

struct TaskLogRecord {
  std::string id;
  std::string task_id;
  std::string level;
  std::string message;
  std::optional<std::string> correlation_id;
  std::optional<std::string> source;
  std::string created_at;
};

/// A named vector memory as recorded when it was created (memory.md §2).
struct VectorMemoryRecord {
  std::string name;
  int dimension = 0;
  std::string embedder_provider;
  std::string embedder_model;
  std::string created_at;
};

/// One vector memory entity; `embedding` holds the vector as the caller gave it.
struct MemoryEntityRecord {
  std::string id;
  std::string memory_name;
  std::string content;
  std::vector<float> embedding;
  std::string entity_type;
  std::string provenance;
  double confidence = 1.0;
  std::int64_t use_count = 0;
  double validation_pass_rate = 1.0;
  std::int64_t validation_failures = 0;
  std::optional<std::string> critical_failure_at;
  bool is_deprecated = false;
  std::string metadata_json = "{}";
  std::string created_at;
  std::string updated_at;
  /// embedding_digest() of the stored embedding, filled in by reads (also when the embedding
  /// is not read); computed by the store on writes, so writers leave it unset.
  std::optional<std::int64_t> embedding_digest;
};

/// Whether Store::memory_entities reads the embeddings.
enum class EmbeddingRead { included, omitted };

/// What a vector memory's copy in another process needs to catch up (Store::memory_changes).
struct MemoryChanges {
  std::vector<MemoryEntityRecord> changed;  // written at or after `since`, in write order
  std::vector<std::string> ids;             // every entity of the memory, in no order
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
