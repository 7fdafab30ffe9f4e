#include "aadap/core/embedder.hpp"

#include "aadap/core/errors.hpp"

#include <string>

namespace aadap {

namespace {

// The UTF-8 encodings of the Unicode White_Space characters beyond ASCII: U+0085, U+00A0,
// U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
constexpr std::string_view kUnicodeSpaces[] = {
    "\xC2\x85",     "\xC2\xA0",     "\xE1\x9A\x80", "\xE2\x80\x80", "\xE2\x80\x81",
    "\xE2\x80\x82", "\xE2\x80\x83", "\xE2\x80\x84", "\xE2\x80\x85", "\xE2\x80\x86",
    "\xE2\x80\x87", "\xE2\x80\x88", "\xE2\x80\x89", "\xE2\x80\x8A", "\xE2\x80\xA8",
    "\xE2\x80\xA9", "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80"};

bool is_ascii_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

}  // namespace

std::vector<float> Embedder::embed(const std::string& text) const {
  std::vector<float> row(static_cast<std::size_t>(dimension()));
  embed_batch({text}, row.data());
  return row;
}

bool is_blank_text(std::string_view text) noexcept {
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_ascii_space(text[i])) {
      ++i;
      continue;
    }
    std::size_t matched = 0;
    for (std::string_view space : kUnicodeSpaces) {
      if (text.substr(i, space.size()) == space) {
        matched = space.size();
        break;
      }
    }
    if (matched == 0) return false;
    i += matched;
  }
  return true;
}

void require_non_blank_texts(const std::vector<std::string>& texts) {
  for (std::size_t i = 0; i < texts.size(); ++i) {
    if (is_blank_text(texts[i])) {
      throw InvalidArgumentError("text at index " + std::to_string(i) +
                                     (texts[i].empty() ? " is empty" : " is only whitespace") +
                                     ": every text to embed needs some content",
                                 {{"index", i}});
    }
  }
}

}  // namespace aadap
