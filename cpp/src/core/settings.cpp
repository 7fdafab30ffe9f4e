#include "aadap/core/settings.hpp"

#include "aadap/core/database_url.hpp"
#include "aadap/core/errors.hpp"

#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

namespace aadap {

namespace {

// Thrown by a parser with the rule the value broke ("an integer from 1 to 100").
struct RuleViolation {
  std::string allowed;
};

struct FieldSpec {
  std::string variable;
  std::string field;
  bool secret;
  std::function<void(Settings&, std::string_view)> assign;          // throws RuleViolation
  std::function<std::optional<std::string>(const Settings&)> show;  // nullopt when unset
};

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  return std::string(s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1));
}

// ---- parsers -------------------------------------------------------------------------

std::string parse_text(std::string_view raw) {
  return std::string(raw);
}

bool parse_bool(std::string_view raw) {
  const std::string v = lower(raw);
  if (v == "1" || v == "true" || v == "yes" || v == "on" || v == "t" || v == "y") return true;
  if (v == "0" || v == "false" || v == "no" || v == "off" || v == "f" || v == "n") return false;
  throw RuleViolation{"a boolean: 1/0, true/false, yes/no, on/off, t/f, y/n"};
}

template <class Int>
std::function<Int(std::string_view)> integer_in(Int min, Int max) {
  return [min, max](std::string_view raw) {
    std::ostringstream rule;
    rule << "an integer";
    if (max == std::numeric_limits<Int>::max()) {
      rule << " >= " << min;
    } else {
      rule << " from " << min << " to " << max;
    }
    Int value{};
    const auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ec != std::errc{} || end != raw.data() + raw.size() || value < min || value > max) {
      throw RuleViolation{rule.str()};
    }
    return value;
  };
}

std::function<double(std::string_view)> number_in(double min, double max) {
  return [min, max](std::string_view raw) {
    std::ostringstream rule;
    rule << "a number";
    if (std::isinf(max)) {
      rule << " >= " << min;
    } else {
      rule << " from " << min << " to " << max;
    }
    const std::string text(raw);
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < min ||
        value > max) {
      throw RuleViolation{rule.str()};
    }
    return value;
  };
}

std::string parse_http_url(std::string_view raw) {
  std::string url(raw);
  if (url.find("://") == std::string::npos) url = "https://" + url;  // a bare host name
  const bool http = url.rfind("https://", 0) == 0 || url.rfind("http://", 0) == 0;
  const auto host_begin = url.find("://") + 3;
  const auto host_end = url.find_first_of("/?#", host_begin);
  const std::string host = url.substr(
      host_begin, host_end == std::string::npos ? std::string::npos : host_end - host_begin);
  if (!http || host.empty() || host.find_first_of(" \t") != std::string::npos) {
    throw RuleViolation{"an http(s) URL such as https://example.net (a bare host gets https://)"};
  }
  while (url.size() > host_begin + host.size() && url.back() == '/') url.pop_back();
  return url;
}

Secret parse_database_url(std::string_view raw) {
  try {
    const auto url = DatabaseUrl::parse(raw);
    return Secret(url.normalized(), url.password());
  } catch (const InvalidArgumentError&) {
    throw RuleViolation{
        "sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:, a file path, or "
        "postgresql://user:password@host:5432/db (postgresql+asyncpg:// is accepted)"};
  }
}

std::string parse_file(std::string_view raw) {
  const std::string path(raw);
  if (::access(path.c_str(), R_OK) != 0 || std::filesystem::is_directory(path)) {
    throw RuleViolation{"the path of a readable PEM file"};
  }
  return path;
}

template <class Enum>
std::function<Enum(std::string_view)> one_of(std::vector<std::pair<std::string, Enum>> choices) {
  return [choices = std::move(choices)](std::string_view raw) {
    const std::string key = lower(raw);
    std::string allowed = "one of";
    for (const auto& [name, value] : choices) {
      if (lower(name) == key) return value;
      allowed += (allowed.size() > 6 ? ", " : " ") + name;
    }
    throw RuleViolation{allowed + " (any case)"};
  };
}

// ---- display -------------------------------------------------------------------------

