#include "aadap/memory/glob.hpp"

#include "aadap/core/errors.hpp"

#include <string>

namespace aadap::memory {

namespace {

// Matches one class "[...]" starting at pattern[p] == '[' against c; sets `end` to the index
// just past ']'.
bool match_class(std::string_view pattern, std::size_t p, char c, std::size_t& end) noexcept {
  std::size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char low = pattern[i];
    if (low == '\\' && i + 1 < pattern.size()) low = pattern[++i];
    char high = low;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      high = pattern[i + 2];
      if (high == '\\' && i + 3 < pattern.size()) {
        high = pattern[i + 3];
        ++i;
      }
      i += 2;
    }
    const auto uc = static_cast<unsigned char>(c);
    if (uc >= static_cast<unsigned char>(low) && uc <= static_cast<unsigned char>(high)) {
      matched = true;
    }
    ++i;
  }
  end = i + 1;  // past ']'
  return matched != negate;
}

}  // namespace

void validate_glob(std::string_view pattern) {
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      if (i + 1 == pattern.size()) {
        throw InvalidArgumentError("invalid glob '" + std::string(pattern) +
                                   "': it ends with a lone backslash (use \\\\ for a literal one)");
      }
      ++i;
    } else if (pattern[i] == '[') {
      std::size_t j = i + 1;
      if (j < pattern.size() && (pattern[j] == '!' || pattern[j] == '^')) ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;  // a leading ']' is literal
      while (j < pattern.size() && pattern[j] != ']') j += (pattern[j] == '\\') ? 2 : 1;
      if (j >= pattern.size()) {
        throw InvalidArgumentError("invalid glob '" + std::string(pattern) + "': the '[' at " +
                                   std::to_string(i) +
                                   " is never closed (use \\[ for a literal bracket)");
      }
      i = j;
    }
  }
}

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  std::size_t p = 0;
  std::size_t t = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size()) {
      const char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_t = t;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++t;
        continue;
      }
      if (pc == '[') {
        std::size_t end = 0;
        if (match_class(pattern, p, text[t], end)) {
          p = end;
          ++t;
          continue;
        }
      } else {
        const bool escaped = pc == '\\' && p + 1 < pattern.size();
        const char literal = escaped ? pattern[p + 1] : pc;
        if (literal == text[t]) {
          p += escaped ? 2 : 1;
          ++t;
          continue;
        }
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;  // let the last '*' absorb one more byte
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace aadap::memory
