// Vector memory (memory.md §2): a named memory of entities searched by cosine similarity.
// INV-08: nothing below 0.85 is ever returned. The exact index scores every live vector with
// the project's SIMD kernel and applies every filter before ranking, so a qualifying entity
// is never lost behind disqualified neighbours. The durable copy lives in the store's
// `memory_entities` table; the index is rebuilt from it on open.
//
// Thread-safe: searches run concurrently; writes are serialised and exclusive.
#pragma once

#include "aadap/core/embedder.hpp"
#include "aadap/memory/hnsw_index.hpp"
#include "aadap/memory/huge_page_allocator.hpp"
#include "aadap/store/store.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace aadap::memory {

/// INV-08: the lowest similarity a search may return.
inline constexpr double kSimilarityFloor = 0.85;
/// Similarities are float32 dot products of unit vectors: one at the floor in exact
/// arithmetic may come out up to this much below it, and still counts as at the floor.
inline constexpr double kFloorTolerance = 1e-6;

/// A new entity, without its embedding (passed alongside, so batches cross once).
struct EntitySpec {
  std::string id;  // empty: a new UUID
  std::string content;
  std::string entity_type = "pattern";
  std::string provenance;  // required: where it came from, e.g. "task:<id>"
  double confidence = 1.0;
  std::string metadata_json = "{}";
  std::string created_at;  // empty: now (set it to import entities with their age)
};

struct SearchOptions {
  std::size_t k = 10;
  double min_similarity = kSimilarityFloor;  // raised to the floor when lower
  std::optional<std::string> entity_type;
  std::string metadata_json = "{}";  // each key must equal the entity's
  std::optional<std::string> provenance_prefix;
  bool record_use = false;  // add 1 to each returned entity's use_count
};

/// A search result; `entity.embedding` is left empty (get() returns it).
struct SearchHit {
  store::MemoryEntityRecord entity;
  double similarity = 0;
};

/// Fields update() may change; unset ones stay.
struct EntityUpdate {
  std::optional<double> confidence;
  std::optional<double> validation_pass_rate;
  std::optional<std::int64_t> validation_failures;
  std::optional<std::string> critical_failure_at;
  std::optional<std::string> metadata_json;  // replaces the metadata object
};

struct GovernReport {
  std::vector<std::string> promoted;
  std::vector<std::string> deprecated;
};

struct VectorMemoryStats {
  std::string name;
  int dimension = 0;
  std::string embedder_provider;
  std::string embedder_model;
  std::size_t entities = 0;
  std::size_t deprecated = 0;
  std::size_t stale = 0;
  std::size_t searchable = 0;        // neither deprecated nor stale
  std::string index = "exact";       // or "hnsw"
  std::size_t graph_nodes = 0;       // hnsw: nodes in the graph, superseded ones included
  bool graph_from_snapshot = false;  // hnsw: loaded from the snapshot file on open
  std::string kernel;                // the SIMD implementation the scan runs
  std::size_t index_bytes = 0;
};

/// exact: every qualifying vector is scored (the reference). hnsw: a FAISS HNSW graph walk
/// that skips disqualified nodes, its candidates re-scored exactly; a search whose filters
/// leave few qualifying entities scans them exactly instead.
enum class IndexKind { exact, hnsw };

struct VectorMemoryOptions {
  double min_similarity = kSimilarityFloor;  // AADAP_VECTOR_MIN_SIMILARITY (never below 0.85)
  int max_staleness_days = 90;               // AADAP_VECTOR_MAX_STALENESS_DAYS
  IndexKind index = IndexKind::exact;
  HnswParameters hnsw;
  /// hnsw: where the graph is saved (snapshot()) and loaded from on open; empty: nowhere.
  std::string snapshot_path;
};

class VectorMemory {
 public:
  /// Opens the memory `name` of `store`, creating it with the embedder's identity; refuses
  /// (InvalidArgumentError) one recorded with another dimension or embedder. Builds the index
  /// from the stored entities.
  VectorMemory(std::shared_ptr<store::Store> store, std::string name,
               std::shared_ptr<const Embedder> embedder, VectorMemoryOptions options = {});

  const std::string& name() const noexcept { return name_; }
  int dimension() const noexcept { return dimension_; }
  const std::shared_ptr<const Embedder>& embedder() const noexcept { return embedder_; }

  /// Adds `specs.size()` entities; `embeddings` holds as many rows of dimension() floats.
  /// All or nothing: any invalid entity or vector (zero, NaN/inf), or an id that exists,
  /// is refused before anything is written. Vectors are stored L2-normalised.
  std::vector<store::MemoryEntityRecord> add_many(const std::vector<EntitySpec>& specs,
                                                  const float* embeddings, std::size_t rows);
  /// Like add_many, but an existing id is replaced (content, embedding, type, provenance,
  /// confidence, metadata; its counters and created_at stay).
  std::vector<store::MemoryEntityRecord> upsert_many(const std::vector<EntitySpec>& specs,
                                                     const float* embeddings, std::size_t rows);
  /// The entity, deprecated or not, with its (unit) embedding.
  std::optional<store::MemoryEntityRecord> get(const std::string& id) const;
  /// Removes the entities that exist; returns how many did.
  std::size_t remove(const std::vector<std::string>& ids);