std::optional<std::string> display(const std::string& v) {
  return v;
}
std::optional<std::string> display(const Secret&) {
  return std::string(kMask);
}
std::optional<std::string> display(bool v) {
  return std::string(v ? "true" : "false");
}
std::optional<std::string> display(int v) {
  return std::to_string(v);
}
std::optional<std::string> display(std::int64_t v) {
  return std::to_string(v);
}
std::optional<std::string> display(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}
std::optional<std::string> display(log::Level v) {
  return std::string(log::level_name(v));
}
std::optional<std::string> display(log::Format v) {
  return std::string(log::format_name(v));
}
std::optional<std::string> display(ServiceEnvironment v) {
  return std::string(environment_name(v));
}
std::optional<std::string> display(SqliteSynchronous v) {
  return std::string(synchronous_name(v));
}
template <class T>
std::optional<std::string> display(const std::optional<T>& v) {
  return v ? display(*v) : std::nullopt;
}

// ---- the table -----------------------------------------------------------------------

template <class T>
struct Target {
  using type = T;
};
template <class T>
struct Target<std::optional<T>> {
  using type = T;
};

// `access(settings)` returns a reference to the member; `parse(raw)` returns its value type.
template <class Access, class Parse>
FieldSpec field(std::string variable, std::string name, Access access, Parse parse,
                bool secret = false) {
  return FieldSpec{std::move(variable), std::move(name), secret,
                   [access, parse](Settings& s, std::string_view raw) {
                     using Member = std::remove_reference_t<decltype(access(s))>;
                     using Value = typename Target<Member>::type;
                     if constexpr (std::is_same_v<decltype(parse(raw)), Secret>) {
                       access(s) = parse(raw);
                     } else if constexpr (std::is_same_v<Value, Secret>) {
                       access(s) = Secret(parse(raw));
                     } else {
                       access(s) = static_cast<Value>(parse(raw));
                     }
                   },
                   [access](const Settings& s) { return display(access(s)); }};
}

#define AADAP_MEMBER(path) \
  [](auto& s) -> auto& {   \
    return s.path;         \
  }

// The platform targets exist twice: AADAP_<NAME> (SANDBOX) and AADAP_PRODUCTION_<NAME>.
void add_targets(std::vector<FieldSpec>& specs, const std::string& prefix, const std::string& group,
                 PlatformTargets Settings::*targets) {
  using Member = std::optional<std::string> PlatformTargets::*;
  struct TargetField {
    std::string_view name;
    Member member;
    std::string (*parse)(std::string_view);
  };
  static constexpr TargetField kFields[] = {
      {"DATABRICKS_HOST", &PlatformTargets::databricks_host, parse_http_url},
      {"DATABRICKS_WAREHOUSE_ID", &PlatformTargets::databricks_warehouse_id, parse_text},
      {"DATABRICKS_CLUSTER_ID", &PlatformTargets::databricks_cluster_id, parse_text},
      {"DATABRICKS_CATALOG", &PlatformTargets::databricks_catalog, parse_text},
      {"DATABRICKS_SCHEMA", &PlatformTargets::databricks_schema, parse_text},
      {"FABRIC_WORKSPACE_ID", &PlatformTargets::fabric_workspace_id, parse_text},
      {"FABRIC_LAKEHOUSE_ID", &PlatformTargets::fabric_lakehouse_id, parse_text},
  };
  for (const auto& f : kFields) {
    const Member member = f.member;
    specs.push_back(field(
        prefix + std::string(f.name), group + "." + lower(f.name),
        [ targets, member ](auto& s) -> auto& { return (s.*targets).*member; }, f.parse));
  }
}

