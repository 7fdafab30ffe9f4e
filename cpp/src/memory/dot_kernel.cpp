#include "aadap/memory/dot_kernel.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// The SIMD versions are compiled with per-function target attributes rather than -march flags
// so that one binary runs on any x86-64 and still uses the wide units where they exist. Each
// processes four rows per pass: the four rows share every query load, and four independent
// streams plus two accumulators per row hide the FMA latency, which leaves memory bandwidth as
// the only limit on large scans.

#if defined(__x86_64__)
#define AADAP_TARGET_AVX __attribute__((target("avx")))
#define AADAP_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define AADAP_TARGET_AVX512 __attribute__((target("avx512f")))
#endif

namespace aadap::memory {

namespace {

#if defined(__x86_64__)

// The reductions need only AVX, the subset both SIMD targets share, so both inline them.
AADAP_TARGET_AVX inline float sum_lanes(__m256 v) noexcept {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lane sums of four vectors at once: {sum(a), sum(b), sum(c), sum(d)}. hadd works within
// 128-bit halves, so two rounds leave each half holding four partial sums and one add of the
// halves finishes them.
AADAP_TARGET_AVX inline __m128 sum_lanes4(__m256 a, __m256 b, __m256 c, __m256 d) noexcept {
  const __m256 abcd = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(abcd), _mm256_extractf128_ps(abcd, 1));
}

AADAP_TARGET_AVX2 inline float dot_one_avx2(const float* row, std::size_t dim,
                                            const float* query) noexcept {
  __m256 a = _mm256_setzero_ps();
  __m256 b = _mm256_setzero_ps();
  std::size_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    a = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(query + j), a);
    b = _mm256_fmadd_ps(_mm256_loadu_ps(row + j + 8), _mm256_loadu_ps(query + j + 8), b);
  }
  if (j + 8 <= dim) {
    a = _mm256_fmadd_ps(_mm256_loadu_ps(row + j), _mm256_loadu_ps(query + j), a);
    j += 8;
  }
  float sum = sum_lanes(_mm256_add_ps(a, b));
  for (; j < dim; ++j) sum += row[j] * query[j];
  return sum;
}

// Rows rows[0, 4 * dim) into out[0, 4).
AADAP_TARGET_AVX2 inline void dot_four_avx2(const float* rows, std::size_t dim, const float* query,
                                            float* out) noexcept {
  const float* r0 = rows;
  const float* r1 = r0 + dim;
  const float* r2 = r1 + dim;
  const float* r3 = r2 + dim;
  __m256 a0 = _mm256_setzero_ps();
  __m256 a1 = _mm256_setzero_ps();
  __m256 a2 = _mm256_setzero_ps();
  __m256 a3 = _mm256_setzero_ps();
  __m256 b0 = _mm256_setzero_ps();
  __m256 b1 = _mm256_setzero_ps();
  __m256 b2 = _mm256_setzero_ps();
  __m256 b3 = _mm256_setzero_ps();
  std::size_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m256 qa = _mm256_loadu_ps(query + j);
    const __m256 qb = _mm256_loadu_ps(query + j + 8);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), qa, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), qa, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), qa, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), qa, a3);
    b0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j + 8), qb, b0);
    b1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j + 8), qb, b1);
    b2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j + 8), qb, b2);
    b3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j + 8), qb, b3);
  }
  if (j + 8 <= dim) {
    const __m256 qa = _mm256_loadu_ps(query + j);
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + j), qa, a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + j), qa, a1);
    a2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + j), qa, a2);
    a3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + j), qa, a3);
    j += 8;
  }
  const __m128 sums = sum_lanes4(_mm256_add_ps(a0, b0), _mm256_add_ps(a1, b1),
                                 _mm256_add_ps(a2, b2), _mm256_add_ps(a3, b3));
  if (j == dim) {
    _mm_storeu_ps(out, sums);
    return;
  }
  // Fewer than 8 columns left: a scalar tail is cheaper than building a load mask.
  alignas(16) float s[4];
  _mm_store_ps(s, sums);
  for (; j < dim; ++j) {
    const float q = query[j];
    s[0] += r0[j] * q;
    s[1] += r1[j] * q;
    s[2] += r2[j] * q;
    s[3] += r3[j] * q;
  }
  out[0] = s[0];
  out[1] = s[1];
  out[2] = s[2];
  out[3] = s[3];
}

