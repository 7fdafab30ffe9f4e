#include "aadap/memory/vector_memory.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/memory/dot_kernel.hpp"
#include "aadap/memory/memory_governance.hpp"
#include "aadap/store/embedding_digest.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <mutex>
#include <unordered_set>

namespace aadap::memory {

namespace {

using Clock = std::chrono::system_clock;

// Rows scored per kernel call: 256 rows of 1536 floats stay in L2 while search_many runs
// every query over them.
constexpr std::size_t kBlockRows = 256;

// hnsw: when a search's filters leave at most this many entities (or 1/20 of the memory),
// they are scored exactly instead: a graph walk that must skip nearly every node it meets
// loses recall, and a scan of so few rows is as fast.
constexpr std::size_t kExactAtMost = 2048;
// hnsw: entities judged to estimate how many a search's filters leave.
constexpr std::size_t kQualifySample = 1024;

Clock::time_point time_of(const std::string& iso, const std::string& what) {
  const auto parsed = parse_utc_iso(iso);
  if (!parsed) {
    throw InvalidArgumentError(what + " is not an ISO-8601 UTC timestamp such as " +
                               "2026-11-25T21:40:04Z (got '" + iso.substr(0, 40) + "')");
  }
  return *parsed;
}

nlohmann::json metadata_object(const std::string& json, const std::string& what) {
  auto parsed = nlohmann::json::parse(json, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw InvalidArgumentError(what + " must be a JSON object (got '" + json.substr(0, 60) + "')");
  }
  return parsed;
}

void check_unit_interval(double value, const std::string& what) {
  if (!(value >= 0.0 && value <= 1.0)) {
    throw InvalidArgumentError(what + " is from 0 to 1 (got " + std::to_string(value) + ")");
  }
}

}  // namespace

VectorMemory::VectorMemory(std::shared_ptr<store::Store> store, std::string name,
                           std::shared_ptr<const Embedder> embedder, VectorMemoryOptions options)
    : store_(std::move(store)),
      name_(std::move(name)),
      embedder_(std::move(embedder)),
      options_(options) {
  if (name_.size() > 200 || is_blank_text(name_)) {
    throw InvalidArgumentError("a vector memory name has 1 to 200 characters, not all blank");
  }
  if (!embedder_) throw InvalidArgumentError("a vector memory needs an embedder");
  options_.min_similarity = std::max(options_.min_similarity, kSimilarityFloor);
  identity_ = embedder_->identity();
  dimension_ = identity_.dimension;
  if (dimension_ < 1 || dimension_ > 8192) {
    throw InvalidArgumentError("the embedding dimension is from 1 to 8192 (got " +
                               std::to_string(dimension_) + ")");
  }
  const auto recorded = store_->open_vector_memory(store::VectorMemoryRecord{
      name_, dimension_, identity_.provider, identity_.model, utc_now_iso()});
  if (recorded.dimension != dimension_ || recorded.embedder_provider != identity_.provider ||
      recorded.embedder_model != identity_.model) {
    throw InvalidArgumentError(
        "vector memory '" + name_ + "' holds " + std::to_string(recorded.dimension) +
            "-dimensional vectors of " + recorded.embedder_provider + "/" +
            recorded.embedder_model + ", not " + std::to_string(dimension_) +
            "-dimensional ones of " + identity_.provider + "/" + identity_.model +
            ": open it with its own embedder, or use another memory name",
        {{"memory", name_},
         {"dimension", recorded.dimension},
         {"embedder", recorded.embedder_provider + "/" + recorded.embedder_model}});
  }
  const bool from_snapshot =
      options_.index == IndexKind::hnsw && !options_.snapshot_path.empty() && load_from_snapshot();
  if (!from_snapshot) {
    auto entities = store_->memory_entities(name_, store::EmbeddingRead::included);
    matrix_.reserve(entities.size() * static_cast<std::size_t>(dimension_));
    slots_.reserve(entities.size());
    for (auto& entity : entities) place(std::move(entity));
  }
  if (options_.index == IndexKind::hnsw) {
    graph_from_snapshot_ = from_snapshot;
    if (!from_snapshot) {
      slot_node_.assign(slots_.size(), -1);
      graph_ = std::make_unique<HnswIndex>(dimension_, options_.hnsw);
    }
    index_new_slots();
    // A graph built from scratch is saved at once: the next open loads it.
    if (!from_snapshot && !options_.snapshot_path.empty() && !slots_.empty()) snapshot();
  }
}

bool VectorMemory::load_from_snapshot() {
  std::error_code missing;
  if (!std::filesystem::exists(options_.snapshot_path, missing)) return false;
  // The graph file and the rows are read at once, on two threads: each is a pass over
  // hundreds of megabytes. The rows come without their vectors; a row whose digest is that of
  // its node's vector takes the vector from the graph, the others (written since, or changed)
  // are read in full below.
  std::string text;
  auto loading = std::async(std::launch::async, [&] {
    return HnswIndex::load(options_.snapshot_path, dimension_, options_.hnsw, text);
  });
  auto rows = store_->memory_entities(name_, store::EmbeddingRead::omitted);
  auto graph = loading.get();
  if (!graph) return false;
  const auto header = nlohmann::json::parse(text, nullptr, false);
  if (!header.is_object() || header.value("memory", "") != name_ ||
      header.value("provider", "") != identity_.provider ||
      header.value("model", "") != identity_.model || !header.contains("nodes") ||
      !header["nodes"].is_array() || header["nodes"].size() != graph->size()) {
    return false;
  }
  const auto dim = static_cast<std::size_t>(dimension_);
  std::unordered_map<std::string, std::int64_t> node_of;
  const auto& nodes = header["nodes"];
  for (std::size_t node = 0; node < nodes.size(); ++node) {
    // null: retired when the snapshot was written; the last node of an id is its current one
    if (nodes[node].is_string()) node_of[nodes[node].get<std::string>()] = std::int64_t(node);
  }
  std::vector<std::int64_t> row_node(rows.size(), -1);
  std::vector<std::string> unmatched;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto found = node_of.find(rows[i].id);
    if (found != node_of.end() &&
        rows[i].embedding_digest == store::embedding_digest(graph->vector(found->second), dim)) {
      row_node[i] = found->second;
    } else {
      unmatched.push_back(rows[i].id);
    }
  }
  if (2 * (rows.size() - unmatched.size()) < graph->size()) {
    return false;  // mostly superseded: a new graph is better
  }
  std::unordered_map<std::string, store::MemoryEntityRecord> fetched;
  for (auto& entity : store_->memory_entities_by_id(name_, unmatched)) {
    auto id = entity.id;
    fetched.emplace(std::move(id), std::move(entity));
  }
  node_slot_.assign(graph->size(), -1);
  matrix_.reserve(rows.size() * dim);
  slots_.reserve(rows.size());
  slot_node_.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (row_node[i] >= 0) {
      const float* vector = graph->vector(row_node[i]);
      rows[i].embedding.assign(vector, vector + dim);
      node_slot_[static_cast<std::size_t>(row_node[i])] = std::int64_t(slots_.size());
      place(std::move(rows[i]));
      slot_node_.push_back(row_node[i]);
    } else if (const auto full = fetched.find(rows[i].id); full != fetched.end()) {
      place(std::move(full->second));  // not found: deleted after the rows were listed
      slot_node_.push_back(-1);
    }
  }
  graph_ = std::move(graph);
  return true;
}