std::vector<FieldSpec> build_table() {
  constexpr auto kMaxInt64 = std::numeric_limits<std::int64_t>::max();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<FieldSpec> t;
  t.push_back(field("AADAP_APP_NAME", "app_name", AADAP_MEMBER(app_name), parse_text));
  t.push_back(field("AADAP_ENVIRONMENT", "environment", AADAP_MEMBER(environment),
                    one_of<ServiceEnvironment>({{"development", ServiceEnvironment::development},
                                                {"staging", ServiceEnvironment::staging},
                                                {"production", ServiceEnvironment::production}})));
  t.push_back(field("AADAP_DEBUG", "debug", AADAP_MEMBER(debug), parse_bool));
  t.push_back(field("AADAP_DATABASE_URL", "database_url", AADAP_MEMBER(database_url),
                    parse_database_url, true));
  t.push_back(field("AADAP_DB_POOL_SIZE", "db_pool_size", AADAP_MEMBER(db_pool_size),
                    integer_in<int>(1, 100)));
  t.push_back(field("AADAP_DB_POOL_OVERFLOW", "db_pool_overflow", AADAP_MEMBER(db_pool_overflow),
                    integer_in<int>(0, 50)));
  t.push_back(field("AADAP_DB_ECHO_SQL", "db_echo_sql", AADAP_MEMBER(db_echo_sql), parse_bool));
  t.push_back(field("AADAP_MEMORY_DEFAULT_TTL_SECONDS", "memory_default_ttl_seconds",
                    AADAP_MEMBER(memory_default_ttl_seconds),
                    integer_in<std::int64_t>(60, kMaxInt64)));
  t.push_back(field("AADAP_MEMORY_MAX_BYTES", "memory_max_bytes", AADAP_MEMBER(memory_max_bytes),
                    integer_in<std::int64_t>(std::int64_t{1} << 20, kMaxInt64)));
  t.push_back(field("AADAP_LOG_LEVEL", "log_level", AADAP_MEMBER(log_level),
                    one_of<log::Level>({{"DEBUG", log::Level::debug},
                                        {"INFO", log::Level::info},
                                        {"WARNING", log::Level::warning},
                                        {"ERROR", log::Level::error},
                                        {"CRITICAL", log::Level::critical}})));
  t.push_back(
      field("AADAP_LOG_FORMAT", "log_format", AADAP_MEMBER(log_format),
            one_of<log::Format>({{"json", log::Format::json}, {"console", log::Format::console}})));
  t.push_back(field("AADAP_CORRELATION_ID_HEADER", "correlation_id_header",
                    AADAP_MEMBER(correlation_id_header), parse_text));
  t.push_back(field("AADAP_AZURE_OPENAI_API_KEY", "azure_openai_api_key",
                    AADAP_MEMBER(azure_openai_api_key), parse_text, true));
  t.push_back(field("AADAP_AZURE_OPENAI_ENDPOINT", "azure_openai_endpoint",
                    AADAP_MEMBER(azure_openai_endpoint), parse_http_url));
  t.push_back(field("AADAP_AZURE_OPENAI_API_VERSION", "azure_openai_api_version",
                    AADAP_MEMBER(azure_openai_api_version), parse_text));
  t.push_back(field("AADAP_AZURE_OPENAI_DEPLOYMENT_NAME", "azure_openai_deployment_name",
                    AADAP_MEMBER(azure_openai_deployment_name), parse_text));
  t.push_back(field("AADAP_AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "azure_openai_embedding_deployment",
                    AADAP_MEMBER(azure_openai_embedding_deployment), parse_text));
  t.push_back(field("AADAP_AZURE_OPENAI_TENANT_ID", "azure_openai_tenant_id",
                    AADAP_MEMBER(azure_openai_tenant_id), parse_text));
  t.push_back(field("AADAP_AZURE_OPENAI_CLIENT_ID", "azure_openai_client_id",
                    AADAP_MEMBER(azure_openai_client_id), parse_text));
  t.push_back(field("AADAP_AZURE_OPENAI_CLIENT_SECRET", "azure_openai_client_secret",
                    AADAP_MEMBER(azure_openai_client_secret), parse_text, true));
  t.push_back(field("AADAP_DATABRICKS_TOKEN", "databricks_token", AADAP_MEMBER(databricks_token),
                    parse_text, true));
  t.push_back(field("AADAP_DATABRICKS_CLIENT_ID", "databricks_client_id",
                    AADAP_MEMBER(databricks_client_id), parse_text));
  t.push_back(field("AADAP_DATABRICKS_CLIENT_SECRET", "databricks_client_secret",
                    AADAP_MEMBER(databricks_client_secret), parse_text, true));
  t.push_back(field("AADAP_FABRIC_TENANT_ID", "fabric_tenant_id", AADAP_MEMBER(fabric_tenant_id),
                    parse_text));
  t.push_back(field("AADAP_FABRIC_CLIENT_ID", "fabric_client_id", AADAP_MEMBER(fabric_client_id),
                    parse_text));
  t.push_back(field("AADAP_FABRIC_CLIENT_SECRET", "fabric_client_secret",
                    AADAP_MEMBER(fabric_client_secret), parse_text, true));
  t.push_back(field("AADAP_FABRIC_API_BASE", "fabric_api_base", AADAP_MEMBER(fabric_api_base),
                    parse_http_url));
  t.push_back(field("AADAP_ENTRA_AUTHORITY", "entra_authority", AADAP_MEMBER(entra_authority),
                    parse_http_url));
  add_targets(t, "AADAP_", "sandbox", &Settings::sandbox);
  add_targets(t, "AADAP_PRODUCTION_", "production", &Settings::production);
  t.push_back(field("AADAP_TOKEN_BUDGET_DEFAULT", "token_budget_default",
                    AADAP_MEMBER(token_budget_default), integer_in<std::int64_t>(1, kMaxInt64)));
  t.push_back(field("AADAP_APPROVAL_TIMEOUT_SECONDS", "approval_timeout_seconds",
                    AADAP_MEMBER(approval_timeout_seconds),
                    integer_in<std::int64_t>(60, kMaxInt64)));
  t.push_back(field("AADAP_VECTOR_MIN_SIMILARITY", "vector_min_similarity",
                    AADAP_MEMBER(vector_min_similarity), number_in(0.85, 1.0)));
  t.push_back(field("AADAP_VECTOR_MAX_STALENESS_DAYS", "vector_max_staleness_days",
                    AADAP_MEMBER(vector_max_staleness_days), integer_in<int>(1, 3650)));
  t.push_back(field("AADAP_SQLITE_SYNCHRONOUS", "sqlite_synchronous",
                    AADAP_MEMBER(sqlite_synchronous),
                    one_of<SqliteSynchronous>({{"FULL", SqliteSynchronous::full},
                                               {"NORMAL", SqliteSynchronous::normal}})));
  t.push_back(field("AADAP_APPROVAL_ALLOW_SELF", "approval_allow_self",
                    AADAP_MEMBER(approval_allow_self), parse_bool));
  t.push_back(field("AADAP_TLS_VERIFY", "tls_verify", AADAP_MEMBER(tls_verify), parse_bool));
  t.push_back(field("AADAP_CA_BUNDLE", "ca_bundle", AADAP_MEMBER(ca_bundle), parse_file));
  t.push_back(field("AADAP_EMBEDDING_DIMENSION", "embedding_dimension",
                    AADAP_MEMBER(embedding_dimension), integer_in<int>(1, 8192)));
  t.push_back(field("AADAP_LLM_PRICE_INPUT_PER_1K", "llm_price_input_per_1k",
                    AADAP_MEMBER(llm_price_input_per_1k), number_in(0.0, kInf)));
  t.push_back(field("AADAP_LLM_PRICE_OUTPUT_PER_1K", "llm_price_output_per_1k",
                    AADAP_MEMBER(llm_price_output_per_1k), number_in(0.0, kInf)));
  return t;
}