// Masks the first `count` (< 16) lanes of a 512-bit load; masked-off lanes are never read, so
// the tail needs neither a scalar loop nor padding after the last row.
AADAP_TARGET_AVX512 inline __mmask16 first_lanes(std::size_t count) noexcept {
  return static_cast<__mmask16>((1u << count) - 1u);
}

// Adds the two 256-bit halves. The masked extract with an all-ones mask compiles to a plain
// extract; the unmasked intrinsics (and _mm512_reduce_add_ps) start from _mm256_undefined_pd,
// which GCC 12 reports as maybe-uninitialized (GCC bug 105593).
AADAP_TARGET_AVX512 inline __m256 fold_halves(__m512 v) noexcept {
  const __m512d d = _mm512_castps_pd(v);
  return _mm256_add_ps(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, d, 0)),
                       _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xFF, d, 1)));
}

AADAP_TARGET_AVX512 inline float dot_one_avx512(const float* row, std::size_t dim,
                                                const float* query) noexcept {
  __m512 a = _mm512_setzero_ps();
  __m512 b = _mm512_setzero_ps();
  std::size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    a = _mm512_fmadd_ps(_mm512_loadu_ps(row + j), _mm512_loadu_ps(query + j), a);
    b = _mm512_fmadd_ps(_mm512_loadu_ps(row + j + 16), _mm512_loadu_ps(query + j + 16), b);
  }
  if (j + 16 <= dim) {
    a = _mm512_fmadd_ps(_mm512_loadu_ps(row + j), _mm512_loadu_ps(query + j), a);
    j += 16;
  }
  if (j < dim) {
    const __mmask16 m = first_lanes(dim - j);
    b = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, row + j), _mm512_maskz_loadu_ps(m, query + j), b);
  }
  return sum_lanes(fold_halves(_mm512_add_ps(a, b)));
}

// Rows rows[0, 4 * dim) into out[0, 4).
AADAP_TARGET_AVX512 inline void dot_four_avx512(const float* rows, std::size_t dim,
                                                const float* query, float* out) noexcept {
  const float* r0 = rows;
  const float* r1 = r0 + dim;
  const float* r2 = r1 + dim;
  const float* r3 = r2 + dim;
  __m512 a0 = _mm512_setzero_ps();
  __m512 a1 = _mm512_setzero_ps();
  __m512 a2 = _mm512_setzero_ps();
  __m512 a3 = _mm512_setzero_ps();
  __m512 b0 = _mm512_setzero_ps();
  __m512 b1 = _mm512_setzero_ps();
  __m512 b2 = _mm512_setzero_ps();
  __m512 b3 = _mm512_setzero_ps();
  std::size_t j = 0;
  for (; j + 32 <= dim; j += 32) {
    const __m512 qa = _mm512_loadu_ps(query + j);
    const __m512 qb = _mm512_loadu_ps(query + j + 16);
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + j), qa, a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + j), qa, a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + j), qa, a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + j), qa, a3);
    b0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + j + 16), qb, b0);
    b1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + j + 16), qb, b1);
    b2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + j + 16), qb, b2);
    b3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + j + 16), qb, b3);
  }
  if (j + 16 <= dim) {
    const __m512 qa = _mm512_loadu_ps(query + j);
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(r0 + j), qa, a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(r1 + j), qa, a1);
    a2 = _mm512_fmadd_ps(_mm512_loadu_ps(r2 + j), qa, a2);
    a3 = _mm512_fmadd_ps(_mm512_loadu_ps(r3 + j), qa, a3);
    j += 16;
  }
  if (j < dim) {
    const __mmask16 m = first_lanes(dim - j);
    const __m512 q = _mm512_maskz_loadu_ps(m, query + j);
    b0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r0 + j), q, b0);
    b1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r1 + j), q, b1);
    b2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r2 + j), q, b2);
    b3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, r3 + j), q, b3);
  }
  _mm_storeu_ps(out,
                sum_lanes4(fold_halves(_mm512_add_ps(a0, b0)), fold_halves(_mm512_add_ps(a1, b1)),
                           fold_halves(_mm512_add_ps(a2, b2)), fold_halves(_mm512_add_ps(a3, b3))));
}

