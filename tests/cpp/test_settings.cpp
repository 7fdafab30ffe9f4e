#include "aadap/core/errors.hpp"
#include "aadap/core/settings.hpp"

#include <gtest/gtest.h>

#include <fstream>

using namespace aadap;

namespace {

Settings load(const EnvironmentMap& env, const EnvironmentMap& dotenv = {}) {
  EnvironmentMap full = env;
  full.emplace("HOME", "/home/tester");
  return Settings::from_maps(full, dotenv);
}

nlohmann::json errors_of(const EnvironmentMap& env) {
  try {
    load(env);
  } catch (const ConfigurationError& e) {
    return e.details().at("errors");
  }
  return nlohmann::json::array();
}

}  // namespace

TEST(Settings, Defaults) {
  const auto s = load({});
  EXPECT_EQ(s.app_name, "aadap");
  EXPECT_EQ(s.environment, ServiceEnvironment::development);
  EXPECT_FALSE(s.debug);
  EXPECT_EQ(s.database_url.reveal(), "sqlite:////home/tester/.local/share/aadap/aadap.db");
  EXPECT_EQ(s.db_pool_size, 10);
  EXPECT_EQ(s.db_pool_overflow, 5);
  EXPECT_EQ(s.memory_default_ttl_seconds, 3600);
  EXPECT_EQ(s.memory_max_bytes, 1 << 30);
  EXPECT_EQ(s.log_level, log::Level::info);
  EXPECT_EQ(s.log_format, log::Format::json);
  EXPECT_EQ(s.correlation_id_header, "X-Correlation-ID");
  EXPECT_EQ(s.azure_openai_api_version, "2024-02-01");
  EXPECT_FALSE(s.azure_openai_api_key.has_value());
  EXPECT_EQ(s.token_budget_default, 50000);
  EXPECT_EQ(s.approval_timeout_seconds, 14400);
  EXPECT_DOUBLE_EQ(s.vector_min_similarity, 0.85);
  EXPECT_EQ(s.vector_max_staleness_days, 90);
  EXPECT_EQ(s.sqlite_synchronous, SqliteSynchronous::full);
  EXPECT_FALSE(s.approval_allow_self);
  EXPECT_TRUE(s.tls_verify);
  EXPECT_EQ(s.embedding_dimension, 1536);
  EXPECT_DOUBLE_EQ(s.llm_price_input_per_1k, 0.0);
  EXPECT_FALSE(s.sandbox.databricks_host.has_value());
}

TEST(Settings, XdgDataHomeMovesTheDefaultDatabase) {
  const auto s = load({{"XDG_DATA_HOME", "/data"}});
  EXPECT_EQ(s.database_url.reveal(), "sqlite:////data/aadap/aadap.db");
}

TEST(Settings, ParsesEveryKind) {
  const auto s = load({{"aadap_log_level", "debug"},  // names and values are case-insensitive
                       {"AADAP_LOG_FORMAT", "Console"},
                       {"AADAP_DEBUG", "yes"},
                       {"AADAP_DB_POOL_SIZE", "100"},
                       {"AADAP_ENVIRONMENT", "PRODUCTION"},
                       {"AADAP_VECTOR_MIN_SIMILARITY", "0.9"},
                       {"AADAP_DATABASE_URL", "postgresql+asyncpg://u:pw9876@h/db"},
                       {"AADAP_DATABRICKS_HOST", "adb-1.azuredatabricks.net/"},
                       {"AADAP_PRODUCTION_DATABRICKS_WAREHOUSE_ID", "wh-prod"},
                       {"AADAP_SQLITE_SYNCHRONOUS", "normal"},
                       {"AADAP_LLM_PRICE_OUTPUT_PER_1K", "0.03"}});
  EXPECT_EQ(s.log_level, log::Level::debug);
  EXPECT_EQ(s.log_format, log::Format::console);
  EXPECT_TRUE(s.debug);
  EXPECT_EQ(s.db_pool_size, 100);
  EXPECT_EQ(s.environment, ServiceEnvironment::production);
  EXPECT_DOUBLE_EQ(s.vector_min_similarity, 0.9);
  EXPECT_EQ(s.database_url.reveal(), "postgresql://u:pw9876@h/db");
  EXPECT_EQ(s.sandbox.databricks_host, "https://adb-1.azuredatabricks.net");
  EXPECT_EQ(s.production.databricks_warehouse_id, "wh-prod");
  EXPECT_FALSE(s.sandbox.databricks_warehouse_id.has_value());
  EXPECT_EQ(&s.targets(TaskEnvironment::production), &s.production);
  EXPECT_EQ(s.sqlite_synchronous, SqliteSynchronous::normal);
  EXPECT_DOUBLE_EQ(s.llm_price_output_per_1k, 0.03);
}