#undef AADAP_MEMBER

const std::vector<FieldSpec>& table() {
  static const std::vector<FieldSpec> specs = build_table();
  return specs;
}

// Only AADAP_* names, upper-cased, empty values dropped (an empty value means "unset").
EnvironmentMap aadap_variables(const EnvironmentMap& source) {
  EnvironmentMap out;
  for (const auto& [name, value] : source) {
    std::string key = upper(name);
    if (key.rfind("AADAP_", 0) != 0) continue;
    std::string v = trim(value);
    if (!v.empty()) out[std::move(key)] = std::move(v);
  }
  return out;
}

std::string format_errors(const nlohmann::json& errors) {
  std::string message = std::to_string(errors.size()) +
                        (errors.size() == 1 ? " invalid setting" : " invalid settings") +
                        " (fix them in the environment or in .env):";
  for (const auto& e : errors) {
    message += "\n  " + e["variable"].get<std::string>() + "=" + e["value"].get<std::string>() +
               ": must be " + e["allowed"].get<std::string>();
  }
  return message;
}

// Warnings about accepted-but-risky settings, once per process each.
void warn_once(const Settings& s) {
  static std::atomic<bool> deprecated_warned{false};
  static std::atomic<bool> tls_warned{false};
  const log::Logger logger("aadap.settings");
  if (!s.ignored_deprecated.empty() && !deprecated_warned.exchange(true)) {
    logger.warning("settings.deprecated_ignored", "", log::kv("variables", s.ignored_deprecated),
                   log::kv("reason", std::string("Redis is no longer used: working memory is "
                                                 "in-process")));
  }
  if (!s.tls_verify && !tls_warned.exchange(true)) {
    logger.warning("settings.tls_verification_disabled", "",
                   log::kv("reason", std::string("AADAP_TLS_VERIFY=false: HTTPS certificates are "
                                                 "NOT checked; anyone on the network path can "
                                                 "read and alter traffic, credentials included")));
  }
}

}  // namespace

std::string_view environment_name(ServiceEnvironment environment) noexcept {
  switch (environment) {
    case ServiceEnvironment::development: return "development";
    case ServiceEnvironment::staging: return "staging";
    case ServiceEnvironment::production: return "production";
  }
  return "development";
}

