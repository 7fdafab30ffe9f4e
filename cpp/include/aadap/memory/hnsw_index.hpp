// The approximate index of a vector memory (memory.md §2): FAISS HNSW over inner products of
// unit vectors. Nodes are only ever added; the memory maps nodes to its entities and tells a
// search which nodes qualify, so a deletion or a filter never needs a rebuild and a
// disqualified node is skipped inside the graph search (FAISS IDSelector), not after it.
//
// Not thread-safe for writes: the memory serialises add() against searches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace faiss {
struct IndexHNSWFlat;
}

namespace aadap::memory {

struct HnswParameters {
  int m = 16;                 // graph degree: higher = better recall, more memory
  int ef_construction = 100;  // candidate list while building
  int ef_search = 64;         // candidate list while searching (raised to k when lower)
};

class HnswIndex {
 public:
  HnswIndex(int dimension, HnswParameters parameters);
  ~HnswIndex();
  HnswIndex(const HnswIndex&) = delete;
  HnswIndex& operator=(const HnswIndex&) = delete;

  /// Appends `rows` unit vectors; their nodes are size() before the call onwards.
  void add(const float* vectors, std::size_t rows);
  std::size_t size() const noexcept;
  const HnswParameters& parameters() const noexcept { return parameters_; }

  /// The `k` nearest qualifying nodes of `query` as (node, inner product), nearest first.
  /// `qualifies(node)` is asked during the graph walk.
  std::vector<std::pair<std::int64_t, float>> search(
      const float* query, std::size_t k, const std::function<bool(std::int64_t)>& qualifies) const;
  /// The vector stored for `node` (dimension floats).
  const float* vector(std::int64_t node) const;

  /// Writes `header` (the caller's description of the nodes), the graph and its vectors to
  /// `path` atomically: a temporary file in the same directory, fsynced, then renamed over
  /// `path` — a crash leaves the old file or the new one, never a torn one.
  void save(const std::string& path, const std::string& header) const;
  /// Reads a file written by save(), filling `header`; nullptr when it is missing, unreadable
  /// or of another dimension or degree (the caller rebuilds).
  static std::unique_ptr<HnswIndex> load(const std::string& path, int dimension,
                                         HnswParameters parameters, std::string& header);

 private:
  HnswIndex(std::unique_ptr<faiss::IndexHNSWFlat> index, HnswParameters parameters);

  std::unique_ptr<faiss::IndexHNSWFlat> index_;
  HnswParameters parameters_;
};

}  // namespace aadap::memory
