// Masking of secrets in any text that may leave the process: log lines, exception messages,
// URLs shown to users. Two mechanisms work together:
//  * exact values registered as secret (every aadap::Secret registers its value), and
//  * patterns: passwords in URL userinfo, `Bearer`/`Basic` credentials, Databricks tokens,
//    JWTs, and the values of sensitive keys (password=, "api-key": "...", Authorization: ...).
// Thread-safe; the registry is copy-on-write so readers never take a lock.
#pragma once

#include <string>
#include <string_view>

namespace aadap {

/// What every masked value is replaced with.
inline constexpr std::string_view kMask = "**********";

/// Registers a value that must never appear in output. Values shorter than 4 characters are
/// ignored (masking them would garble every line without protecting anything).
void register_secret_value(std::string_view value);

/// Returns `text` with every registered secret value and every recognised credential masked.
std::string redact(std::string_view text);

}  // namespace aadap
