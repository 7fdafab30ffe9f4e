// The offline embedder (memory.md §3): feature hashing of words and character n-grams, for
// notebooks and tests with no cloud access.
#pragma once

#include "aadap/core/embedder.hpp"

#include <string>
#include <vector>

namespace aadap::memory {

/// A deterministic, offline Embedder that hashes lexical features into a fixed dimension.
///
/// It is LEXICAL, NOT SEMANTIC: texts are similar when they share words and spellings, not
/// when they mean the same thing ("cancel the job" and "abort the run" score 0.16, "load sales
/// into silver" and "load sales into gold" 0.73). Near-duplicates (one word changed or added,
/// different case or punctuation) score above 0.85; texts on different topics score far
/// below. Use a model embedder (Azure OpenAI) when meaning matters.
///
/// Features of a text, each hashed to an index and a sign (+1/-1, so that collisions cancel
/// on average instead of piling up), summed, then L2-normalised:
/// - words: maximal runs of ASCII letters and digits and of bytes >= 0x80 (UTF-8 text stays
///   whole), ASCII-lowercased;
/// - each word (weight 1), each pair of adjacent words (0.4), and each 3-, 4- and 5-gram of
///   characters (UTF-8 code points) of the word between boundary markers, "<word>" (0.4 each;
///   they make inflections such as "table"/"tables" close);
/// - every weight of a word is scaled by min(1, characters / 4), which keeps short function
///   words ("the", "of", "to") from making unrelated texts look alike.
/// The hash is a fixed FNV-1a with a murmur finaliser, so vectors are identical across runs
/// and machines. Any change to the features must change the model name in identity(), since
/// stored vectors are matched to their embedder by that name.
///
/// Thread-safe: immutable after construction.
class HashingEmbedder final : public Embedder {
 public:
  static constexpr int kMinDimension = 1;
  static constexpr int kMaxDimension = 8192;

  /// Throws InvalidArgumentError unless kMinDimension <= dimension <= kMaxDimension.
  explicit HashingEmbedder(int dimension = 1536);

  /// {"aadap", "feature-hashing-v1", dimension}.
  EmbedderIdentity identity() const override;

  /// Besides blank text (see Embedder), refuses with InvalidArgumentError naming its index a
  /// text with no word at all (only ASCII punctuation and whitespace), which has no feature.
  void embed_batch(const std::vector<std::string>& texts, float* out) const override;

 private:
  int dimension_;
};

}  // namespace aadap::memory
