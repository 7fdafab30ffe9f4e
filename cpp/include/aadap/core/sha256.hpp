// Content hashes (artifacts: lifecycle.md §3).
#pragma once

#include <string>
#include <string_view>

namespace aadap {

/// The SHA-256 of `data` as 64 lower-case hex digits. Thread-safe.
std::string sha256_hex(std::string_view data);

}  // namespace aadap
