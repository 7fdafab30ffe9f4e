#include "aadap/platforms/databricks_auth.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/platforms/service_error.hpp"

#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <cctype>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

namespace aadap::platforms {

namespace {

using nlohmann::json;
using SystemTime = std::chrono::system_clock::time_point;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.databricks");
  return instance;
}

constexpr const char* kService = "Databricks OAuth";
// A token is renewed when less than this much of its life remains.
constexpr auto kRenewMargin = std::chrono::seconds(60);

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

std::optional<std::string> lookup(const std::map<std::string, std::string>& map,
                                  const std::string& key) {
  const auto found = map.find(key);
  if (found == map.end() || trim(found->second).empty()) return std::nullopt;
  return trim(found->second);
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// RFC 3339 ("2026-05-01T10:45:12.123456789+02:00", "...Z") as seconds since the epoch
/// (fractions dropped: expiry is compared to the second).
std::optional<std::int64_t> parse_rfc3339(const std::string& text) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return std::nullopt;
  if (*rest == '.') {
    ++rest;
    while (std::isdigit(static_cast<unsigned char>(*rest)) != 0) ++rest;
  }
  long offset = 0;
  if (*rest == 'Z' || *rest == 'z') {
    ++rest;
  } else if (*rest == '+' || *rest == '-') {
    int hours = 0;
    int minutes = 0;
    if (std::sscanf(rest + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset = (*rest == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
    rest += 6;
  } else {
    return std::nullopt;
  }
  if (*rest != '\0') return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

std::string rfc3339(SystemTime time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[40];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buffer;
}

/// POSTs a form to the workspace's OIDC token endpoint; the parsed answer (an access_token
/// and expires_in, checked) or the typed error.
json request_token(const HttpTransport& transport, const std::string& host, const std::string& form,
                   const std::string& what, const std::string& correlation_id, const Clock& clock,
                   Sleeper& sleeper, const CancelCheck& cancelled) {
  const Retrier retrier(transport, RetryPolicy::databricks(), clock, sleeper);
  const auto result = retrier.send(
      [&](int) {
        HttpRequest request;
        request.method = "POST";
        request.url = host + "/oidc/v1/token";
        request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/json"}};
        request.body = form;
        request.correlation_id = correlation_id;
        request.timeout = std::chrono::seconds(60);
        return request;
      },
      true, cancelled);
  const auto& response = result.response;
  const std::string action = what + " at " + host + "/oidc/v1/token";
  if (response.status != 200) {
    const auto body = json::parse(response.body, nullptr, false);
    std::string code;
    std::string message = response.body.substr(0, 200);
    if (body.is_object()) {
      code = body.value("error", "");
      message = body.value("error_description", message);
    }
    if (response.status == 400 || response.status == 401) {
      throw AuthenticationError(
          redact(std::string(kService) + " refused the " + action + ": " + code + ": " + message),
          {{"status", response.status},
           {"code", code},
           {"service", kService},
           {"attempts", result.attempts}});
    }
    throw_service_error(ServiceError{kService, action, response.status, code, message, "",
                                     result.refused_server_delay, result.attempts});
  }
  auto body = parse_service_json(response.body, kService, action, response.status);
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string()) {
    throw RemoteError(
        std::string(kService) + " answered the " + action + " without an access_token",
        {{"status", 200}, {"service", kService}, {"code", "malformed_response"}});
  }
  return body;
}

std::chrono::seconds expires_in(const json& body) {
  const auto found = body.find("expires_in");
  if (found != body.end() && found->is_number()) {
    return std::chrono::seconds(found->get<std::int64_t>());
  }
  if (found != body.end() && found->is_string()) {
    return std::chrono::seconds(std::atoll(found->get<std::string>().c_str()));
  }
  return std::chrono::seconds(3600);
}

class PersonalAccessToken final : public DatabricksTokenSource {
 public:
  explicit PersonalAccessToken(Secret token) : token_(std::move(token)) {}
  Secret token(const std::string&, const CancelCheck&) override { return token_; }
  std::string method() const override { return "pat"; }

 private:
  Secret token_;
};

class MachineToMachine final : public DatabricksTokenSource {
 public:
  MachineToMachine(std::shared_ptr<const HttpTransport> transport, std::string host,
                   std::string client_id, Secret secret, std::shared_ptr<const Clock> clock,
                   Sleeper& sleeper)
      : transport_(std::move(transport)),
        host_(std::move(host)),
        client_id_(std::move(client_id)),
        secret_(std::move(secret)),
        clock_(std::move(clock)),
        sleeper_(sleeper) {}

  Secret token(const std::string& correlation_id, const CancelCheck& cancelled) override {
    std::lock_guard lock(mutex_);
    if (token_ && clock_->now() < renew_at_) return *token_;
    const Nanos sent = clock_->now();
    const auto body = request_token(
        *transport_, host_,
        "grant_type=client_credentials&scope=all-apis&client_id=" + percent_encode(client_id_) +
            "&client_secret=" + percent_encode(secret_.reveal()),
        "OAuth M2M token request for client " + client_id_, correlation_id, *clock_, sleeper_,
        cancelled);
    token_ = Secret(body["access_token"].get<std::string>());
    renew_at_ = sent + std::chrono::nanoseconds(expires_in(body) - kRenewMargin).count();
    return *token_;
  }
  void invalidate() override {
    std::lock_guard lock(mutex_);
    token_.reset();
  }
  std::string method() const override { return "oauth-m2m"; }

 private:
  std::shared_ptr<const HttpTransport> transport_;
  std::string host_;
  std::string client_id_;
  Secret secret_;
  std::shared_ptr<const Clock> clock_;
  Sleeper& sleeper_;
  std::mutex mutex_;
  std::optional<Secret> token_;
  Nanos renew_at_ = 0;
};

/// The CLI's token cache (version 1): the entry of the host (or of the profile), refreshed
/// with its refresh token when it expires and written back for the CLI and other processes.
class CliTokenCache final : public DatabricksTokenSource {
 public:
  CliTokenCache(std::shared_ptr<const HttpTransport> transport, std::string host,
                std::filesystem::path path, std::string key, std::shared_ptr<const Clock> clock,
                Sleeper& sleeper)
      : transport_(std::move(transport)),
        host_(std::move(host)),
        path_(std::move(path)),
        key_(std::move(key)),
        clock_(std::move(clock)),
        sleeper_(sleeper) {}

  /// The cache's entry for `host` or `profile`, when the file has one.
  static std::optional<std::string> entry_key(const std::filesystem::path& path,
                                              const std::string& host, const std::string& profile) {
    const auto cache = load(path);
    if (!cache) return std::nullopt;
    const auto& tokens = (*cache)["tokens"];
    for (const auto& key : {host, profile}) {
      if (!key.empty() && tokens.contains(key) && tokens[key].is_object()) return key;
    }
    return std::nullopt;
  }

  Secret token(const std::string& correlation_id, const CancelCheck& cancelled) override {
    std::lock_guard lock(mutex_);
    auto cache = load(path_);
    if (!cache || !(*cache)["tokens"].contains(key_)) {
      throw AuthenticationError("the Databricks CLI token cache " + path_.string() +
                                " has no entry for " + key_ +
                                " any more: run `databricks auth login --host " + host_ + "`");
    }
    auto& entry = (*cache)["tokens"][key_];
    const auto expiry = parse_rfc3339(entry.value("expiry", ""));
    const bool usable = entry.value("access_token", "") != "" && !stale_ && expiry &&
                        std::time(nullptr) + kRenewMargin.count() < *expiry;
    if (usable) return Secret(entry["access_token"].get<std::string>());
    const std::string refresh = entry.value("refresh_token", "");
    if (refresh.empty()) {
      throw AuthenticationError("the Databricks CLI token for " + host_ +
                                " has expired and has no refresh token: run `databricks auth "
                                "login --host " +
                                host_ + "`");
    }
    const auto body = request_token(
        *transport_, host_,
        "grant_type=refresh_token&client_id=databricks-cli&refresh_token=" +
            percent_encode(refresh),
        "refresh of the Databricks CLI token", correlation_id, *clock_, sleeper_, cancelled);
    entry["access_token"] = body["access_token"];
    entry["token_type"] = body.value("token_type", "Bearer");
    if (body.contains("refresh_token") && body["refresh_token"].is_string()) {
      entry["refresh_token"] = body["refresh_token"];
    }
    entry["expiry"] = rfc3339(std::chrono::system_clock::now() + expires_in(body));
    entry.erase("expires_in");
    save(*cache);
    stale_ = false;
    logger().info("databricks.cli_token_refreshed", correlation_id, log::kv("host", host_),
                  log::kv("cache", path_.string()));
    return Secret(entry["access_token"].get<std::string>());
  }
  void invalidate() override {
    std::lock_guard lock(mutex_);
    stale_ = true;
  }
  std::string method() const override { return "databricks-cli"; }

 private:
  static std::optional<json> load(const std::filesystem::path& path) {
    const auto text = read_file(path);
    if (!text) return std::nullopt;
    auto parsed = json::parse(*text, nullptr, false);
    if (!parsed.is_object() || parsed.value("version", 0) != 1 || !parsed.contains("tokens") ||
        !parsed["tokens"].is_object()) {
      return std::nullopt;
    }
    return parsed;
  }
  void save(const json& cache) const {
    const auto temporary = path_.string() + ".tmp-aadap";
    {
      std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
      out << cache.dump(2);
      if (!out) {
        throw ConfigurationError("cannot write the Databricks CLI token cache " + path_.string());
      }
    }
    ::chmod(temporary.c_str(), 0600);
    std::filesystem::rename(temporary, path_);
  }

  std::shared_ptr<const HttpTransport> transport_;
  std::string host_;
  std::filesystem::path path_;
  std::string key_;
  std::shared_ptr<const Clock> clock_;
  Sleeper& sleeper_;
  std::mutex mutex_;
  bool stale_ = false;  // the workspace refused the cached access token
};

}  // namespace

std::string normalize_databricks_host(std::string_view host) {
  std::string out = trim(host);
  if (out.find("://") == std::string::npos) out = "https://" + out;
  while (!out.empty() && out.back() == '/') out.pop_back();
  const auto scheme_end = out.find("://") + 3;
  const auto path = out.find('/', scheme_end);
  const auto authority_end = path == std::string::npos ? out.size() : path;
  if (out.compare(0, 8, "https://") == 0 && authority_end >= 4 &&
      out.compare(authority_end - 4, 4, ":443") == 0) {
    out.erase(authority_end - 4, 4);
  }
  return out;
}

std::map<std::string, std::map<std::string, std::string>> parse_ini(std::string_view text) {
  std::map<std::string, std::map<std::string, std::string>> sections;
  std::string current;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const std::string t = trim(line);
    if (t.empty() || t.front() == ';' || t.front() == '#') continue;
    if (t.front() == '[' && t.back() == ']') {
      current = trim(std::string_view(t).substr(1, t.size() - 2));
      sections[current];
      continue;
    }
    const auto equals = t.find_first_of("=:");
    if (equals == std::string::npos) continue;
    std::string value = trim(std::string_view(t).substr(equals + 1));
    // an inline comment after a value: "abc123 ; note"
    if (const auto comment = value.find(" ;"); comment != std::string::npos) value.resize(comment);
    if (const auto comment = value.find(" #"); comment != std::string::npos) value.resize(comment);
    sections[current][trim(std::string_view(t).substr(0, equals))] = trim(value);
  }
  return sections;
}

DatabricksAuth resolve_databricks_auth(const DatabricksAuthOptions& options,
                                       std::shared_ptr<const HttpTransport> transport,
                                       std::shared_ptr<const Clock> clock, Sleeper& sleeper) {
  const auto& env = options.environment;
  std::vector<std::string> tried;
  DatabricksAuth auth;

  // The config file and its profile (read when present; used for the host and step 2).
  const std::filesystem::path config_path =
      lookup(env, "DATABRICKS_CONFIG_FILE").value_or(options.home + "/.databrickscfg");
  const auto config_text = read_file(config_path);
  std::map<std::string, std::map<std::string, std::string>> config;
  if (config_text) config = parse_ini(*config_text);
  std::string profile_name = options.profile.empty()
                                 ? lookup(env, "DATABRICKS_CONFIG_PROFILE").value_or("")
                                 : options.profile;
  const bool profile_named = !profile_name.empty();
  if (!profile_named) {
    profile_name = config.count("__settings__") != 0
                       ? lookup(config["__settings__"], "default_profile").value_or("DEFAULT")
                       : "DEFAULT";
  }
  if (profile_named && config.count(profile_name) == 0) {
    throw ConfigurationError("the Databricks profile '" + profile_name + "' is not in " +
                             config_path.string() +
                             (config_text ? "" : " (the file does not exist)"));
  }
  const auto profile_found = config.find(profile_name);
  const std::map<std::string, std::string> profile =
      profile_found == config.end() ? std::map<std::string, std::string>{} : profile_found->second;
  const std::string profile_label = "profile '" + profile_name + "' of " + config_path.string();

  std::string host = options.host;
  for (const char* name : {"AADAP_DATABRICKS_HOST", "DATABRICKS_HOST"}) {
    if (host.empty()) host = lookup(env, name).value_or("");
  }
  if (host.empty()) host = lookup(profile, "host").value_or("");
  if (host.empty()) {
    throw ConfigurationError(
        "no Databricks host: pass host=, or set AADAP_DATABRICKS_HOST or DATABRICKS_HOST, or a "
        "host in " +
        profile_label);
  }
  auth.host = normalize_databricks_host(host);

  const auto use = [&](std::shared_ptr<DatabricksTokenSource> tokens, std::string source) {
    auth.tokens = std::move(tokens);
    auth.source = std::move(source);
    logger().info("databricks.auth_resolved", "", log::kv("host", auth.host),
                  log::kv("method", auth.tokens->method()), log::kv("source", auth.source));
    return auth;
  };

  // 1. a personal access token
  if (options.token && !options.token->empty()) {
    return use(std::make_shared<PersonalAccessToken>(*options.token), "token argument");
  }
  for (const char* name : {"AADAP_DATABRICKS_TOKEN", "DATABRICKS_TOKEN"}) {
    if (const auto token = lookup(env, name)) {
      return use(std::make_shared<PersonalAccessToken>(Secret(*token)), name);
    }
    tried.push_back(std::string(name) + " (not set)");
  }

  // 2. the profile
  const std::string cache_path = options.home + "/.databricks/token-cache.json";
  if (!profile.empty()) {
    auth.profile = profile;
    if (const auto token = lookup(profile, "token")) {
      return use(std::make_shared<PersonalAccessToken>(Secret(*token)), profile_label);
    }
    const auto id = lookup(profile, "client_id");
    const auto secret = lookup(profile, "client_secret");
    if (id && secret) {
      return use(std::make_shared<MachineToMachine>(transport, auth.host, *id, Secret(*secret),
                                                    clock, sleeper),
                 profile_label + " (OAuth M2M)");
    }
    tried.push_back(profile_label + " (no token, no client_id/client_secret)");
  } else {
    tried.push_back(profile_label + (config_text ? " (no such profile)" : " (no config file)"));
  }

  // 3. the CLI's token cache
  if (const auto key = CliTokenCache::entry_key(cache_path, auth.host, profile_name)) {
    return use(
        std::make_shared<CliTokenCache>(transport, auth.host, cache_path, *key, clock, sleeper),
        "Databricks CLI token cache " + cache_path);
  }
  tried.push_back("Databricks CLI token cache " + cache_path + " (no entry for " + auth.host + ")");

  // 4. OAuth M2M from arguments or the environment
  std::string id = options.client_id;
  std::optional<Secret> secret = options.client_secret;
  for (const auto& [id_name, secret_name] :
       {std::pair{"AADAP_DATABRICKS_CLIENT_ID", "AADAP_DATABRICKS_CLIENT_SECRET"},
        std::pair{"DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"}}) {
    if (id.empty()) id = lookup(env, id_name).value_or("");
    if (!secret) {
      if (const auto value = lookup(env, secret_name)) secret = Secret(*value);
    }
  }
  if (!id.empty() && secret && !secret->empty()) {
    return use(
        std::make_shared<MachineToMachine>(transport, auth.host, id, *secret, clock, sleeper),
        "OAuth M2M client " + id);
  }
  tried.push_back(
      "OAuth M2M (AADAP_DATABRICKS_CLIENT_ID/_SECRET, DATABRICKS_CLIENT_ID/_SECRET "
      "not set)");

  std::string message = "no Databricks credentials for " + auth.host + "; tried:";
  for (const auto& t : tried) message += "\n  - " + t;
  message +=
      "\nSet AADAP_DATABRICKS_TOKEN, add a token to the profile, or run `databricks auth "
      "login --host " +
      auth.host + "`";
  throw ConfigurationError(message, {{"tried", tried}});
}

}  // namespace aadap::platforms
