#include "aadap/store/embedding_digest.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace aadap::store {

namespace {

constexpr std::uint64_t kPrime1 = 0x9e3779b185ebca87ULL;
constexpr std::uint64_t kPrime2 = 0xc2b2ae3d27d4eb4fULL;

constexpr std::uint64_t rotl(std::uint64_t x, int r) noexcept {
  return (x << r) | (x >> (64 - r));
}

// One multiply-rotate-multiply step per 8 bytes, in four independent lanes (a 6 KB vector
// takes well under a microsecond), then a finaliser that spreads every bit.
constexpr std::uint64_t round(std::uint64_t lane, std::uint64_t word) noexcept {
  return rotl(lane + word * kPrime2, 31) * kPrime1;
}

constexpr std::uint64_t finish(std::uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

std::int64_t embedding_digest(const float* values, std::size_t count) noexcept {
  const auto* bytes = reinterpret_cast<const unsigned char*>(values);
  const std::size_t size = count * sizeof(float);
  std::array<std::uint64_t, 4> lanes = {kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1};
  std::size_t offset = 0;
  for (; offset + 32 <= size; offset += 32) {
    for (std::size_t lane = 0; lane < 4; ++lane) {
      std::uint64_t word = 0;
      std::memcpy(&word, bytes + offset + 8 * lane, 8);
      lanes[lane] = round(lanes[lane], word);
    }
  }
  std::uint64_t h = size;
  for (std::size_t lane = 0; lane < 4; ++lane) h = finish(h ^ rotl(lanes[lane], 7 * lane + 1));
  for (; offset < size; offset += 8) {  // the tail, zero-padded
    std::uint64_t word = 0;
    std::memcpy(&word, bytes + offset, std::min<std::size_t>(8, size - offset));
    h = finish(h ^ round(offset, word));
  }
  return static_cast<std::int64_t>(h);
}

}  // namespace aadap::store