std::string VectorMemory::snapshot() const {
  if (!graph_ || options_.snapshot_path.empty()) {
    throw InvalidStateError("memory '" + name_ +
                            "' has no snapshot to write: open it with index=\"hnsw\" and a "
                            "snapshot path");
  }
  std::shared_lock lock(mutex_);
  nlohmann::json nodes = nlohmann::json::array();
  for (const std::int64_t slot : node_slot_) {
    if (slot < 0) {
      nodes.push_back(nullptr);
    } else {
      nodes.push_back(slots_[static_cast<std::size_t>(slot)].record.id);
    }
  }
  const nlohmann::json header = {{"memory", name_},
                                 {"provider", identity_.provider},
                                 {"model", identity_.model},
                                 {"dimension", dimension_},
                                 {"nodes", std::move(nodes)}};
  graph_->save(options_.snapshot_path, header.dump());
  return options_.snapshot_path;
}

std::vector<float> VectorMemory::unit_vector(const float* vector, std::size_t length,
                                             const std::string& what) const {
  if (length != static_cast<std::size_t>(dimension_)) {
    throw InvalidArgumentError(what + " has " + std::to_string(length) + " values; memory '" +
                               name_ + "' holds " + std::to_string(dimension_) +
                               "-dimensional vectors");
  }
  double sum = 0;
  for (std::size_t i = 0; i < length; ++i) {
    if (!std::isfinite(vector[i])) {
      throw InvalidArgumentError(what + " holds a NaN or infinite value at position " +
                                 std::to_string(i));
    }
    sum += static_cast<double>(vector[i]) * vector[i];
  }
  if (!(sum > 0) || !std::isfinite(sum)) {
    throw InvalidArgumentError(what +
                               " is a zero vector (or too large to normalise): cosine "
                               "similarity needs a direction");
  }
  const double scale = 1.0 / std::sqrt(sum);
  std::vector<float> unit(length);
  for (std::size_t i = 0; i < length; ++i) {
    unit[i] = static_cast<float>(vector[i] * scale);
  }
  return unit;
}