std::string_view synchronous_name(SqliteSynchronous mode) noexcept {
  return mode == SqliteSynchronous::full ? "FULL" : "NORMAL";
}

std::string_view source_name(SettingSource source) noexcept {
  switch (source) {
    case SettingSource::default_value: return "default";
    case SettingSource::environment: return "environment";
    case SettingSource::dotenv: return ".env";
  }
  return "default";
}

std::string default_database_url(const EnvironmentMap& environment) {
  // XDG_DATA_HOME and HOME come from `environment` when it has either, else from the process
  // (a caller passing only AADAP_* variables still gets the usual location).
  const bool from_map = environment.count("HOME") > 0 || environment.count("XDG_DATA_HOME") > 0;
  const auto lookup = [&](const char* name) -> std::string {
    if (from_map) {
      const auto it = environment.find(name);
      return it == environment.end() ? "" : it->second;
    }
    const char* value = std::getenv(name);
    return value ? value : "";
  };
  std::filesystem::path base;
  if (const auto xdg = lookup("XDG_DATA_HOME"); !xdg.empty()) {
    base = xdg;
  } else if (const auto home = lookup("HOME"); !home.empty()) {
    base = std::filesystem::path(home) / ".local" / "share";
  } else {
    base = std::filesystem::current_path();
  }
  return "sqlite:///" + (std::filesystem::absolute(base) / "aadap" / "aadap.db").string();
}

Settings Settings::from_maps(const EnvironmentMap& environment, const EnvironmentMap& dotenv) {
  const EnvironmentMap from_env = aadap_variables(environment);
  const EnvironmentMap from_file = aadap_variables(dotenv);

  Settings s;
  s.database_url = Secret(default_database_url(environment), "");
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& spec : table()) {
    SettingSource source = SettingSource::environment;
    auto it = from_env.find(spec.variable);
    if (it == from_env.end()) {
      it = from_file.find(spec.variable);
      source = SettingSource::dotenv;
      if (it == from_file.end()) {
        s.sources[spec.variable] = SettingSource::default_value;
        continue;
      }
    }
    try {
      spec.assign(s, it->second);
      s.sources[spec.variable] = source;
    } catch (const RuleViolation& violation) {
      errors.push_back({{"variable", spec.variable},
                        {"value", spec.secret ? std::string(kMask) : "'" + it->second + "'"},
                        {"allowed", violation.allowed}});
    }
  }
  if (!errors.empty()) throw ConfigurationError(format_errors(errors), {{"errors", errors}});

  s.log_level_explicit = s.sources["AADAP_LOG_LEVEL"] != SettingSource::default_value;
  for (const auto* source : {&from_env, &from_file}) {
    for (const auto& [name, value] : *source) {
      if (name.rfind("AADAP_REDIS_", 0) == 0 &&
          std::find(s.ignored_deprecated.begin(), s.ignored_deprecated.end(), name) ==
              s.ignored_deprecated.end()) {
        s.ignored_deprecated.push_back(name);
      }
    }
  }
  warn_once(s);
  return s;
}

Settings Settings::load(const std::filesystem::path& dotenv_path) {
  return from_maps(process_environment(),
                   dotenv_path.empty() ? EnvironmentMap{} : read_dotenv(dotenv_path));
}

TaskEnvironment parse_task_environment(std::string_view name) {
  const std::string key = upper(name);
  if (key == "SANDBOX") return TaskEnvironment::sandbox;
  if (key == "PRODUCTION") return TaskEnvironment::production;
  throw InvalidArgumentError(
      "unknown task environment '" + std::string(name) + "': use SANDBOX or PRODUCTION",
      {{"environment", std::string(name)}});
}

log::Level Settings::effective_log_level() const noexcept {
  return (debug && !log_level_explicit) ? log::Level::debug : log_level;
}

const PlatformTargets& Settings::targets(TaskEnvironment environment) const noexcept {
  return environment == TaskEnvironment::production ? production : sandbox;
}

std::vector<SettingView> Settings::describe() const {
  std::vector<SettingView> out;
  out.reserve(table().size());
  for (const auto& spec : table()) {
    const auto shown = spec.show(*this);
    const auto source = sources.find(spec.variable);
    out.push_back(
        SettingView{spec.variable, spec.field, shown.value_or(""), shown.has_value(), spec.secret,
                    source == sources.end() ? SettingSource::default_value : source->second});
  }
  return out;
}

}  // namespace aadap
