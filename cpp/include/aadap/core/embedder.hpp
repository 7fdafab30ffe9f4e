// The embedding interface (memory.md §3). It lives in core so that the vector memory and the
// platform clients (Azure OpenAI) meet through it without including each other.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aadap {

/// Who made a vector: recorded with a vector memory so vectors of different embedders are
/// never mixed.
struct EmbedderIdentity {
  std::string provider;
  std::string model;
  int dimension = 0;
};

/// Turns text into unit-length float32 vectors of a fixed dimension.
///
/// Implementations are thread-safe: embed_batch may run on many threads at once.
class Embedder {
 public:
  virtual ~Embedder() = default;

  virtual EmbedderIdentity identity() const = 0;
  int dimension() const { return identity().dimension; }

  /// Writes texts.size() rows of dimension() floats to `out` (row-major); `out` must hold
  /// that many. Empty or whitespace-only text: InvalidArgumentError naming its index (see
  /// require_non_blank_texts); nothing is promised about `out` then.
  virtual void embed_batch(const std::vector<std::string>& texts, float* out) const = 0;

  /// One text's vector; convenience over embed_batch (an error names index 0).
  std::vector<float> embed(const std::string& text) const;
};

/// True if `text` is empty or holds only whitespace: ASCII whitespace or one of the Unicode
/// White_Space characters encoded in UTF-8 (a no-break space is still no text to embed).
bool is_blank_text(std::string_view text) noexcept;

/// Throws InvalidArgumentError naming the index of the first blank text (is_blank_text), so
/// that every Embedder refuses the same inputs with the same message.
void require_non_blank_texts(const std::vector<std::string>& texts);

}  // namespace aadap