std::vector<store::MemoryEntityRecord> VectorMemory::add_many(const std::vector<EntitySpec>& specs,
                                                              const float* embeddings,
                                                              std::size_t rows) {
  return write(specs, embeddings, rows, false);
}

std::vector<store::MemoryEntityRecord> VectorMemory::upsert_many(
    const std::vector<EntitySpec>& specs, const float* embeddings, std::size_t rows) {
  return write(specs, embeddings, rows, true);
}

std::vector<store::MemoryEntityRecord> VectorMemory::write(const std::vector<EntitySpec>& specs,
                                                           const float* embeddings,
                                                           std::size_t rows, bool replace) {
  if (rows != specs.size()) {
    throw InvalidArgumentError(std::to_string(specs.size()) + " entities but " +
                               std::to_string(rows) + " embeddings: pass one row per entity");
  }
  const std::string now = utc_now_iso();
  const auto dim = static_cast<std::size_t>(dimension_);
  std::vector<store::MemoryEntityRecord> records;
  records.reserve(specs.size());
  std::unordered_set<std::string> ids;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const EntitySpec& spec = specs[i];
    const std::string what = "entity " + std::to_string(i);
    if (is_blank_text(spec.content)) {
      throw InvalidArgumentError(what + " has no content");
    }
    if (is_blank_text(spec.provenance)) {
      throw InvalidArgumentError(what +
                                 " has no provenance: say where it came from (e.g. task:<id>)");
    }
    if (is_blank_text(spec.entity_type)) {
      throw InvalidArgumentError(what + " has no entity_type");
    }
    check_unit_interval(spec.confidence, what + ": confidence");
    store::MemoryEntityRecord r;
    r.id = spec.id.empty() ? new_uuid7() : spec.id;
    if (!ids.insert(r.id).second) {
      throw InvalidArgumentError(what + " repeats the id " + r.id + " of an earlier one");
    }
    r.memory_name = name_;
    r.content = spec.content;
    r.embedding = unit_vector(embeddings + i * dim, dim, what + "'s embedding");
    r.entity_type = spec.entity_type;
    r.provenance = spec.provenance;
    r.confidence = spec.confidence;
    r.metadata_json = metadata_object(spec.metadata_json, what + ": metadata").dump();
    r.created_at = spec.created_at.empty() ? now : spec.created_at;
    time_of(r.created_at, what + ": created_at");
    r.updated_at = now;
    records.push_back(std::move(r));
  }
  std::unique_lock lock(mutex_);
  for (auto& r : records) {
    const auto existing = slot_of_.find(r.id);
    if (existing == slot_of_.end()) continue;
    if (!replace) {
      throw InvalidArgumentError("memory '" + name_ + "' already holds an entity with id " + r.id +
                                 ": use upsert() to replace it");
    }
    const auto& kept = slots_[existing->second].record;
    r.use_count = kept.use_count;
    r.validation_pass_rate = kept.validation_pass_rate;
    r.validation_failures = kept.validation_failures;
    r.critical_failure_at = kept.critical_failure_at;
    r.is_deprecated = kept.is_deprecated;
    r.created_at = kept.created_at;
  }
  commit(records);
  for (auto& r : records) r.embedding.clear();  // the caller has it; get() returns the unit one
  return records;
}

