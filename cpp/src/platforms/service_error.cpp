#include "aadap/platforms/service_error.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/redaction.hpp"

namespace aadap::platforms {

void throw_service_error(const ServiceError& error) {
  nlohmann::json details = {{"status", error.status},
                            {"code", error.code},
                            {"request_id", error.request_id},
                            {"service", error.service},
                            {"attempts", error.attempts}};
  std::string message =
      error.service + " refused the " + error.action + ": HTTP " + std::to_string(error.status);
  if (!error.code.empty()) message += " " + error.code;
  if (!error.message.empty()) message += ": " + error.message;
  if (!error.request_id.empty()) message += " (request id " + error.request_id + ")";
  if (error.attempts > 1) message += " after " + std::to_string(error.attempts) + " attempts";
  message = redact(message);
  if (error.status == 401 || error.status == 403) throw AuthenticationError(message, details);
  if (error.status == 404) throw NotFoundError(message, details);
  if (error.status == 429) {
    details["retry_after"] =
        error.retry_after ? static_cast<double>(error.retry_after->count()) / 1000.0 : 0.0;
    throw RateLimitError(message, details);
  }
  throw RemoteError(message, details);
}

nlohmann::json parse_service_json(const std::string& body, const std::string& service,
                                  const std::string& action, long status) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) {
    const std::string start = body.substr(0, 120);
    throw RemoteError(redact(service + " answered the " + action + " (HTTP " +
                             std::to_string(status) + ") with malformed JSON (" +
                             std::to_string(body.size()) + " bytes, starting '" + start + "')"),
                      {{"status", status}, {"service", service}, {"code", "malformed_response"}});
  }
  return parsed;
}

}  // namespace aadap::platforms