#endif  // __x86_64__

using DotRowsFn = void (*)(const float*, std::size_t, std::size_t, const float*, float*) noexcept;

struct Kernel {
  DotRowsFn run;
  std::string_view name;
};

Kernel select_kernel() noexcept {
  if (detail::cpu_has_avx512()) return {detail::dot_rows_avx512, "avx512"};
  if (detail::cpu_has_avx2()) return {detail::dot_rows_avx2, "avx2"};
  return {detail::dot_rows_portable, "portable"};
}

// Resolved on first use and kept: the CPU cannot change under a running process, and a
// function-local static is initialised exactly once even when threads race to it.
const Kernel& kernel() noexcept {
  static const Kernel chosen = select_kernel();
  return chosen;
}

}  // namespace

namespace detail {

void dot_rows_portable(const float* rows, std::size_t n, std::size_t dim, const float* query,
                       float* out) noexcept {
  // Sixteen independent partial sums: without -ffast-math the compiler may not reorder a single
  // running sum, but it maps a fixed-width lane loop onto whole vector registers (four SSE2 or
  // NEON registers) with no reassociation needed.
  constexpr std::size_t kLanes = 16;
  const std::size_t body = dim - dim % kLanes;
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = rows + i * dim;
    float acc[kLanes] = {};
    for (std::size_t j = 0; j < body; j += kLanes) {
      for (std::size_t k = 0; k < kLanes; ++k) acc[k] += row[j + k] * query[j + k];
    }
    for (std::size_t width = kLanes / 2; width > 0; width /= 2) {
      for (std::size_t k = 0; k < width; ++k) acc[k] += acc[k + width];
    }
    float sum = acc[0];
    for (std::size_t j = body; j < dim; ++j) sum += row[j] * query[j];
    out[i] = sum;
  }
}

#if defined(__x86_64__)

AADAP_TARGET_AVX2 void dot_rows_avx2(const float* rows, std::size_t n, std::size_t dim,
                                     const float* query, float* out) noexcept {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) dot_four_avx2(rows + i * dim, dim, query, out + i);
  for (; i < n; ++i) out[i] = dot_one_avx2(rows + i * dim, dim, query);
}

AADAP_TARGET_AVX512 void dot_rows_avx512(const float* rows, std::size_t n, std::size_t dim,
                                         const float* query, float* out) noexcept {
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) dot_four_avx512(rows + i * dim, dim, query, out + i);
  for (; i < n; ++i) out[i] = dot_one_avx512(rows + i * dim, dim, query);
}

// __builtin_cpu_init makes the answers valid even when called from another static
// initialiser before libgcc's own; libgcc's feature bits already require the OS to save the
// wider registers (XGETBV), so a CPU with the feature under an OS without it reports false.
bool cpu_has_avx2() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

bool cpu_has_avx512() noexcept {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

#else

void dot_rows_avx2(const float* rows, std::size_t n, std::size_t dim, const float* query,
                   float* out) noexcept {
  dot_rows_portable(rows, n, dim, query, out);
}

void dot_rows_avx512(const float* rows, std::size_t n, std::size_t dim, const float* query,
                     float* out) noexcept {
  dot_rows_portable(rows, n, dim, query, out);
}

bool cpu_has_avx2() noexcept {
  return false;
}

bool cpu_has_avx512() noexcept {
  return false;
}

#endif  // __x86_64__

}  // namespace detail

std::string_view dot_kernel_name() noexcept {
  return kernel().name;
}

void dot_rows(const float* rows, std::size_t n, std::size_t dim, const float* query,
              float* out) noexcept {
  kernel().run(rows, n, dim, query, out);
}

}  // namespace aadap::memory