void VectorMemory::commit(std::vector<store::MemoryEntityRecord> records) {
  store_->put_memory_entities(records);  // durable first: a failed write changes nothing
  for (auto& r : records) place(std::move(r));
  index_new_slots();
}

void VectorMemory::index_new_slots() {
  if (!graph_) return;
  const auto dim = static_cast<std::size_t>(dimension_);
  std::vector<std::size_t> pending;
  for (std::size_t slot = 0; slot < slot_node_.size(); ++slot) {
    if (slot_node_[slot] < 0) pending.push_back(slot);
  }
  if (pending.empty()) return;
  std::vector<float> vectors(pending.size() * dim);
  for (std::size_t i = 0; i < pending.size(); ++i) {
    std::copy_n(matrix_.begin() + static_cast<std::ptrdiff_t>(pending[i] * dim), dim,
                vectors.begin() + static_cast<std::ptrdiff_t>(i * dim));
  }
  const auto first = static_cast<std::int64_t>(graph_->size());
  graph_->add(vectors.data(), pending.size());
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const std::int64_t node = first + static_cast<std::int64_t>(i);
    slot_node_[pending[i]] = node;
    node_slot_.push_back(static_cast<std::int64_t>(pending[i]));
  }
}

void VectorMemory::place(store::MemoryEntityRecord record) {
  const auto dim = static_cast<std::size_t>(dimension_);
  if (record.embedding.size() != dim) {
    throw StoreError("memory entity " + record.id + " has " +
                     std::to_string(record.embedding.size()) + " floats, not " +
                     std::to_string(dim));
  }
  Slot slot{std::move(record), {}, {}, {}};
  slot.metadata = nlohmann::json::parse(slot.record.metadata_json, nullptr, false);
  if (!slot.metadata.is_object()) slot.metadata = nlohmann::json::object();
  slot.created = parse_utc_iso(slot.record.created_at).value_or(Clock::time_point{});
  slot.updated = parse_utc_iso(slot.record.updated_at).value_or(slot.created);
  newest_write_ = std::max(newest_write_, slot.record.updated_at);
  std::vector<float> vector = std::move(slot.record.embedding);
  slot.record.embedding.clear();
  const auto existing = slot_of_.find(slot.record.id);
  if (existing != slot_of_.end()) {
    const std::size_t index = existing->second;
    slots_[index] = std::move(slot);
    const auto row = matrix_.begin() + static_cast<std::ptrdiff_t>(index * dim);
    const bool moved = !std::equal(vector.begin(), vector.end(), row);
    if (graph_ && moved && slot_node_[index] >= 0) {  // a changed vector needs a new node
      node_slot_[static_cast<std::size_t>(slot_node_[index])] = -1;
      slot_node_[index] = -1;
    }
    std::copy(vector.begin(), vector.end(), row);
  } else {
    slot_of_.emplace(slot.record.id, slots_.size());
    slots_.push_back(std::move(slot));
    matrix_.insert(matrix_.end(), vector.begin(), vector.end());
    if (graph_) slot_node_.push_back(-1);
  }
}

std::size_t VectorMemory::find(const std::string& id) const {
  const auto found = slot_of_.find(id);
  if (found == slot_of_.end()) {
    throw NotFoundError("memory '" + name_ + "' has no entity " + id.substr(0, 80),
                        {{"memory", name_}, {"id", id.substr(0, 80)}});
  }
  return found->second;
}

