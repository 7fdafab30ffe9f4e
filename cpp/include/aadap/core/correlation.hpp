// Correlation ids: one string per request or task that appears in every log line, outgoing
// HTTP header, audit event and transition row. The core never keeps one in thread-local state:
// callers pass it explicitly, because a GIL release or a thread pool would lose it.
#pragma once

#include <string>
#include <string_view>

namespace aadap {

/// A fresh random (version 4) UUID in canonical form.
std::string new_correlation_id();

/// Longest id accepted (ids travel in HTTP headers and database columns).
inline constexpr std::size_t kMaxCorrelationIdLength = 128;

/// Throws InvalidArgumentError unless `id` is 1..128 printable ASCII characters without spaces
/// (an id with CR/LF could inject HTTP headers or log lines).
void validate_correlation_id(std::string_view id);

}  // namespace aadap