TEST(Settings, TaskEnvironmentNames) {
  EXPECT_EQ(parse_task_environment("sandbox"), TaskEnvironment::sandbox);
  EXPECT_EQ(parse_task_environment("PRODUCTION"), TaskEnvironment::production);
  EXPECT_THROW(parse_task_environment("staging"), InvalidArgumentError);
}

TEST(Settings, BooleanSpellings) {
  for (auto yes : {"1", "true", "TRUE", "yes", "on", "t", "Y"}) {
    EXPECT_TRUE(load({{"AADAP_DEBUG", yes}}).debug) << yes;
  }
  for (auto no : {"0", "false", "No", "off", "f", "n"}) {
    EXPECT_FALSE(load({{"AADAP_DEBUG", no}}).debug) << no;
  }
}

TEST(Settings, DebugLowersTheLevelOnlyWhenNoLevelIsGiven) {
  EXPECT_EQ(load({{"AADAP_DEBUG", "1"}}).effective_log_level(), log::Level::debug);
  EXPECT_EQ(load({{"AADAP_DEBUG", "1"}, {"AADAP_LOG_LEVEL", "ERROR"}}).effective_log_level(),
            log::Level::error);
}

TEST(Settings, EveryBadVariableIsReportedAtOnce) {
  const auto errors = errors_of({{"AADAP_DB_POOL_SIZE", "0"},
                                 {"AADAP_DB_POOL_OVERFLOW", "51"},
                                 {"AADAP_LOG_FORMAT", "xml"},
                                 {"AADAP_LOG_LEVEL", "verbose"},
                                 {"AADAP_MEMORY_DEFAULT_TTL_SECONDS", "59"},
                                 {"AADAP_MEMORY_MAX_BYTES", "1024"},
                                 {"AADAP_VECTOR_MIN_SIMILARITY", "0.5"},
                                 {"AADAP_VECTOR_MAX_STALENESS_DAYS", "3651"},
                                 {"AADAP_TOKEN_BUDGET_DEFAULT", "0"},
                                 {"AADAP_APPROVAL_TIMEOUT_SECONDS", "10"},
                                 {"AADAP_EMBEDDING_DIMENSION", "8193"},
                                 {"AADAP_DEBUG", "maybe"},
                                 {"AADAP_ENVIRONMENT", "qa"},
                                 {"AADAP_SQLITE_SYNCHRONOUS", "OFF"},
                                 {"AADAP_DATABASE_URL", "mysql://root:pw-mysql-1@h/db"},
                                 {"AADAP_CA_BUNDLE", "/nonexistent.pem"},
                                 {"AADAP_AZURE_OPENAI_ENDPOINT", "ftp://x"},
                                 {"AADAP_LLM_PRICE_INPUT_PER_1K", "nan"},
                                 {"AADAP_APP_NAME", "fine"}});
  std::set<std::string> names;
  for (const auto& e : errors) names.insert(e.at("variable").get<std::string>());
  EXPECT_EQ(names.size(), 18u);
  EXPECT_EQ(names.count("AADAP_APP_NAME"), 0u);
  for (const auto& e : errors) {
    EXPECT_FALSE(e.at("allowed").get<std::string>().empty());
    if (e.at("variable") == "AADAP_DATABASE_URL") {
      EXPECT_EQ(e.at("value"), "**********");
    }
  }
}

TEST(Settings, ErrorMessageListsEachVariableAndMasksSecrets) {
  try {
    load(
        {{"AADAP_DB_POOL_SIZE", "abc"}, {"AADAP_DATABASE_URL", "oracle://scott:tiger-pw-77@h/db"}});
    FAIL();
  } catch (const ConfigurationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("2 invalid settings"), std::string::npos) << message;
    EXPECT_NE(message.find("AADAP_DB_POOL_SIZE='abc': must be an integer from 1 to 100"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find("tiger-pw-77"), std::string::npos) << message;
  }
}