store::MemoryEntityRecord VectorMemory::record_of(std::size_t slot) const {
  store::MemoryEntityRecord r = slots_[slot].record;
  const auto dim = static_cast<std::size_t>(dimension_);
  const auto first = matrix_.begin() + static_cast<std::ptrdiff_t>(slot * dim);
  r.embedding.assign(first, first + static_cast<std::ptrdiff_t>(dim));
  return r;
}

std::optional<store::MemoryEntityRecord> VectorMemory::get(const std::string& id) const {
  std::shared_lock lock(mutex_);
  const auto found = slot_of_.find(id);
  if (found == slot_of_.end()) return std::nullopt;
  return record_of(found->second);
}

std::size_t VectorMemory::remove(const std::vector<std::string>& ids) {
  std::unique_lock lock(mutex_);
  std::vector<std::string> present;
  for (const auto& id : ids) {
    if (slot_of_.count(id) != 0 && std::find(present.begin(), present.end(), id) == present.end()) {
      present.push_back(id);
    }
  }
  if (present.empty()) return 0;
  store_->delete_memory_entities(name_, present);
  for (const auto& id : present) drop(id);
  return present.size();
}

void VectorMemory::drop(const std::string& id) {
  const auto dim = static_cast<std::size_t>(dimension_);
  // The last slot moves into the hole: the matrix stays dense.
  const std::size_t hole = slot_of_.at(id);
  const std::size_t last = slots_.size() - 1;
  if (graph_) {
    if (slot_node_[hole] >= 0) node_slot_[static_cast<std::size_t>(slot_node_[hole])] = -1;
    if (hole != last && slot_node_[last] >= 0) {
      node_slot_[static_cast<std::size_t>(slot_node_[last])] = static_cast<std::int64_t>(hole);
    }
    slot_node_[hole] = slot_node_[last];
    slot_node_.pop_back();
  }
  if (hole != last) {
    slots_[hole] = std::move(slots_[last]);
    slot_of_[slots_[hole].record.id] = hole;
    std::copy_n(matrix_.begin() + static_cast<std::ptrdiff_t>(last * dim), dim,
                matrix_.begin() + static_cast<std::ptrdiff_t>(hole * dim));
  }
  slots_.pop_back();
  matrix_.resize(slots_.size() * dim);
  slot_of_.erase(id);
}

std::size_t VectorMemory::refresh() {
  std::unique_lock lock(mutex_);
  // Each process stamps updated_at from its own clock when it writes, not when it commits:
  // read from a minute before the newest write seen (rows read again are harmless).
  const auto newest = parse_utc_iso(newest_write_);
  const std::string since = newest ? utc_iso(*newest - std::chrono::minutes(1)) : std::string();
  auto changes = store_->memory_changes(name_, since);
  const std::unordered_set<std::string> present(changes.ids.begin(), changes.ids.end());
  std::vector<std::string> gone;
  for (const auto& slot : slots_) {
    if (present.count(slot.record.id) == 0) gone.push_back(slot.record.id);
  }
  for (const auto& id : gone) drop(id);
  std::size_t changed = gone.size();
  for (auto& record : changes.changed) {
    const auto known = slot_of_.find(record.id);
    if (known != slot_of_.end() && slots_[known->second].record.updated_at == record.updated_at) {
      continue;  // already indexed as it is
    }
    place(std::move(record));
    ++changed;
  }
  index_new_slots();
  return changed;
}

Clock::time_point VectorMemory::oldest_searchable() const {
  return Clock::now() - std::chrono::hours(24) * options_.max_staleness_days;
}

bool VectorMemory::qualifies(const Slot& slot, const SearchOptions& options,
                             const nlohmann::json& metadata, Clock::time_point oldest) const {
  const auto& r = slot.record;
  if (r.is_deprecated || slot.created < oldest) return false;
  if (options.entity_type && r.entity_type != *options.entity_type) return false;
  if (options.provenance_prefix && r.provenance.rfind(*options.provenance_prefix, 0) != 0) {
    return false;
  }
  for (auto item = metadata.begin(); item != metadata.end(); ++item) {
    const auto value = slot.metadata.find(item.key());
    if (value == slot.metadata.end() || *value != item.value()) return false;
  }
  return true;
}

