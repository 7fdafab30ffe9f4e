// Reachability check of a store URL without touching its schema: what `aadap doctor` reports.
#pragma once

#include "aadap/core/database_url.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace aadap::store {

struct ProbeResult {
  bool reachable = false;
  std::string backend;         // "sqlite" / "postgresql"
  std::string url;             // redacted
  std::string server_version;  // PostgreSQL server or SQLite library version
  std::string detail;          // what was found, or why it failed (redacted)
  double latency_ms = 0.0;
};

/// SQLite: an existing file is opened read-only and read; a missing one is reachable when its
/// directory can be created or written. PostgreSQL: connects (with `timeout`) and asks for the
/// server version. Never throws for an unreachable store: the result says why. Thread-safe;
/// blocks for at most about `timeout`.
ProbeResult probe(const DatabaseUrl& url, std::string_view correlation_id,
                  std::chrono::seconds timeout = std::chrono::seconds(5));

}  // namespace aadap::store
