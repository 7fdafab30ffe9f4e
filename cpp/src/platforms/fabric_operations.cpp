// FabricClient's long-running operations (cloud-apis.md B10.6): a 202 answer names its
// operation (Location, x-ms-operation-id); the operation is polled at its Retry-After until
// Succeeded or Failed, and a success's result read from the Location it then gives.
#include "aadap/core/errors.hpp"
#include "aadap/platforms/fabric.hpp"
#include "aadap/platforms/json_fields.hpp"
#include "aadap/platforms/polling.hpp"

namespace aadap::platforms {

using nlohmann::json;

json FabricClient::finish_operation(const FabricAnswer& answer, const std::string& what,
                                    bool want_result, const std::string& correlation_id,
                                    const CancelCheck& cancelled) const {
  if (answer.status != 202) return answer.body;
  const auto operation_id = answer.headers.get("x-ms-operation-id");
  // Location is followed exactly as given (the service sends it with and without /v1)
  std::string location = answer.headers.get("Location").value_or("");
  if (location.empty() && operation_id) location = "/operations/" + percent_encode(*operation_id);
  if (location.empty()) {
    throw RemoteError("Fabric accepted " + what + " without naming its operation",
                      {{"code", "malformed_response"}, {"service", "Fabric"}});
  }
  PollSchedule schedule;
  schedule.before_first = server_delay(answer.headers).value_or(std::chrono::seconds(1));
  schedule.cap = std::chrono::seconds(30);
  WaitOptions options;
  options.timeout = config_.operation_timeout;
  options.cancelled = cancelled;
  options.correlation_id = correlation_id;
  HttpHeaders last_headers;
  const json state = poll_until(
      *clock_, sleeper_, what + " (operation " + operation_id.value_or(location) + ")",
      [&] {
        FabricAnswer polled = call("GET", location, json(), correlation_id, true, cancelled);
        last_headers = polled.headers;
        std::string status = string_field(polled.body, "status");
        return PollAnswer{std::move(polled.body), std::move(status), server_delay(polled.headers)};
      },
      {"Succeeded", "Failed", "Undefined"}, [] {}, schedule, options);
  const std::string status = string_field(state, "status");
  if (status != "Succeeded") {
    const json error = object_field(state, "error");
    throw RemoteError("Fabric could not finish " + what + ": " +
                          string_field(error, "message", status + " operation"),
                      {{"code", string_field(error, "errorCode", status)},
                       {"request_id", string_field(error, "requestId")},
                       {"operation_id", operation_id.value_or("")},
                       {"service", "Fabric"}});
  }
  if (!want_result) return state;
  // a finished operation's Location names its result; without one the result sits below it
  const std::string result = last_headers.get("Location").value_or(location + "/result");
  return call("GET", result, json(), correlation_id, true, cancelled).body;
}

}  // namespace aadap::platforms