  std::vector<SearchHit> search(const float* query, std::size_t length,
                                const SearchOptions& options);
  /// One result list per row of `queries` (rows × dimension()), scanning the index once.
  std::vector<std::vector<SearchHit>> search_many(const float* queries, std::size_t rows,
                                                  const SearchOptions& options);

  store::MemoryEntityRecord update(const std::string& id, const EntityUpdate& changes);
  /// Marks the entity promoted (metadata "promoted": true, "promoted_at"); a deprecated one
  /// cannot be (InvalidStateError).
  store::MemoryEntityRecord promote(const std::string& id);
  /// Deprecates it (search never returns it again; get() still does), noting `reason`.
  store::MemoryEntityRecord deprecate(const std::string& id, const std::string& reason);
  /// Applies the governance predicates to every entity: deprecates those that must be, then
  /// promotes the eligible ones not yet promoted.
  GovernReport govern();
  VectorMemoryStats stats() const;
  /// Catches up with what other processes wrote to the store since the last open or
  /// refresh: new and changed entities are indexed, deleted ones dropped. Returns how many
  /// entities changed.
  std::size_t refresh();
  /// hnsw: writes the graph to the snapshot path, atomically (temporary file, fsync, rename).
  /// The next open loads it, retires the nodes of entities deleted or changed since and adds
  /// the entities it lacks, instead of building the graph again. Returns the path.
  std::string snapshot() const;

 private:
  /// One indexed entity: its record (embedding moved to the matrix) and what filters read.
  struct Slot {
    store::MemoryEntityRecord record;
    nlohmann::json metadata;
    std::chrono::system_clock::time_point created;
    std::chrono::system_clock::time_point updated;
  };
  struct Candidate {
    std::size_t slot;
    float similarity;
  };

  std::vector<store::MemoryEntityRecord> write(const std::vector<EntitySpec>& specs,
                                               const float* embeddings, std::size_t rows,
                                               bool replace);
  /// Checks one vector and returns it L2-normalised.
  std::vector<float> unit_vector(const float* vector, std::size_t length,
                                 const std::string& what) const;
  /// Stores `records` and puts them in the index (new ids appended, existing ones replaced).
  /// Call with the write lock held.
  void commit(std::vector<store::MemoryEntityRecord> records);
  void place(store::MemoryEntityRecord record);
  /// Drops the slot of `id` (a deleted entity) from the index.
  void drop(const std::string& id);
  bool qualifies(const Slot& slot, const SearchOptions& options, const nlohmann::json& metadata,
                 std::chrono::system_clock::time_point oldest) const;
  /// Scores the rows of `mask` (all rows when null) and keeps those at or above `floor`.
  std::vector<Candidate> scan(const float* query, const std::vector<char>* mask,
                              const SearchOptions& options, const nlohmann::json& metadata,
                              double floor) const;
  std::vector<Candidate> walk(const float* query, const SearchOptions& options,
                              const nlohmann::json& metadata, double floor) const;
  /// hnsw: gives every slot without a node (new or replaced vectors) one, in one add.
  void index_new_slots();
  /// hnsw: loads the entities and the graph of the snapshot file when it belongs to this
  /// memory and most of its nodes still hold an entity's vector (those vectors are not read
  /// from the store again); false, with nothing loaded, otherwise.
  bool load_from_snapshot();
  std::vector<SearchHit> rank(std::vector<Candidate>& candidates, std::size_t k) const;
  void record_use(const std::vector<std::vector<SearchHit>>& results);
  store::MemoryEntityRecord record_of(std::size_t slot) const;
  std::chrono::system_clock::time_point oldest_searchable() const;
  std::size_t find(const std::string& id) const;  // the slot, or NotFoundError

  std::shared_ptr<store::Store> store_;
  std::string name_;
  std::shared_ptr<const Embedder> embedder_;
  VectorMemoryOptions options_;
  int dimension_ = 0;
  EmbedderIdentity identity_;

  mutable std::shared_mutex mutex_;
  std::vector<float, HugePageAllocator<float>>
      matrix_;  // slots_.size() rows of dimension_ unit-length floats
  std::vector<Slot> slots_;
  std::unordered_map<std::string, std::size_t> slot_of_;
  std::string newest_write_;  // the newest updated_at indexed: refresh() reads from before it
  // hnsw: the graph, and the two-way map between its nodes and the slots (-1: none). A
  // deleted or replaced vector's node stays in the graph, mapped to no slot.
  std::unique_ptr<HnswIndex> graph_;
  bool graph_from_snapshot_ = false;
  std::vector<std::int64_t> node_slot_;
  std::vector<std::int64_t> slot_node_;
};

}  // namespace aadap::memory
