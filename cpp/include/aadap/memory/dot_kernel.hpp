// The exact-search inner-product kernel: one query against a block of contiguous rows. The
// library is built for generic x86-64 (it ships in a wheel), so the AVX2 and AVX-512 versions
// are compiled alongside a portable one and the best the CPU supports is chosen at run time;
// a single scan over a large matrix then runs at memory bandwidth instead of SSE2 speed.
#pragma once

#include <cstddef>
#include <string_view>

namespace aadap::memory {

/// The implementation dot_rows runs on this CPU: "avx512", "avx2" or "portable".
std::string_view dot_kernel_name() noexcept;

/// out[i] = sum_j rows[i * dim + j] * query[j] for i in [0, n): one query against n
/// contiguous rows (row-major, n * dim floats). Accumulates in float with several
/// independent accumulators (the order differs from a naive loop; results within ~1e-6
/// relative for unit vectors). Pointers need no particular alignment; only out[0, n) is
/// written (zeros when dim is 0). Thread-safe (pure).
void dot_rows(const float* rows, std::size_t n, std::size_t dim, const float* query,
              float* out) noexcept;

namespace detail {  // each implementation, for tests; only call one the CPU supports

/// Plain C++ written for the compiler to vectorize with the baseline instruction set.
void dot_rows_portable(const float* rows, std::size_t n, std::size_t dim, const float* query,
                       float* out) noexcept;
/// AVX2 + FMA. On non-x86 builds it forwards to dot_rows_portable so callers still link.
void dot_rows_avx2(const float* rows, std::size_t n, std::size_t dim, const float* query,
                   float* out) noexcept;
/// AVX-512F. On non-x86 builds it forwards to dot_rows_portable so callers still link.
void dot_rows_avx512(const float* rows, std::size_t n, std::size_t dim, const float* query,
                     float* out) noexcept;

/// True if the CPU has AVX2 and FMA and the OS saves the YMM registers (always false off x86).
bool cpu_has_avx2() noexcept;
/// True if the CPU has AVX-512F and the OS saves the ZMM and mask registers (always false off
/// x86).
bool cpu_has_avx512() noexcept;

}  // namespace detail

}  // namespace aadap::memory