std::vector<SearchHit> VectorMemory::rank(std::vector<Candidate>& candidates, std::size_t k) const {
  // The documented order: similarity, then recency, confidence, use_count (id settles ties).
  const auto before = [&](const Candidate& a, const Candidate& b) {
    if (a.similarity != b.similarity) return a.similarity > b.similarity;
    const auto& x = slots_[a.slot];
    const auto& y = slots_[b.slot];
    if (x.updated != y.updated) return x.updated > y.updated;
    if (x.record.confidence != y.record.confidence) {
      return x.record.confidence > y.record.confidence;
    }
    if (x.record.use_count != y.record.use_count) return x.record.use_count > y.record.use_count;
    return x.record.id < y.record.id;
  };
  const std::size_t n = std::min(k, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(n),
                    candidates.end(), before);
  std::vector<SearchHit> hits;
  hits.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    hits.push_back(SearchHit{slots_[candidates[i].slot].record, candidates[i].similarity});
  }
  return hits;
}

std::vector<SearchHit> VectorMemory::search(const float* query, std::size_t length,
                                            const SearchOptions& options) {
  if (length != static_cast<std::size_t>(dimension_)) {
    throw InvalidArgumentError("the query has " + std::to_string(length) + " values; memory '" +
                               name_ + "' holds " + std::to_string(dimension_) +
                               "-dimensional vectors");
  }
  return search_many(query, 1, options).front();
}

std::vector<std::vector<SearchHit>> VectorMemory::search_many(const float* queries,
                                                              std::size_t rows,
                                                              const SearchOptions& options) {
  if (options.k < 1 || options.k > 10000) {
    throw InvalidArgumentError("k is from 1 to 10000 (got " + std::to_string(options.k) + ")");
  }
  if (!(options.min_similarity <= 1.0)) {
    throw InvalidArgumentError("min_similarity is at most 1 (got " +
                               std::to_string(options.min_similarity) + ")");
  }
  const nlohmann::json metadata = metadata_object(options.metadata_json, "the metadata filter");
  const double floor = std::max(options.min_similarity, options_.min_similarity) - kFloorTolerance;
  const auto dim = static_cast<std::size_t>(dimension_);
  std::vector<std::vector<float>> units;
  units.reserve(rows);
  for (std::size_t q = 0; q < rows; ++q) {
    units.push_back(
        unit_vector(queries + q * dim, dim,
                    rows == 1 ? std::string("the query") : "query " + std::to_string(q)));
  }
  std::vector<std::vector<SearchHit>> results;
  if (graph_) {
    std::shared_lock lock(mutex_);
    results.reserve(rows);
    for (const auto& unit : units) {
      auto found = walk(unit.data(), options, metadata, floor);
      results.push_back(rank(found, options.k));
    }
  } else {
    std::shared_lock lock(mutex_);
    const auto oldest = oldest_searchable();
    std::vector<std::vector<Candidate>> candidates(rows);
    std::vector<float> scores(kBlockRows);
    for (std::size_t start = 0; start < slots_.size(); start += kBlockRows) {
      const std::size_t count = std::min(kBlockRows, slots_.size() - start);
      for (std::size_t q = 0; q < rows; ++q) {
        dot_rows(matrix_.data() + start * dim, count, dim, units[q].data(), scores.data());
        for (std::size_t i = 0; i < count; ++i) {
          // Every filter is applied here, before any ranking or cut at k.
          if (scores[i] >= floor && qualifies(slots_[start + i], options, metadata, oldest)) {
            candidates[q].push_back(Candidate{start + i, scores[i]});
          }
        }
      }
    }
    results.reserve(rows);
    for (auto& found : candidates) results.push_back(rank(found, options.k));
  }
  if (options.record_use) record_use(results);
  return results;
}

