// The vector memory tables of the SQLite store (memory.md §2): `vector_memories` records each
// memory's dimension and embedder, `memory_entities` holds the entities with their
// embeddings as float32 blobs (native byte order, as the index uses them) and their digests.
#include "aadap/core/errors.hpp"
#include "aadap/store/embedding_digest.hpp"
#include "aadap/store/sqlite_store.hpp"
#include "memory_entity_sql.hpp"

#include <nlohmann/json.hpp>

#include <cstring>

namespace aadap::store {

namespace {

constexpr const char* kEntityColumns =
    "id, memory_name, content, embedding, entity_type, provenance, confidence, use_count, "
    "validation_pass_rate, validation_failures, critical_failure_at, is_deprecated, metadata, "
    "created_at, updated_at, embedding_digest";

// kEntityColumns as read, with or without the embeddings.
std::string entity_columns(EmbeddingRead embeddings) {
  std::string columns = kEntityColumns;
  if (embeddings == EmbeddingRead::omitted) columns.replace(columns.find("embedding"), 9, "x''");
  return columns;
}

MemoryEntityRecord read_entity(const SqliteStatement& r) {
  MemoryEntityRecord e;
  e.id = *r.text(0);
  e.memory_name = *r.text(1);
  e.content = *r.text(2);
  const std::string_view blob = r.blob(3);
  if (blob.size() % sizeof(float) != 0) {
    throw StoreError("the embedding of memory entity " + e.id + " is not a float32 array (" +
                     std::to_string(blob.size()) + " bytes)");
  }
  e.embedding.resize(blob.size() / sizeof(float));
  if (!blob.empty()) std::memcpy(e.embedding.data(), blob.data(), blob.size());
  e.entity_type = *r.text(4);
  e.provenance = *r.text(5);
  e.confidence = r.real(6);
  e.use_count = r.integer(7);
  e.validation_pass_rate = r.real(8);
  e.validation_failures = r.integer(9);
  e.critical_failure_at = r.text(10);
  e.is_deprecated = r.integer(11) != 0;
  e.metadata_json = r.text(12).value_or("{}");
  e.created_at = *r.text(13);
  e.updated_at = *r.text(14);
  e.embedding_digest = r.optional_integer(15);
  return e;
}

}  // namespace

VectorMemoryRecord SqliteStore::open_vector_memory(const VectorMemoryRecord& wanted) {
  std::lock_guard lock(mutex_);
  SqliteTransaction tx(db_);
  {
    const auto insert = db_.cached(
        "INSERT INTO vector_memories (name, dimension, embedder_provider, embedder_model, "
        "created_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING");
    insert->bind(1, wanted.name)
        .bind(2, static_cast<std::int64_t>(wanted.dimension))
        .bind(3, wanted.embedder_provider)
        .bind(4, wanted.embedder_model)
        .bind(5, wanted.created_at);
    insert->run();
  }
  VectorMemoryRecord stored;
  {
    const auto select = db_.cached(
        "SELECT name, dimension, embedder_provider, embedder_model, created_at "
        "FROM vector_memories WHERE name = ?1");
    select->bind(1, wanted.name);
    select->step();
    stored = VectorMemoryRecord{*select->text(0), static_cast<int>(select->integer(1)),
                                *select->text(2), *select->text(3), *select->text(4)};
  }
  tx.commit();
  return stored;
}

std::vector<MemoryEntityRecord> SqliteStore::memory_entities(std::string_view memory_name,
                                                             EmbeddingRead embeddings) {
  std::lock_guard lock(mutex_);
  const auto select = db_.cached("SELECT " + entity_columns(embeddings) +
                                 // the memory's rows in rowid (first written) order, with no
                                 // sort of their blobs and no pass over other memories' rows
                                 " FROM memory_entities INDEXED BY memory_entities_by_memory "
                                 "WHERE memory_name = ?1");
  select->bind(1, memory_name);
  std::vector<MemoryEntityRecord> out;
  while (select->step()) out.push_back(read_entity(*select));
  return out;
}

std::vector<MemoryEntityRecord> SqliteStore::memory_entities_by_id(
    std::string_view memory_name, const std::vector<std::string>& ids) {
  std::lock_guard lock(mutex_);
  const auto select = db_.cached(std::string("SELECT ") + kEntityColumns +
                                 " FROM memory_entities WHERE memory_name = ?1 AND id IN "
                                 "(SELECT value FROM json_each(?2)) ORDER BY rowid");
  select->bind(1, memory_name).bind(2, nlohmann::json(ids).dump());
  std::vector<MemoryEntityRecord> out;
  while (select->step()) out.push_back(read_entity(*select));
  return out;
}

void SqliteStore::put_memory_entities(const std::vector<MemoryEntityRecord>& entities) {
  std::lock_guard lock(mutex_);
  SqliteTransaction tx(db_);
  const auto upsert = db_.cached(
      std::string("INSERT INTO memory_entities (") + kEntityColumns +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)" +
      kEntityUpsertConflict);
  for (const auto& e : entities) {
    upsert->bind(1, e.id)
        .bind(2, e.memory_name)
        .bind(3, e.content)
        .bind_blob(4, e.embedding.data(), e.embedding.size() * sizeof(float))
        .bind(5, e.entity_type)
        .bind(6, e.provenance)
        .bind(7, e.confidence)
        .bind(8, e.use_count)
        .bind(9, e.validation_pass_rate)
        .bind(10, e.validation_failures)
        .bind_optional(11, e.critical_failure_at)
        .bind(12, static_cast<std::int64_t>(e.is_deprecated ? 1 : 0))
        .bind(13, e.metadata_json)
        .bind(14, e.created_at)
        .bind(15, e.updated_at)
        .bind(16, embedding_digest(e.embedding.data(), e.embedding.size()));
    upsert->run();
    upsert->reset();
  }
  tx.commit();
}

void SqliteStore::delete_memory_entities(std::string_view memory_name,
                                         const std::vector<std::string>& ids) {
  std::lock_guard lock(mutex_);
  SqliteTransaction tx(db_);
  const auto remove = db_.cached("DELETE FROM memory_entities WHERE memory_name = ?1 AND id = ?2");
  for (const auto& id : ids) {
    remove->bind(1, memory_name).bind(2, id);
    remove->run();
    remove->reset();
  }
  tx.commit();
}

MemoryChanges SqliteStore::memory_changes(std::string_view memory_name, std::string_view since) {
  std::lock_guard lock(mutex_);
  // Both reads in one transaction, so another process's write lands in both or in neither.
  SqliteTransaction tx(db_);
  MemoryChanges out;
  {
    const auto changed = db_.cached(std::string("SELECT ") + kEntityColumns +
                                    " FROM memory_entities WHERE memory_name = ?1 AND "
                                    "updated_at >= ?2 ORDER BY rowid");
    changed->bind(1, memory_name).bind(2, since);
    while (changed->step()) out.changed.push_back(read_entity(*changed));
  }
  {
    const auto ids = db_.cached("SELECT id FROM memory_entities WHERE memory_name = ?1");
    ids->bind(1, memory_name);
    while (ids->step()) out.ids.push_back(*ids->text(0));
  }
  tx.commit();
  return out;
}

}  // namespace aadap::store
