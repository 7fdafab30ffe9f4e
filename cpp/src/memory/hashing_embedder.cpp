#include "aadap/memory/hashing_embedder.hpp"

#include "aadap/core/errors.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace aadap::memory {

namespace {

// Feature weights, tuned on data-engineering sentences (tests/cpp/test_hashing_embedder.cpp):
// bigrams weigh less than words because one changed word breaks two bigrams but one word;
// character n-grams are many per word, so each weighs less than the word itself.
constexpr float kWordWeight = 1.0F;
constexpr float kBigramWeight = 0.4F;
constexpr float kCharGramWeight = 0.4F;
constexpr std::size_t kMinCharGram = 3;
constexpr std::size_t kMaxCharGram = 5;
// Words shorter than this many characters are scaled down in proportion to their length.
constexpr float kFullWeightChars = 4.0F;

constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

constexpr std::uint64_t fnv1a(std::uint64_t state, std::string_view bytes) noexcept {
  for (char c : bytes) {
    state ^= static_cast<unsigned char>(c);
    state *= kFnvPrime;
  }
  return state;
}

// MurmurHash3's 64-bit finaliser: FNV-1a alone leaves the high bits (the sign) and the low
// bits (the index) of short inputs poorly mixed.
constexpr std::uint64_t mix64(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// One seed per kind of feature, so that the word "abc" and the character gram "abc" are
// different features.
constexpr std::uint64_t kWordSeed = fnv1a(kFnvOffset, "w");
constexpr std::uint64_t kBigramSeed = fnv1a(kFnvOffset, "b");
constexpr std::uint64_t kCharGramSeed = fnv1a(kFnvOffset, "c");

bool is_word_byte(unsigned char c) noexcept {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool starts_character(unsigned char c) noexcept {
  return (c & 0xC0) != 0x80;
}

struct Word {
  std::string_view text;
  float weight;
};

// Adds hashed features to one output row.
class Row {
 public:
  Row(float* values, int dimension) : values_(values), dimension_(dimension) {
    std::fill(values_, values_ + dimension_, 0.0F);
  }

  void add(std::uint64_t hash, float weight) noexcept {
    const std::uint64_t h = mix64(hash);
    // Lemire's multiply-shift maps the low 32 bits onto [0, dimension) without a division.
    const auto index = static_cast<std::size_t>(((h & 0xFFFFFFFFULL) * dimension_) >> 32);
    values_[index] += (h >> 63) != 0 ? -weight : weight;
    if (!has_first_index_) {
      first_index_ = index;
      has_first_index_ = true;
    }
  }

  void normalise() noexcept {
    double sum = 0.0;
    for (int i = 0; i < dimension_; ++i) sum += static_cast<double>(values_[i]) * values_[i];
    if (sum == 0.0) {
      // Every feature was cancelled by a colliding one of opposite sign (possible only in a
      // tiny dimension): fall back to the first feature's axis, still a unit vector.
      values_[first_index_] = 1.0F;
      return;
    }
    const auto scale = static_cast<float>(1.0 / std::sqrt(sum));
    for (int i = 0; i < dimension_; ++i) values_[i] *= scale;
  }

 private:
  float* values_;
  int dimension_;
  std::size_t first_index_ = 0;
  bool has_first_index_ = false;
};

}  // namespace

HashingEmbedder::HashingEmbedder(int dimension) : dimension_(dimension) {
  if (dimension < kMinDimension || dimension > kMaxDimension) {
    throw InvalidArgumentError(
        "hashing embedder dimension must be from " + std::to_string(kMinDimension) + " to " +
            std::to_string(kMaxDimension) + " (got " + std::to_string(dimension) + ")",
        {{"dimension", dimension}});
  }
}

EmbedderIdentity HashingEmbedder::identity() const {
  return {"aadap", "feature-hashing-v1", dimension_};
}

void HashingEmbedder::embed_batch(const std::vector<std::string>& texts, float* out) const {
  require_non_blank_texts(texts);
  // Scratch buffers reused from one text to the next.
  std::string lowered;
  std::vector<Word> words;
  std::string padded;
  std::vector<std::size_t> starts;

  for (std::size_t t = 0; t < texts.size(); ++t) {
    const std::string& text = texts[t];
    lowered.assign(text);
    for (char& c : lowered) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    words.clear();
    for (std::size_t i = 0; i < lowered.size();) {
      if (!is_word_byte(static_cast<unsigned char>(lowered[i]))) {
        ++i;
        continue;
      }
      const std::size_t begin = i;
      std::size_t characters = 0;
      for (; i < lowered.size() && is_word_byte(static_cast<unsigned char>(lowered[i])); ++i) {
        if (starts_character(static_cast<unsigned char>(lowered[i]))) ++characters;
      }
      const float weight = std::min(1.0F, static_cast<float>(characters) / kFullWeightChars);
      words.push_back({std::string_view(lowered).substr(begin, i - begin), weight});
    }
    if (words.empty()) {
      throw InvalidArgumentError(
          "text at index " + std::to_string(t) + " has no word (letters, digits or non-ASCII " +
              "characters) for the hashing embedder to hash: '" + text.substr(0, 80) + "'",
          {{"index", t}});
    }

    Row row(out + t * static_cast<std::size_t>(dimension_), dimension_);
    for (std::size_t w = 0; w < words.size(); ++w) {
      const Word& word = words[w];
      row.add(fnv1a(kWordSeed, word.text), kWordWeight * word.weight);
      if (w + 1 < words.size()) {
        const Word& next = words[w + 1];
        const std::uint64_t pair = fnv1a(fnv1a(fnv1a(kBigramSeed, word.text), " "), next.text);
        row.add(pair, kBigramWeight * std::sqrt(word.weight * next.weight));
      }
      padded.assign("<");
      padded.append(word.text);
      padded.push_back('>');
      starts.clear();
      for (std::size_t i = 0; i < padded.size(); ++i) {
        if (starts_character(static_cast<unsigned char>(padded[i]))) starts.push_back(i);
      }
      starts.push_back(padded.size());
      const std::size_t characters = starts.size() - 1;
      const float gram_weight = kCharGramWeight * word.weight;
      for (std::size_t n = kMinCharGram; n <= kMaxCharGram && n <= characters; ++n) {
        for (std::size_t i = 0; i + n <= characters; ++i) {
          const std::string_view gram =
              std::string_view(padded).substr(starts[i], starts[i + n] - starts[i]);
          row.add(fnv1a(kCharGramSeed, gram), gram_weight);
        }
      }
    }
    row.normalise();
  }
}

}  // namespace aadap::memory
