#include "aadap/memory/hnsw_index.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/memory/dot_kernel.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/IDSelector.h>

namespace aadap::memory {

namespace {

/// Asks the memory during the graph walk (FAISS calls it for every node it meets).
struct Qualifying final : faiss::IDSelector {
  explicit Qualifying(const std::function<bool(std::int64_t)>& test) : test_(test) {}
  bool is_member(faiss::Index::idx_t id) const override { return test_(id); }
  const std::function<bool(std::int64_t)>& test_;
};

/// Inner products through aadap's kernel (AVX2/AVX-512 at run time) instead of the generic
/// x86-64 code of a distribution's libfaiss: graph building and walking are nothing but these.
struct KernelDistance final : faiss::FlatCodesDistanceComputer {
  KernelDistance(const faiss::IndexFlat& storage)
      : faiss::FlatCodesDistanceComputer(storage.codes.data(), storage.code_size),
        dimension(static_cast<std::size_t>(storage.d)) {}
  void set_query(const float* x) override { query = x; }
  float distance_to_code(const std::uint8_t* code) override {
    float out = 0;
    dot_rows(reinterpret_cast<const float*>(code), 1, dimension, query, &out);
    return out;
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    float out = 0;
    dot_rows(reinterpret_cast<const float*>(codes + i * code_size), 1, dimension,
             reinterpret_cast<const float*>(codes + j * code_size), &out);
    return out;
  }
  std::size_t dimension;
  const float* query = nullptr;
};

/// The graph's vector storage: FAISS's flat inner-product index with KernelDistance.
struct KernelFlatIP final : faiss::IndexFlatIP {
  explicit KernelFlatIP(int dimension) : faiss::IndexFlatIP(dimension) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
    return new KernelDistance(*this);
  }
};

/// Gives the (still empty) `index` KernelFlatIP storage.
void use_kernel_storage(faiss::IndexHNSWFlat& index) {
  auto storage = std::make_unique<KernelFlatIP>(static_cast<int>(index.d));
  if (index.own_fields) delete index.storage;
  index.storage = storage.release();
  index.own_fields = true;
}

const HnswParameters& checked(const HnswParameters& parameters) {
  if (parameters.m < 4 || parameters.m > 256) {
    throw InvalidArgumentError("hnsw_m is from 4 to 256 (got " + std::to_string(parameters.m) +
                               ")");
  }
  if (parameters.ef_construction < 8 || parameters.ef_search < 1) {
    throw InvalidArgumentError("ef_construction is at least 8 and ef_search at least 1");
  }
  return parameters;
}

}  // namespace

HnswIndex::HnswIndex(int dimension, HnswParameters parameters)
    : index_(std::make_unique<faiss::IndexHNSWFlat>(dimension, checked(parameters).m,
                                                    faiss::METRIC_INNER_PRODUCT)),
      parameters_(parameters) {
  use_kernel_storage(*index_);
  index_->hnsw.efConstruction = parameters.ef_construction;
  index_->hnsw.efSearch = parameters.ef_search;
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::add(const float* vectors, std::size_t rows) {
  if (rows > 0) index_->add(static_cast<faiss::Index::idx_t>(rows), vectors);
}

std::size_t HnswIndex::size() const noexcept {
  return static_cast<std::size_t>(index_->ntotal);
}

std::vector<std::pair<std::int64_t, float>> HnswIndex::search(
    const float* query, std::size_t k, const std::function<bool(std::int64_t)>& qualifies) const {
  std::vector<std::pair<std::int64_t, float>> out;
  if (k == 0 || index_->ntotal == 0) return out;
  Qualifying selector(qualifies);
  faiss::SearchParametersHNSW params;
  params.sel = &selector;
  params.efSearch = std::max(parameters_.ef_search, static_cast<int>(k));
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  index_->search(1, query, static_cast<faiss::Index::idx_t>(k), distances.data(), labels.data(),
                 &params);
  for (std::size_t i = 0; i < k; ++i) {
    if (labels[i] >= 0) out.emplace_back(labels[i], distances[i]);
  }
  return out;
}

}  // namespace aadap::memory