std::vector<VectorMemory::Candidate> VectorMemory::scan(const float* query,
                                                        const std::vector<char>* mask,
                                                        const SearchOptions& options,
                                                        const nlohmann::json& metadata,
                                                        double floor) const {
  const auto dim = static_cast<std::size_t>(dimension_);
  const auto oldest = oldest_searchable();
  std::vector<Candidate> found;
  for (std::size_t slot = 0; slot < slots_.size(); ++slot) {
    if (mask != nullptr ? (*mask)[slot] == 0
                        : !qualifies(slots_[slot], options, metadata, oldest)) {
      continue;
    }
    float score = 0;
    dot_rows(matrix_.data() + slot * dim, 1, dim, query, &score);
    if (score >= floor) found.push_back(Candidate{slot, score});
  }
  return found;
}

std::vector<VectorMemory::Candidate> VectorMemory::walk(const float* query,
                                                        const SearchOptions& options,
                                                        const nlohmann::json& metadata,
                                                        double floor) const {
  const auto oldest = oldest_searchable();
  const std::size_t n = slots_.size();
  const std::size_t few = std::max(kExactAtMost, n / 20);
  // How many entities qualify, estimated from an even sample: judging every entity would cost
  // more than the walk (a millisecond per 100,000). Near the threshold either way is right.
  const std::size_t step = std::max<std::size_t>(1, n / kQualifySample);
  std::size_t sampled = 0;
  std::size_t sampled_in = 0;
  for (std::size_t slot = 0; slot < n; slot += step, ++sampled) {
    sampled_in += qualifies(slots_[slot], options, metadata, oldest) ? 1 : 0;
  }
  const std::size_t qualifying = sampled == 0 ? 0 : sampled_in * n / sampled;
  if (qualifying <= few) {
    std::vector<char> mask(n);
    for (std::size_t slot = 0; slot < n; ++slot) {
      mask[slot] = qualifies(slots_[slot], options, metadata, oldest) ? 1 : 0;
    }
    return scan(query, &mask, options, metadata, floor);
  }
  // Twice k candidates (at least 32) from the graph, then exact scores decide; an entity is
  // judged only when the walk meets its node.
  const std::size_t wanted = std::min(qualifying, std::max<std::size_t>(2 * options.k, 32));
  const auto nodes = graph_->search(query, wanted, [&](std::int64_t node) {
    const std::int64_t slot = node_slot_[static_cast<std::size_t>(node)];
    return slot >= 0 &&
           qualifies(slots_[static_cast<std::size_t>(slot)], options, metadata, oldest);
  });
  const auto dim = static_cast<std::size_t>(dimension_);
  std::vector<Candidate> found;
  for (const auto& [node, approximate] : nodes) {
    const auto slot = static_cast<std::size_t>(node_slot_[static_cast<std::size_t>(node)]);
    float score = 0;
    dot_rows(matrix_.data() + slot * dim, 1, dim, query, &score);
    if (score >= floor) found.push_back(Candidate{slot, score});
  }
  return found;
}

void VectorMemory::record_use(const std::vector<std::vector<SearchHit>>& results) {
  std::unordered_map<std::string, std::int64_t> uses;
  for (const auto& hits : results) {
    for (const auto& hit : hits) ++uses[hit.entity.id];
  }
  if (uses.empty()) return;
  std::unique_lock lock(mutex_);
  std::vector<store::MemoryEntityRecord> changed;
  for (const auto& [id, n] : uses) {
    const auto found = slot_of_.find(id);
    if (found == slot_of_.end()) continue;  // removed since the search
    auto r = record_of(found->second);
    r.use_count += n;
    changed.push_back(std::move(r));
  }
  commit(std::move(changed));
}

