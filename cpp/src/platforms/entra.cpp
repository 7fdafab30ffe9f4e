#include "aadap/platforms/entra.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/platforms/service_error.hpp"

namespace aadap::platforms {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.entra");
  return instance;
}

constexpr const char* kService = "Entra ID";

/// `expires_in` as a number of seconds (v1-style endpoints send it as a string).
std::optional<double> seconds_of(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    char* end = nullptr;
    const double parsed = std::strtod(text.c_str(), &end);
    if (!text.empty() && end == text.c_str() + text.size()) return parsed;
  }
  return std::nullopt;
}

std::string trimmed_authority(std::string authority) {
  while (!authority.empty() && authority.back() == '/') authority.pop_back();
  return authority;
}

}  // namespace

EntraCredential::EntraCredential(std::shared_ptr<const HttpTransport> transport, EntraConfig config,
                                 std::shared_ptr<const Clock> clock, Sleeper& sleeper)
    : transport_(std::move(transport)),
      config_(std::move(config)),
      clock_(std::move(clock)),
      sleeper_(sleeper) {
  config_.authority = trimmed_authority(config_.authority);
  std::string missing;
  if (config_.tenant_id.empty()) missing += " tenant id";
  if (config_.client_id.empty()) missing += " client id";
  if (config_.client_secret.empty()) missing += " client secret";
  if (!missing.empty()) {
    throw ConfigurationError(
        "Entra ID client credentials need a tenant id, a client id and a "
        "client secret; missing:" +
        missing);
  }
  config_.retry.validate();
}

Secret EntraCredential::token(const std::string& scope, const std::string& correlation_id,
                              const CancelCheck& cancelled) {
  std::lock_guard lock(mutex_);
  if (const auto found = cache_.find(scope);
      found != cache_.end() && clock_->now() < found->second.refresh_at) {
    return found->second.token;
  }
  const std::string url =
      config_.authority + "/" + percent_encode(config_.tenant_id) + "/oauth2/v2.0/token";
  const std::string form =
      "grant_type=client_credentials&client_id=" + percent_encode(config_.client_id) +
      "&client_secret=" + percent_encode(config_.client_secret.reveal()) +
      "&scope=" + percent_encode(scope);
  const Retrier retrier(*transport_, config_.retry, *clock_, sleeper_);
  const Nanos sent = clock_->now();
  const auto result = retrier.send(
      [&](int) {
        HttpRequest request;
        request.method = "POST";
        request.url = url;
        request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/json"}};
        request.body = form;
        request.correlation_id = correlation_id;
        request.timeout = config_.timeout;
        return request;
      },
      true,  // a token request changes nothing: always safe to repeat
      cancelled);
  ++requested_;
  const auto& response = result.response;
  const std::string action = "token request for scope '" + scope + "'";
  if (response.status != 200) {
    ServiceError error{
        kService,       action, response.status, "", "", "", result.refused_server_delay,
        result.attempts};
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_object()) {
      error.code = body.value("error", "");
      error.message = body.value("error_description", "");
      error.request_id = body.value("correlation_id", "");
    } else {
      error.message = response.body.substr(0, 200);
    }
    if (!error.retry_after) error.retry_after = server_delay(response.headers);
    logger().warning("entra.token_refused", correlation_id, log::kv("scope", scope),
                     log::kv("status", response.status), log::kv("error", error.code));
    if (response.status == 400) {  // a wrong tenant, client id or scope: a credentials problem
      throw AuthenticationError(redact(std::string(kService) + " refused the " + action + ": " +
                                       error.code + ": " + error.message),
                                {{"status", 400},
                                 {"code", error.code},
                                 {"request_id", error.request_id},
                                 {"service", kService},
                                 {"attempts", result.attempts}});
    }
    throw_service_error(error);
  }
  const auto body = parse_service_json(response.body, kService, action, response.status);
  const auto access = body.is_object() ? body.find("access_token") : body.end();
  const auto expires = body.is_object() ? body.find("expires_in") : body.end();
  std::optional<double> lifetime;
  if (expires != body.end()) lifetime = seconds_of(*expires);
  if (access == body.end() || !access->is_string() ||
      access->get_ref<const std::string&>().empty() || !lifetime) {
    throw RemoteError(
        std::string(kService) + " answered the " + action +
            " without an access_token and a numeric expires_in",
        {{"status", response.status}, {"service", kService}, {"code", "malformed_response"}});
  }
  Cached cached{
      Secret(access->get<std::string>()),
      sent + static_cast<Nanos>((*lifetime - static_cast<double>(kRefreshMargin.count())) * 1e9)};
  logger().info("entra.token_acquired", correlation_id, log::kv("scope", scope),
                log::kv("expires_in_s", *lifetime), log::kv("attempts", result.attempts));
  cache_[scope] = cached;
  return cached.token;
}

void EntraCredential::invalidate(const std::string& scope) {
  std::lock_guard lock(mutex_);
  cache_.erase(scope);
}

std::uint64_t EntraCredential::tokens_requested() const {
  std::lock_guard lock(mutex_);
  return requested_;
}

}  // namespace aadap::platforms
