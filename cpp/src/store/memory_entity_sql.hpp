// SQL both stores' vector memory tables share (same table, same columns). Internal.
#pragma once

namespace aadap::store {

/// What an upsert of a memory entity changes when its id exists in its memory: everything it
/// carries.
inline constexpr const char* kEntityUpsertConflict =
    " ON CONFLICT (memory_name, id) DO UPDATE SET content = excluded.content, embedding = "
    "excluded.embedding, "
    "entity_type = excluded.entity_type, provenance = excluded.provenance, "
    "confidence = excluded.confidence, use_count = excluded.use_count, "
    "validation_pass_rate = excluded.validation_pass_rate, "
    "validation_failures = excluded.validation_failures, "
    "critical_failure_at = excluded.critical_failure_at, "
    "is_deprecated = excluded.is_deprecated, metadata = excluded.metadata, "
    "created_at = excluded.created_at, updated_at = excluded.updated_at, "
    "embedding_digest = excluded.embedding_digest";

}  // namespace aadap::store
