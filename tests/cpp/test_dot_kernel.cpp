#include "aadap/memory/dot_kernel.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

using namespace aadap::memory;

namespace {

using DotRowsFn = void (*)(const float*, std::size_t, std::size_t, const float*, float*) noexcept;

// Dims straddle every vector width and tail length the kernels handle (1, 8, 16 and 32 lanes,
// plus remainders); n straddles the four-row blocks.
constexpr std::size_t kDims[] = {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 100, 1536, 1537};
constexpr std::size_t kRowCounts[] = {0, 1, 3, 4, 5, 17};

// Written past the last output to catch a kernel that stores a whole block for a partial one.
constexpr float kSentinel = -12345.0F;

double norm(const float* v, std::size_t dim) {
  double sum = 0;
  for (std::size_t j = 0; j < dim; ++j) sum += double{v[j]} * v[j];
  return std::sqrt(sum);
}

// Every (dim, n) pair on random data, with rows, query and out all one float past an aligned
// allocation so that no load or store can rely on alignment.
void expect_matches_reference(DotRowsFn dot) {
  std::mt19937 rng(20240611);
  std::uniform_real_distribution<float> uniform(-1.0F, 1.0F);
  for (const std::size_t dim : kDims) {
    for (const std::size_t n : kRowCounts) {
      SCOPED_TRACE("dim=" + std::to_string(dim) + " n=" + std::to_string(n));
      std::vector<float> rows_buf(n * dim + 1);
      std::vector<float> query_buf(dim + 1);
      std::vector<float> out_buf(n + 2, kSentinel);
      for (float& x : rows_buf) x = uniform(rng);
      for (float& x : query_buf) x = uniform(rng);
      const float* rows = rows_buf.data() + 1;
      const float* query = query_buf.data() + 1;
      float* out = out_buf.data() + 1;

      dot(rows, n, dim, query, out);

      EXPECT_EQ(out_buf[0], kSentinel);
      EXPECT_EQ(out_buf[n + 1], kSentinel);
      const double query_norm = norm(query, dim);
      for (std::size_t i = 0; i < n; ++i) {
        const float* row = rows + i * dim;
        double expected = 0;
        for (std::size_t j = 0; j < dim; ++j) expected += double{row[j]} * query[j];
        EXPECT_NEAR(out[i], expected, 1e-5 * norm(row, dim) * query_norm) << "row " << i;
      }
    }
  }
}

}  // namespace

TEST(DotKernel, PortableMatchesReference) {
  expect_matches_reference(detail::dot_rows_portable);
}

TEST(DotKernel, Avx2MatchesReference) {
  if (!detail::cpu_has_avx2()) GTEST_SKIP() << "this CPU has no AVX2+FMA";
  expect_matches_reference(detail::dot_rows_avx2);
}

TEST(DotKernel, Avx512MatchesReference) {
  if (!detail::cpu_has_avx512()) GTEST_SKIP() << "this CPU has no AVX-512F";
  expect_matches_reference(detail::dot_rows_avx512);
}

TEST(DotKernel, DispatcherPicksBestAvailable) {
  const char* expected = detail::cpu_has_avx512() ? "avx512"
                         : detail::cpu_has_avx2() ? "avx2"
                                                  : "portable";
  EXPECT_EQ(dot_kernel_name(), expected);
  expect_matches_reference(dot_rows);
}

TEST(DotKernel, LargeUnitVectorsMatchReference) {
  constexpr std::size_t kRows = 2000;
  constexpr std::size_t kDim = 1536;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  auto normalize = [](float* v) {
    const auto scale = static_cast<float>(1.0 / norm(v, kDim));
    for (std::size_t j = 0; j < kDim; ++j) v[j] *= scale;
  };
  std::vector<float> query(kDim);
  for (float& x : query) x = normal(rng);
  normalize(query.data());
  // Every other row is the query plus noise, so the scores span near 1 as well as near 0.
  std::vector<float> rows(kRows * kDim);
  for (std::size_t i = 0; i < kRows; ++i) {
    float* row = rows.data() + i * kDim;
    for (std::size_t j = 0; j < kDim; ++j) row[j] = normal(rng);
    if (i % 2 == 0) {
      for (std::size_t j = 0; j < kDim; ++j) row[j] = query[j] + 0.01F * row[j];
    }
    normalize(row);
  }
  std::vector<float> out(kRows);

  dot_rows(rows.data(), kRows, kDim, query.data(), out.data());

  for (std::size_t i = 0; i < kRows; ++i) {
    double expected = 0;
    for (std::size_t j = 0; j < kDim; ++j) expected += double{rows[i * kDim + j]} * query[j];
    EXPECT_NEAR(out[i], expected, 1e-5) << "row " << i;
  }
}