store::MemoryEntityRecord VectorMemory::update(const std::string& id, const EntityUpdate& changes) {
  if (changes.confidence) check_unit_interval(*changes.confidence, "confidence");
  if (changes.validation_pass_rate) {
    check_unit_interval(*changes.validation_pass_rate, "validation_pass_rate");
  }
  if (changes.validation_failures && *changes.validation_failures < 0) {
    throw InvalidArgumentError("validation_failures must be >= 0");
  }
  if (changes.critical_failure_at) time_of(*changes.critical_failure_at, "critical_failure_at");
  const auto metadata = changes.metadata_json
                            ? std::optional(metadata_object(*changes.metadata_json, "metadata"))
                            : std::nullopt;
  std::unique_lock lock(mutex_);
  auto r = record_of(find(id));
  if (changes.confidence) r.confidence = *changes.confidence;
  if (changes.validation_pass_rate) r.validation_pass_rate = *changes.validation_pass_rate;
  if (changes.validation_failures) r.validation_failures = *changes.validation_failures;
  if (changes.critical_failure_at) r.critical_failure_at = changes.critical_failure_at;
  if (metadata) r.metadata_json = metadata->dump();
  r.updated_at = utc_now_iso();
  commit({r});
  r.embedding.clear();
  return r;
}

store::MemoryEntityRecord VectorMemory::promote(const std::string& id) {
  std::unique_lock lock(mutex_);
  auto r = record_of(find(id));
  if (r.is_deprecated) {
    throw InvalidStateError("entity " + id + " is deprecated and cannot be promoted");
  }
  auto metadata = nlohmann::json::parse(r.metadata_json);
  r.updated_at = utc_now_iso();
  metadata["promoted"] = true;
  metadata["promoted_at"] = r.updated_at;
  r.metadata_json = metadata.dump();
  commit({r});
  r.embedding.clear();
  return r;
}

store::MemoryEntityRecord VectorMemory::deprecate(const std::string& id,
                                                  const std::string& reason) {
  std::unique_lock lock(mutex_);
  auto r = record_of(find(id));
  auto metadata = nlohmann::json::parse(r.metadata_json);
  r.updated_at = utc_now_iso();
  r.is_deprecated = true;
  metadata["deprecated_at"] = r.updated_at;
  metadata["deprecation_reason"] = reason;
  r.metadata_json = metadata.dump();
  commit({r});
  r.embedding.clear();
  return r;
}

GovernReport VectorMemory::govern() {
  std::unique_lock lock(mutex_);
  const auto now = Clock::now();
  const std::string stamp = utc_iso(now);
  GovernReport report;
  std::vector<store::MemoryEntityRecord> changed;
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const auto& current = slots_[i].record;
    const bool deprecate_it = !current.is_deprecated && deprecation_required(current);
    const bool promote_it = !deprecate_it && promotion_eligible(current, now) &&
                            slots_[i].metadata.value("promoted", false) != true;
    if (!deprecate_it && !promote_it) continue;
    auto r = record_of(i);
    auto metadata = slots_[i].metadata;
    if (deprecate_it) {
      r.is_deprecated = true;
      metadata["deprecated_at"] = stamp;
      metadata["deprecation_reason"] = "governance";
      report.deprecated.push_back(r.id);
    } else {
      metadata["promoted"] = true;
      metadata["promoted_at"] = stamp;
      report.promoted.push_back(r.id);
    }
    r.metadata_json = metadata.dump();
    r.updated_at = stamp;
    changed.push_back(std::move(r));
  }
  if (!changed.empty()) commit(std::move(changed));
  return report;
}

VectorMemoryStats VectorMemory::stats() const {
  std::shared_lock lock(mutex_);
  VectorMemoryStats s;
  s.name = name_;
  s.dimension = dimension_;
  s.embedder_provider = identity_.provider;
  s.embedder_model = identity_.model;
  s.entities = slots_.size();
  const auto oldest = oldest_searchable();
  for (const auto& slot : slots_) {
    const bool stale = slot.created < oldest;
    s.deprecated += slot.record.is_deprecated ? 1 : 0;
    s.stale += stale ? 1 : 0;
    s.searchable += !slot.record.is_deprecated && !stale ? 1 : 0;
  }
  s.kernel = std::string(dot_kernel_name());
  if (graph_) {
    s.index = "hnsw";
    s.graph_nodes = graph_->size();
    s.graph_from_snapshot = graph_from_snapshot_;
  }
  s.index_bytes = matrix_.size() * sizeof(float);
  return s;
}

}  // namespace aadap::memory
