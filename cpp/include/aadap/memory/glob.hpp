// fnmatch-style globs for key scans: `*` (any run), `?` (one byte), `[abc]`, `[a-z]`,
// `[!x]` / `[^x]` (negation), and `\x` for a literal x (keys may contain * ? [ themselves).
#pragma once

#include <string_view>

namespace aadap::memory {

/// Throws InvalidArgumentError unless `pattern` is a valid glob (every '[' closed, no
/// trailing '\').
void validate_glob(std::string_view pattern);

/// True if `text` matches `pattern`, which must be valid (see validate_glob). Linear in
/// practice: backtracks only to the last '*'.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

}  // namespace aadap::memory
