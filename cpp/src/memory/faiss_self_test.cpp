#include "aadap/memory/faiss_self_test.hpp"

#include <dlfcn.h>
#include <faiss/IndexFlat.h>

#include <cmath>
#include <random>
#include <vector>

// The Fortran BLAS entry point FAISS calls for batched distance computations.
extern "C" int sgemm_(const char*, const char*, const int*, const int*, const int*, const float*,
                      const float*, const int*, const float*, const int*, const float*, float*,
                      const int*);

namespace aadap::memory {

namespace {

std::string describe_blas() {
  std::string out;
  using ConfigFn = const char* (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    out = config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Haswell MAX_THREADS=64"
  } else {
    out = "unknown BLAS (not OpenBLAS: possibly the slow reference implementation)";
  }
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&sgemm_), &info) != 0 && info.dli_fname != nullptr) {
    out += std::string(" from ") + info.dli_fname;
  }
  return out;
}

void normalize(float* v, int d) {
  float norm = 0.0F;
  for (int i = 0; i < d; ++i) norm += v[i] * v[i];
  norm = std::sqrt(norm);
  for (int i = 0; i < d; ++i) v[i] /= norm;
}

}  // namespace

FaissSelfTest faiss_self_test() {
  constexpr int kDim = 64;
  constexpr int kBase = 256;
  constexpr int kQueries = 32;
  FaissSelfTest result;
  result.blas = describe_blas();
  try {
    std::mt19937 rng(42);
    std::normal_distribution<float> gauss(0.0F, 1.0F);
    std::vector<float> base(static_cast<std::size_t>(kBase) * kDim);
    for (auto& x : base) x = gauss(rng);
    for (int i = 0; i < kBase; ++i) normalize(&base[static_cast<std::size_t>(i) * kDim], kDim);
    std::vector<float> queries(static_cast<std::size_t>(kQueries) * kDim);
    std::vector<std::int64_t> expected(kQueries);
    for (int q = 0; q < kQueries; ++q) {
      expected[q] = (q * 7) % kBase;
      for (int j = 0; j < kDim; ++j) {
        queries[static_cast<std::size_t>(q) * kDim + j] =
            base[static_cast<std::size_t>(expected[q]) * kDim + j] + 0.01F * gauss(rng);
      }
      normalize(&queries[static_cast<std::size_t>(q) * kDim], kDim);
    }
    faiss::IndexFlatIP index(kDim);
    index.add(kBase, base.data());
    std::vector<float> similarity(kQueries);
    std::vector<std::int64_t> labels(kQueries);
    index.search(kQueries, queries.data(), 1, similarity.data(), labels.data());
    int found = 0;
    for (int q = 0; q < kQueries; ++q) {
      found += (labels[q] == expected[q] && similarity[q] > 0.99F) ? 1 : 0;
    }
    result.ok = found == kQueries;
    result.detail = "IndexFlatIP " + std::to_string(kQueries) + " queries x " +
                    std::to_string(kBase) + " vectors: " + std::to_string(found) + "/" +
                    std::to_string(kQueries) + " exact matches";
  } catch (const std::exception& e) {
    result.detail = std::string("FAISS failed: ") + e.what();
  }
  return result;
}

}  // namespace aadap::memory
