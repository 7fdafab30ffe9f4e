#include "aadap/platforms/fabric.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/platforms/json_fields.hpp"
#include "aadap/platforms/service_error.hpp"

#include <set>

namespace aadap::platforms {

namespace {

using nlohmann::json;

constexpr const char* kService = "Fabric";

}  // namespace

FabricClient::FabricClient(FabricConfig config, std::shared_ptr<const HttpTransport> transport,
                           std::shared_ptr<EntraCredential> credential,
                           std::shared_ptr<ResourceRecorder> recorder,
                           std::shared_ptr<const Clock> clock, Sleeper& sleeper)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      credential_(std::move(credential)),
      recorder_(std::move(recorder)),
      clock_(std::move(clock)),
      sleeper_(sleeper) {
  while (!config_.api_base.empty() && config_.api_base.back() == '/') config_.api_base.pop_back();
  const auto scheme = config_.api_base.find("://");
  if (scheme == std::string::npos ||
      (config_.api_base.rfind("https://", 0) != 0 && config_.api_base.rfind("http://", 0) != 0)) {
    throw ConfigurationError("the Fabric API base is an http(s) URL like " +
                             std::string("https://api.fabric.microsoft.com/v1, not '") +
                             url_for_display(config_.api_base) + "'");
  }
  origin_ = config_.api_base.substr(0, config_.api_base.find('/', scheme + 3));
  if (!transport_ || !credential_) {
    throw ConfigurationError("a Fabric client needs a transport and an Entra credential");
  }
  config_.retry.validate();
}

std::string FabricClient::workspace_path() const {
  if (config_.workspace_id.empty()) {
    throw ConfigurationError(
        "no Fabric workspace: pass workspace_id or set AADAP_FABRIC_WORKSPACE_ID "
        "(AADAP_PRODUCTION_FABRIC_WORKSPACE_ID for PRODUCTION)");
  }
  return "/workspaces/" + percent_encode(config_.workspace_id);
}

bool FabricClient::same_origin(const std::string& url) const {
  return url.rfind(origin_, 0) == 0 &&
         (url.size() == origin_.size() || url[origin_.size()] == '/' || url[origin_.size()] == '?');
}

std::string FabricClient::absolute_url(const std::string& target) const {
  if (target.rfind("https://", 0) != 0 && target.rfind("http://", 0) != 0) {
    return config_.api_base + target;
  }
  if (!same_origin(target)) {
    // the bearer token goes nowhere but the API's own origin
    throw RemoteError(
        "Fabric pointed at " + url_for_display(target) + ", outside " + origin_ + ": not followed",
        {{"code", "foreign_location"}, {"service", kService}});
  }
  return target;
}

FabricAnswer FabricClient::call(const std::string& method, const std::string& target,
                                const json& body, const std::string& correlation_id, bool retriable,
                                const CancelCheck& cancelled) const {
  const std::string url = absolute_url(target);
  const Retrier retrier(*transport_, config_.retry, *clock_, sleeper_);
  const std::string payload =
      body.is_null() ? std::string() : body.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto prepare = [&](int) {
    HttpRequest r;
    r.method = method;
    r.url = url;
    r.headers = {
        {"Accept", "application/json"},
        {"Authorization",
         "Bearer " + credential_->token(config_.scope, correlation_id, cancelled).reveal()}};
    if (!payload.empty()) r.headers.add("Content-Type", "application/json");
    r.body = payload;
    r.correlation_id = correlation_id;
    r.timeout = config_.request_timeout;
    return r;
  };
  auto result = retrier.send(prepare, retriable, cancelled);
  if (result.response.status == 401) {
    // TokenExpired (or a token revoked early): one new token, one more try; a 401 means the
    // request was not processed, so even a create may be repeated
    credential_->invalidate(config_.scope);
    const int before = result.attempts;
    result = retrier.send(prepare, retriable, cancelled);
    result.attempts += before;
  }
  const std::string action = method + " " + url_for_display(url);
  if (result.response.status >= 300) {
    auto error = fabric_error(result.response);
    throw_service_error(
        ServiceError{kService, action, result.response.status, std::move(error.code),
                     std::move(error.message), std::move(error.request_id),
                     result.refused_server_delay ? result.refused_server_delay
                                                 : server_delay(result.response.headers),
                     result.attempts});
  }
  FabricAnswer answer;
  answer.status = result.response.status;
  answer.headers = std::move(result.response.headers);
  if (result.response.body.find_first_not_of(" \t\r\n") != std::string::npos) {
    answer.body = parse_service_json(result.response.body, kService, action, answer.status);
    if (!answer.body.is_object()) {
      throw RemoteError("Fabric answered the " + action + " with JSON that is not an object",
                        {{"code", "malformed_response"}, {"service", kService}});
    }
  }
  return answer;
}

json FabricClient::list_pages(const std::string& path, const char* key,
                              const std::string& correlation_id) const {
  json items = json::array();
  const char separator = path.find('?') == std::string::npos ? '?' : '&';
  std::string target = path;
  std::set<std::string> seen{path};
  for (;;) {
    const FabricAnswer page = call("GET", target, json(), correlation_id, true);
    const auto found = page.body.find(key);
    if (found == page.body.end() || !found->is_array()) {
      throw RemoteError("Fabric answered " + url_for_display(absolute_url(target)) +
                            " without its '" + key + "' list",
                        {{"code", "malformed_response"}, {"service", kService}});
    }
    for (auto& item : *found) items.push_back(std::move(item));
    const std::string uri = string_field(page.body, "continuationUri");
    const std::string token = string_field(page.body, "continuationToken");
    if (uri.empty() && token.empty()) return items;
    // the service's own next-page URL as given; the token encoded once when there is none
    std::string next = !uri.empty() && same_origin(uri)
                           ? uri
                           : path + separator + "continuationToken=" + percent_encode(token);
    if (!seen.insert(next).second) {  // a server going round in circles would loop forever
      throw RemoteError("Fabric answered the same continuation twice for " + path,
                        {{"code", "malformed_response"}, {"service", kService}});
    }
    target = std::move(next);
  }
}

FabricError fabric_error(const HttpResponse& response) {
  FabricError error;
  try {
    const json body = json::parse(response.body);
    if (body.is_object()) {
      error.code = string_field(body, "errorCode");
      error.message = string_field(body, "message");
      error.request_id = string_field(body, "requestId");
      if (error.code.empty() && body.contains("error") && body["error"].is_object()) {
        // the Azure-style envelope some gateways answer with
        error.code = string_field(body["error"], "code");
        error.message = string_field(body["error"], "message");
      }
    }
  } catch (const json::exception&) {
    // not JSON (a gateway's HTML page): the headers and status below speak for it
  }
  if (error.code.empty()) {
    error.code = response.headers.get("x-ms-public-api-error-code").value_or("");
  }
  if (error.request_id.empty()) {
    error.request_id = response.headers.get("RequestId")
                           .value_or(response.headers.get("x-ms-request-id").value_or(""));
  }
  if (error.message.empty()) error.message = "HTTP " + std::to_string(response.status);
  return error;
}

}  // namespace aadap::platforms
