// One HTTPS request to see whether a configured service endpoint answers: DNS, TCP, TLS with
// the chosen CA bundle, and an HTTP response of any status (401 and 404 count: the server is
// there). Used by `aadap doctor`; the full transport with retries lives beside it.
#pragma once

#include "aadap/platforms/ca_bundle.hpp"

#include <chrono>
#include <string>
#include <string_view>

namespace aadap::platforms {

struct EndpointCheck {
  bool reachable = false;
  long http_status = 0;  // 0 when no response arrived
  std::string detail;    // "HTTP 401 in 84 ms" or the transport error (redacted)
  double latency_ms = 0.0;
};

/// GET `url` once, sending the correlation id in `correlation_header`. Never throws for a
/// network or TLS failure: the result says why. Blocks for at most about `timeout`;
/// thread-safe.
EndpointCheck check_endpoint(const std::string& url, const TlsOptions& tls,
                             std::string_view correlation_header, std::string_view correlation_id,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace aadap::platforms
