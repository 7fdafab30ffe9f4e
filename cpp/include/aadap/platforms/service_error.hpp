// How a service's error answer becomes a typed exception (platforms.md §1), the same for
// every client: 401/403 AuthenticationError, 404 NotFoundError, 429 RateLimitError (carrying
// retry_after), anything else RemoteError; each carries the HTTP status, the service's error
// code and message and the request id. Clients extract those from their service's body shape.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace aadap::platforms {

struct ServiceError {
  std::string service;  // "Azure OpenAI", "Entra ID", ...
  std::string action;   // "chat completion on deployment 'gpt-4o'"
  long status = 0;
  std::string code;
  std::string message;
  std::string request_id;
  std::optional<std::chrono::milliseconds> retry_after;
  int attempts = 1;
};

/// Throws the exception `error` maps to. The message is redacted.
[[noreturn]] void throw_service_error(const ServiceError& error);

/// The body parsed as JSON, or RemoteError naming the service and what arrived (a
/// truncated or non-JSON body is a clear error, never a crash).
nlohmann::json parse_service_json(const std::string& body, const std::string& service,
                                  const std::string& action, long status);

}  // namespace aadap::platforms