TEST(Settings, RangeEdgesAreInclusive) {
  EXPECT_EQ(load({{"AADAP_DB_POOL_SIZE", "1"}}).db_pool_size, 1);
  EXPECT_EQ(load({{"AADAP_DB_POOL_OVERFLOW", "0"}}).db_pool_overflow, 0);
  EXPECT_EQ(load({{"AADAP_MEMORY_MAX_BYTES", "1048576"}}).memory_max_bytes, 1048576);
  EXPECT_EQ(load({{"AADAP_VECTOR_MAX_STALENESS_DAYS", "3650"}}).vector_max_staleness_days, 3650);
  EXPECT_DOUBLE_EQ(load({{"AADAP_VECTOR_MIN_SIMILARITY", "1"}}).vector_min_similarity, 1.0);
  EXPECT_FALSE(errors_of({{"AADAP_DB_POOL_SIZE", " 7 "}}).size());  // surrounding space trimmed
}

TEST(Settings, EnvironmentWinsOverDotenv) {
  const auto s = load({{"AADAP_APP_NAME", "from-env"}},
                      {{"AADAP_APP_NAME", "from-file"}, {"AADAP_DB_POOL_SIZE", "7"}});
  EXPECT_EQ(s.app_name, "from-env");
  EXPECT_EQ(s.db_pool_size, 7);
  EXPECT_EQ(s.sources.at("AADAP_APP_NAME"), SettingSource::environment);
  EXPECT_EQ(s.sources.at("AADAP_DB_POOL_SIZE"), SettingSource::dotenv);
  EXPECT_EQ(s.sources.at("AADAP_LOG_LEVEL"), SettingSource::default_value);
}

TEST(Settings, EmptyValueMeansUnsetAndUnknownNamesAreIgnored) {
  const auto s = load({{"AADAP_LOG_FORMAT", ""}, {"AADAP_NOT_A_SETTING", "x"}, {"OTHER", "y"}});
  EXPECT_EQ(s.log_format, log::Format::json);
}

TEST(Settings, DeprecatedRedisVariablesAreIgnored) {
  const auto s = load({{"AADAP_REDIS_URL", "redis://localhost"}});
  ASSERT_EQ(s.ignored_deprecated.size(), 1u);
  EXPECT_EQ(s.ignored_deprecated[0], "AADAP_REDIS_URL");
}

TEST(Settings, DescribeMasksSecrets) {
  const auto s = load({{"AADAP_AZURE_OPENAI_API_KEY", "sk-live-abcdef"},
                       {"AADAP_FABRIC_CLIENT_SECRET", "fabric-secret-xyz"}});
  EXPECT_EQ(s.azure_openai_api_key->reveal(), "sk-live-abcdef");
  bool saw_key = false;
  for (const auto& view : s.describe()) {
    EXPECT_EQ(view.display.find("sk-live"), std::string::npos);
    EXPECT_EQ(view.display.find("fabric-secret"), std::string::npos);
    if (view.variable == "AADAP_AZURE_OPENAI_API_KEY") {
      saw_key = true;
      EXPECT_TRUE(view.secret);
      EXPECT_EQ(view.display, "**********");
    }
  }
  EXPECT_TRUE(saw_key);
  EXPECT_EQ(redact("echo fabric-secret-xyz"), "echo **********");
}

TEST(Settings, DescribeCoversTheWholeTable) {
  const auto views = load({}).describe();
  EXPECT_EQ(views.size(), 53u);
  EXPECT_EQ(views.front().variable, "AADAP_APP_NAME");
}

TEST(Settings, LoadReadsTheDotenvFile) {
  const auto path = std::filesystem::temp_directory_path() / "aadap_settings_test.env";
  std::ofstream(path) << "AADAP_CORRELATION_ID_HEADER=X-Request-ID\n";
  EXPECT_EQ(Settings::load(path).correlation_id_header, "X-Request-ID");
  std::filesystem::remove(path);
}
