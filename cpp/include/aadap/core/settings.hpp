// Settings of config-and-logging.md §1, read from AADAP_* environment variables (names
// case-insensitive) and a .env file (the real environment wins). Validation reports every bad
// variable at once in one ConfigurationError. A Settings value is immutable once loaded and
// safe to share between threads.
#pragma once

#include "aadap/core/dotenv.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/secret.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aadap {

/// Where the service itself runs (log field, defaults). Not a task's environment.
enum class ServiceEnvironment { development, staging, production };
std::string_view environment_name(ServiceEnvironment environment) noexcept;

enum class SqliteSynchronous { full, normal };
std::string_view synchronous_name(SqliteSynchronous mode) noexcept;

/// A task's environment: selects which platform targets it may use (INV-05).
enum class TaskEnvironment { sandbox, production };
/// "SANDBOX" / "PRODUCTION", any case; InvalidArgumentError otherwise.
TaskEnvironment parse_task_environment(std::string_view name);

/// The platform targets of one task environment. Unset values are empty optionals.
struct PlatformTargets {
  std::optional<std::string> databricks_host;
  std::optional<std::string> databricks_warehouse_id;
  std::optional<std::string> databricks_cluster_id;
  std::optional<std::string> databricks_catalog;
  std::optional<std::string> databricks_schema;
  std::optional<std::string> fabric_workspace_id;
  std::optional<std::string> fabric_lakehouse_id;
};

/// Where a setting's value came from.
enum class SettingSource { default_value, environment, dotenv };
std::string_view source_name(SettingSource source) noexcept;

/// One line of Settings::describe(): safe to print (secrets masked).
struct SettingView {
  std::string variable;  // AADAP_DB_POOL_SIZE
  std::string field;     // db_pool_size
  std::string display;   // "10", "**********", "" when unset
  bool is_set;
  bool secret;
  SettingSource source;
};

struct Settings {
  std::string app_name = "aadap";
  ServiceEnvironment environment = ServiceEnvironment::development;
  bool debug = false;
  Secret database_url;
  int db_pool_size = 10;
  int db_pool_overflow = 5;
  bool db_echo_sql = false;
  std::int64_t memory_default_ttl_seconds = 3600;
  std::int64_t memory_max_bytes = std::int64_t{1} << 30;
  log::Level log_level = log::Level::info;
  log::Format log_format = log::Format::json;
  std::string correlation_id_header = "X-Correlation-ID";

  std::optional<Secret> azure_openai_api_key;
  std::optional<std::string> azure_openai_endpoint;
  std::string azure_openai_api_version = "2024-02-01";
  std::optional<std::string> azure_openai_deployment_name;
  std::optional<std::string> azure_openai_embedding_deployment;
  std::optional<std::string> azure_openai_tenant_id;
  std::optional<std::string> azure_openai_client_id;
  std::optional<Secret> azure_openai_client_secret;

  std::optional<Secret> databricks_token;
  std::optional<std::string> databricks_client_id;
  std::optional<Secret> databricks_client_secret;

  std::optional<std::string> fabric_tenant_id;
  std::optional<std::string> fabric_client_id;
  std::optional<Secret> fabric_client_secret;
  std::string fabric_api_base = "https://api.fabric.microsoft.com/v1";
  std::string entra_authority = "https://login.microsoftonline.com";

  PlatformTargets sandbox;     // AADAP_DATABRICKS_HOST, ...
  PlatformTargets production;  // AADAP_PRODUCTION_DATABRICKS_HOST, ...

  std::int64_t token_budget_default = 50000;
  std::int64_t approval_timeout_seconds = 14400;
  double vector_min_similarity = 0.85;
  int vector_max_staleness_days = 90;
  SqliteSynchronous sqlite_synchronous = SqliteSynchronous::full;
  bool approval_allow_self = false;
  bool tls_verify = true;
  std::optional<std::string> ca_bundle;
  int embedding_dimension = 1536;
  double llm_price_input_per_1k = 0.0;
  double llm_price_output_per_1k = 0.0;

  /// True when AADAP_LOG_LEVEL was given; otherwise AADAP_DEBUG=true means DEBUG.
  bool log_level_explicit = false;
  /// Deprecated variables that were present and ignored (AADAP_REDIS_*).
  std::vector<std::string> ignored_deprecated;
  std::map<std::string, SettingSource> sources;

  /// Builds settings from explicit maps (either may be empty). `environment` wins over
  /// `dotenv`; names are matched case-insensitively; unknown variables are ignored.
  static Settings from_maps(const EnvironmentMap& environment, const EnvironmentMap& dotenv);
  /// The process environment plus the .env file at `dotenv_path` (skipped when empty/missing).
  static Settings load(const std::filesystem::path& dotenv_path = ".env");

  /// The level logging should use: log_level, or DEBUG when debug is on and no level was set.
  log::Level effective_log_level() const noexcept;
  const PlatformTargets& targets(TaskEnvironment environment) const noexcept;
  /// Every setting in table order, secrets masked.
  std::vector<SettingView> describe() const;
};

/// The database URL used when AADAP_DATABASE_URL is unset: a SQLite file under
/// $XDG_DATA_HOME/aadap/aadap.db (default ~/.local/share/aadap/aadap.db). HOME and
/// XDG_DATA_HOME are read from `environment` when it has either, else from the process.
std::string default_database_url(const EnvironmentMap& environment);

}  // namespace aadap
