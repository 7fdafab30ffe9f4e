// A fingerprint of an embedding that the stores keep beside it, so a reader can tell which
// vector a row holds without reading the vector: the vector memory opens from a snapshot of
// its hnsw graph, which holds the vectors it was built from, and reads from the table only
// the rows whose vector the snapshot does not hold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aadap::store {

/// 64 bits over the bytes of `values`: equal vectors (bit for bit) have equal digests,
/// different ones differ but with a probability of about 2^-64. Not a cryptographic hash.
std::int64_t embedding_digest(const float* values, std::size_t count) noexcept;

}  // namespace aadap::store
