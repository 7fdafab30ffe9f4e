// Databricks pieces that need no server: credential resolution over temporary config files,
// the columnar result table (JSON_ARRAY parsing, typed columns), and the error shapes.
#include "aadap/core/errors.hpp"
#include "aadap/platforms/base64.hpp"
#include "aadap/platforms/databricks.hpp"
#include "aadap/platforms/databricks_auth.hpp"
#include "aadap/platforms/sql_result_table.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace aadap;
using namespace aadap::platforms;

namespace {

class TempHome {
 public:
  TempHome()
      : dir_(std::filesystem::temp_directory_path() /
             ("aadap_dbx_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::create_directories(dir_ / ".databricks");
  }
  ~TempHome() { std::filesystem::remove_all(dir_); }
  std::string path() const { return dir_.string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

DatabricksAuth resolve(const DatabricksAuthOptions& options) {
  static ManualTime time;
  return resolve_databricks_auth(options, std::make_shared<HttpTransport>(),
                                 std::shared_ptr<const Clock>(&time, [](const Clock*) {}), time);
}

std::string token_of(const DatabricksAuth& auth) {
  return auth.tokens->token("", {}).reveal();
}

}  // namespace

TEST(DatabricksAuth, HostsAreNormalised) {
  EXPECT_EQ(normalize_databricks_host("adb-1.2.azuredatabricks.net/"),
            "https://adb-1.2.azuredatabricks.net");
  EXPECT_EQ(normalize_databricks_host("https://dbc-x.cloud.databricks.com:443"),
            "https://dbc-x.cloud.databricks.com");
  EXPECT_EQ(normalize_databricks_host("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
}

TEST(DatabricksAuth, ResolutionOrder) {
  TempHome home;
  home.write(
      ".databrickscfg",
      "[DEFAULT]\nhost = https://default.example\ntoken = dapi-default\n\n"
      "[dev]\nhost = dev.example:443\ntoken = dapi-dev ; a comment\n"
      "warehouse_id = wh1\n\n[sp]\nhost = https://sp.example\nclient_id = id\n"
      "client_secret = s\n\n[cli]\nhost = https://cli.example\nauth_type = databricks-cli\n");
  DatabricksAuthOptions options;
  options.home = home.path();
  // the environment's token wins over the config file; AADAP_ first
  options.environment = {{"DATABRICKS_TOKEN", "dapi-env"},
                         {"AADAP_DATABRICKS_TOKEN", "dapi-aadap"},
                         {"DATABRICKS_HOST", "https://env.example/"}};
  auto auth = resolve(options);
  EXPECT_EQ(auth.host, "https://env.example");
  EXPECT_EQ(token_of(auth), "dapi-aadap");
  EXPECT_EQ(auth.source, "AADAP_DATABRICKS_TOKEN");
  // an explicit token wins over everything
  options.token = Secret("dapi-explicit");
  EXPECT_EQ(token_of(resolve(options)), "dapi-explicit");
  options.token.reset();
  // no token in the environment: the default profile, its host
  options.environment = {};
  auth = resolve(options);
  EXPECT_EQ(auth.host, "https://default.example");
  EXPECT_EQ(token_of(auth), "dapi-default");
  // a named profile (DATABRICKS_CONFIG_PROFILE), its extras
  options.environment = {{"DATABRICKS_CONFIG_PROFILE", "dev"}};
  auth = resolve(options);
  EXPECT_EQ(auth.host, "https://dev.example");
  EXPECT_EQ(token_of(auth), "dapi-dev");
  EXPECT_EQ(auth.profile.at("warehouse_id"), "wh1");
  // a profile with a service principal is OAuth M2M
  options.profile = "sp";
  EXPECT_EQ(resolve(options).tokens->method(), "oauth-m2m");
  // a named profile that is missing is an error, not a fallback
  options.profile = "nope";
  EXPECT_THROW(resolve(options), ConfigurationError);
}

TEST(DatabricksAuth, CliTokenCacheAndTheErrorListingWhatWasTried) {
  TempHome home;
  DatabricksAuthOptions options;
  options.home = home.path();
  options.host = "https://cli.example";
  try {
    resolve(options);
    FAIL() << "resolved without credentials";
  } catch (const ConfigurationError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("DATABRICKS_TOKEN"), std::string::npos);
    EXPECT_NE(message.find("token-cache.json"), std::string::npos);
    EXPECT_NE(message.find("OAuth M2M"), std::string::npos);
  }
  home.write(".databricks/token-cache.json",
             R"({"version": 1, "tokens": {"https://cli.example": {"access_token": "eyJ-cached",
             "token_type": "Bearer", "refresh_token": "doa-1",
             "expiry": "2999-05-01T10:45:12.123456789+02:00", "expires_in": 3599}}})");
  const auto auth = resolve(options);
  EXPECT_EQ(auth.tokens->method(), "databricks-cli");
  EXPECT_EQ(token_of(auth), "eyJ-cached");
  // a wrong cache version is not used
  home.write(".databricks/token-cache.json", R"({"version": 2, "tokens": {}})");
  EXPECT_THROW(resolve(options), ConfigurationError);
  // M2M from the environment comes last
  options.environment = {{"DATABRICKS_CLIENT_ID", "id"}, {"DATABRICKS_CLIENT_SECRET", "s"}};
  EXPECT_EQ(resolve(options).tokens->method(), "oauth-m2m");
}

TEST(SqlResultTable, ParsesRowsAndTypes) {
  SqlResultTable table({{"i", "LONG", "BIGINT"},
                        {"d", "DOUBLE", "DOUBLE"},
                        {"b", "BOOLEAN", "BOOLEAN"},
                        {"day", "DATE", "DATE"},
                        {"at", "TIMESTAMP", "TIMESTAMP"},
                        {"s", "STRING", "STRING"}});
  table.append_json_rows(
      R"([["1","1.5","true","2024-05-01","2024-05-01T10:00:00.5Z","a \"q\" \u00e9 \ud83d\ude00"],
          [null,"NaN",null,null,"1970-01-01T01:00:00+01:00",null] ,
          ["-9223372036854775808","-Infinity","false","1969-12-31","2024-05-01T10:00:00.123456789Z",""]])",
      "test");
  ASSERT_EQ(table.row_count(), 3u);
  std::int64_t ints[3];
  double doubles[3];
  std::uint8_t bools[3];
  std::uint8_t mask[3];
  table.integers(0, ints, mask);
  EXPECT_EQ(ints[0], 1);
  EXPECT_EQ(mask[1], 1);
  EXPECT_EQ(ints[2], std::numeric_limits<std::int64_t>::min());
  table.doubles(1, doubles, mask);
  EXPECT_EQ(doubles[0], 1.5);
  EXPECT_TRUE(std::isnan(doubles[1]));
  EXPECT_EQ(doubles[2], -std::numeric_limits<double>::infinity());
  table.booleans(2, bools, mask);
  EXPECT_EQ(bools[0], 1);
  EXPECT_EQ(mask[1], 1);
  EXPECT_EQ(bools[2], 0);
  std::int64_t days[3];
  table.dates(3, days, mask);
  EXPECT_EQ(days[0], 19844);
  EXPECT_EQ(days[2], -1);
  std::int64_t micros[3];
  table.timestamps(4, micros, mask);
  EXPECT_EQ(micros[0], 1714557600500000);
  EXPECT_EQ(micros[1], 0);  // 01:00 at +01:00 is the epoch
  EXPECT_EQ(micros[2], 1714557600123456);
  EXPECT_EQ(table.text(5, 0), "a \"q\" é 😀");
  EXPECT_TRUE(table.is_null(5, 1));
  EXPECT_EQ(table.text(5, 2), "");
  EXPECT_FALSE(table.is_null(5, 2));
}

TEST(SqlResultTable, MalformedChunksChangeNothing) {
  SqlResultTable table({{"a", "STRING", "STRING"}, {"b", "INT", "INT"}});
  table.append_json_rows(R"([["x","1"]])", "test");
  for (const char* bad : {R"([["y","2"],["z"]])", R"([["y","2"],["z","3")", R"({"a":1})",
                          R"([["y",{"n":1}]])", R"([["unterminated)"}) {
    EXPECT_THROW(table.append_json_rows(bad, "test"), RemoteError) << bad;
    EXPECT_EQ(table.row_count(), 1u) << bad;
  }
  table.append_json_rows("[]", "test");
  table.append_json_rows(R"([["y","not a number"]])", "test");
  std::int64_t values[2];
  std::uint8_t mask[2];
  EXPECT_THROW(table.integers(1, values, mask), RemoteError);
  EXPECT_EQ(table.text(0, 1), "y");
}

TEST(DatabricksErrors, EveryShapeGivesCodeAndMessage) {
  const auto error = [](long status, std::string body, HttpHeaders headers = {}) {
    return databricks_error(HttpResponse{status, std::move(headers), std::move(body)});
  };
  EXPECT_EQ(error(404, R"({"error_code":"RESOURCE_DOES_NOT_EXIST","message":"no such"})"),
            std::make_pair(std::string("RESOURCE_DOES_NOT_EXIST"), std::string("no such")));
  EXPECT_EQ(error(403, R"({"error_code":403,"message":"Invalid access token."})").first, "403");
  EXPECT_EQ(error(400, R"({"error":"bad command"})").second, "bad command");
  EXPECT_EQ(error(400, "INVALID_STATE: cluster is gone"),
            std::make_pair(std::string("INVALID_STATE"), std::string("cluster is gone")));
  EXPECT_EQ(error(502, "<html><title>Bad Gateway</title></html>").second, "Bad Gateway");
  EXPECT_EQ(error(500, "<html><pre>Boom\n</pre></html>").second, "Boom");
  EXPECT_EQ(
      error(403, "", HttpHeaders{{"X-Databricks-Reason-Phrase", "Invalid access token."}}).second,
      "Invalid access token.");
  EXPECT_EQ(error(503, "").second, "HTTP 503");
}

namespace {

using aadap::testing::ScriptedServer;

std::string ok(const std::string& body) {
  return ScriptedServer::response(200, body);
}

DatabricksClient client_of(const ScriptedServer& server, ManualTime& time) {
  DatabricksAuthOptions options;
  options.host = server.url("");
  options.token = Secret("dapi-test");
  options.home = "/nonexistent";
  auto transport = std::make_shared<HttpTransport>();
  const std::shared_ptr<const Clock> clock(&time, [](const Clock*) {});
  DatabricksConfig config;
  config.auth = resolve_databricks_auth(options, transport, clock, time);
  config.cluster_id = "0123-cluster";
  return DatabricksClient(std::move(config), transport, nullptr, clock, time);
}

PythonCommand python(const std::string& code) {
  PythonCommand command;
  command.code = code;
  return command;
}

/// The paths the server was asked for, without the query strings.
std::vector<std::string> paths(ScriptedServer& server) {
  std::vector<std::string> out;
  for (const auto& line : server.request_lines()) {
    const auto start = line.find(' ') + 1;
    out.push_back(line.substr(start, line.find_first_of("? ", start) - start));
  }
  return out;
}

}  // namespace

TEST(DatabricksPython, RunsInAContextThatIsDestroyedAfterwards) {
  ScriptedServer server({ok(R"({"cluster_id":"0123-cluster","state":"RUNNING"})"),
                         ok(R"({"id":"ctx-1"})"), ok(R"({"id":"ctx-1","status":"Pending"})"),
                         ok(R"({"id":"ctx-1","status":"Running"})"), ok(R"({"id":"cmd-1"})"),
                         ok(R"({"id":"cmd-1","status":"Running"})"),
                         ok(R"({"id":"cmd-1","status":"Finished","results":{"resultType":"table",
                           "data":[[1,"a"],[2,null]],"schema":[{"name":"id","type":"\"long\""},
                           {"name":"s","type":"\"string\""}],"truncated":false}})"),
                         ok(R"({"id":"ctx-1"})")});
  ManualTime time;
  const auto result = client_of(server, time).run_python(python("spark.range(2)"));
  EXPECT_EQ(result.result_type, "table");
  ASSERT_EQ(result.columns.size(), 2u);
  EXPECT_EQ(result.columns[0].first, "id");
  EXPECT_EQ(result.rows.dump(), R"([[1,"a"],[2,null]])");
  EXPECT_EQ(paths(server),
            (std::vector<std::string>{"/api/2.0/clusters/get", "/api/1.2/contexts/create",
                                      "/api/1.2/contexts/status", "/api/1.2/contexts/status",
                                      "/api/1.2/commands/execute", "/api/1.2/commands/status",
                                      "/api/1.2/commands/status", "/api/1.2/contexts/destroy"}));
  EXPECT_NE(server.last_request().find(R"("contextId":"ctx-1")"), std::string::npos);
}

TEST(DatabricksPython, AnExceptionIsAFailureAndTheContextStillGoes) {
  ScriptedServer server({ok(R"({"state":"RUNNING"})"), ok(R"({"id":"ctx-2"})"),
                         ok(R"({"status":"Running"})"), ok(R"({"id":"cmd-2"})"),
                         ok(R"({"status":"Finished","results":{"resultType":"error",
                           "summary":"<span>NameError: name 'x' is not defined</span>",
                           "cause":"Traceback ..."}})"),
                         ok(R"({"id":"ctx-2"})")});
  ManualTime time;
  try {
    client_of(server, time).run_python(python("print(x)"));
    FAIL() << "a Python exception was not an error";
  } catch (const RemoteError& e) {
    EXPECT_NE(std::string(e.what()).find("NameError: name 'x' is not defined"), std::string::npos);
    EXPECT_EQ(e.details().at("cause"), "Traceback ...");
  }
  EXPECT_EQ(paths(server).back(), "/api/1.2/contexts/destroy");
}

TEST(DatabricksPython, ATimeoutCancelsTheCommandAndDestroysTheContext) {
  ScriptedServer server({ok(R"({"state":"RUNNING"})"), ok(R"({"id":"ctx-3"})"),
                         ok(R"({"status":"Running"})"), ok(R"({"id":"cmd-3"})"),
                         ok(R"({"status":"Running"})")});  // the last answer repeats
  ManualTime time;
  auto command = python("import time; time.sleep(10**6)");
  command.timeout = std::chrono::seconds(30);
  EXPECT_THROW(client_of(server, time).run_python(command), PlatformTimeoutError);
  const auto asked = paths(server);
  ASSERT_GE(asked.size(), 3u);
  EXPECT_EQ(asked[asked.size() - 2], "/api/1.2/commands/cancel");
  EXPECT_EQ(asked.back(), "/api/1.2/contexts/destroy");
}

TEST(DatabricksPython, NeedsARunningClusterAndNeverAWarehouse) {
  ScriptedServer server({ok(R"({"state":"TERMINATED"})")});
  ManualTime time;
  auto c = client_of(server, time);
  EXPECT_THROW(c.run_python(python("print(1)")), RemoteError);
  EXPECT_EQ(paths(server), (std::vector<std::string>{"/api/2.0/clusters/get"}));
  const auto no_cluster = python("print(1)");
  DatabricksAuthOptions options;
  options.host = server.url("");
  options.token = Secret("dapi-test");
  options.home = "/nonexistent";
  auto transport = std::make_shared<HttpTransport>();
  const std::shared_ptr<const Clock> clock(&time, [](const Clock*) {});
  DatabricksConfig config;
  config.auth = resolve_databricks_auth(options, transport, clock, time);
  DatabricksClient without(std::move(config), transport, nullptr, clock, time);
  EXPECT_THROW(without.run_python(no_cluster), ConfigurationError);
}

TEST(DatabricksJobs, SubmitWithATokenAndWaitForTheRun) {
  ScriptedServer server(
      {ok(R"({"run_id":455})"), ok(R"({"run_id":455,"state":{"life_cycle_state":"PENDING"}})"),
       ok(R"({"run_id":455,"state":{"life_cycle_state":"RUNNING"}})"),
       ok(R"({"run_id":455,"state":{"life_cycle_state":"TERMINATED","result_state":"SUCCESS"}})")});
  ManualTime time;
  auto c = client_of(server, time);
  const auto tasks = nlohmann::json::array(
      {{{"task_key", "main"}, {"notebook_task", {{"notebook_path", "/Users/x/nb"}}}}});
  EXPECT_EQ(c.submit_run("nightly", tasks, "", 3600, ""), 455);
  // a token is generated when none is given, so the submit can be retried
  EXPECT_NE(server.last_request().find("\"idempotency_token\":\""), std::string::npos);
  std::vector<std::string> seen;
  WaitOptions wait;
  wait.timeout = std::chrono::seconds(60);
  wait.progress = [&](const nlohmann::json& r) { seen.push_back(r["state"]["life_cycle_state"]); };
  const auto run = c.wait_for_run(455, wait);
  EXPECT_EQ(run["state"]["result_state"], "SUCCESS");
  EXPECT_EQ(seen, (std::vector<std::string>{"PENDING", "RUNNING", "TERMINATED"}));
  EXPECT_EQ(time.sleeps().size(), 2u);
  EXPECT_THROW(c.submit_run("empty", nlohmann::json::array(), "", 0, ""), InvalidArgumentError);
}

TEST(DatabricksJobs, ATimedOutWaitCancelsWhenAskedAndPagesAreFollowed) {
  ScriptedServer server({ok(R"({"run_id":7,"state":{"life_cycle_state":"RUNNING"}})")});
  ManualTime time;
  auto c = client_of(server, time);
  WaitOptions wait;
  wait.timeout = std::chrono::seconds(30);
  wait.cancel_on_timeout = true;
  EXPECT_THROW(c.wait_for_run(7, wait), PlatformTimeoutError);
  EXPECT_EQ(paths(server).back(), "/api/2.1/jobs/runs/cancel");

  ScriptedServer pages({ok(R"({"jobs":[{"job_id":1}],"has_more":true,"next_page_token":"p2"})"),
                        ok(R"({"jobs":[{"job_id":2}],"has_more":false})")});
  const auto jobs = client_of(pages, time).list_jobs();
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[1]["job_id"], 2);
  EXPECT_NE(pages.request_lines().back().find("page_token=p2"), std::string::npos);
}

TEST(Base64, RoundTripsEveryLengthAndRefusesWhatIsNotBase64) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  std::string bytes;
  for (int i = 0; i < 300; ++i) {
    bytes.push_back(static_cast<char>(i * 37));
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
  EXPECT_EQ(base64_decode("Zm9v\nYmE=\r\n"), "fooba");  // MIME line breaks
  EXPECT_EQ(base64_decode("Zm8"), "fo");                // padding left out
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64_decode("Z"));
  EXPECT_FALSE(base64_decode("Zg=a"));   // data after padding
  EXPECT_FALSE(base64_decode("Zm9=="));  // padding that does not complete the group
  EXPECT_FALSE(base64_decode("Zh=="));   // non-zero unused bits
  EXPECT_FALSE(base64_decode("Zm9vYg==="));
}

TEST(DatabricksWorkspace, ImportsBase64AndExportsTheBytes) {
  const std::string source = "# Databricks notebook source\nprint('é')\n";
  ScriptedServer server({ok("{}"),
                         ok(R"({"content":")" + base64_encode(source) + R"(","file_type":"py"})"),
                         ok(R"({"content":"not base64!"})"), ok("{}")});
  ManualTime time;
  auto c = client_of(server, time);
  WorkspaceImport request;
  request.path = "/Users/me@example.com/nb";
  request.content = source;
  request.language = "PYTHON";
  c.import_notebook(request);
  const auto sent = nlohmann::json::parse(
      server.last_request().substr(server.last_request().find("\r\n\r\n") + 4));
  EXPECT_EQ(sent["content"], base64_encode(source));
  EXPECT_EQ(sent["format"], "SOURCE");
  EXPECT_EQ(sent["overwrite"], false);
  EXPECT_EQ(c.export_notebook(request.path, "SOURCE"), source);
  EXPECT_NE(server.request_lines().back().find("path=%2FUsers%2Fme%40example.com%2Fnb"),
            std::string::npos);
  EXPECT_THROW(c.export_notebook(request.path, "SOURCE"), RemoteError);  // malformed content
  EXPECT_TRUE(c.list_workspace("/Users/empty").empty());  // an empty folder answers {}

  const auto before = server.request_lines().size();
  request.language.clear();
  EXPECT_THROW(c.import_notebook(request), InvalidArgumentError);  // SOURCE needs a language
  request.language = "COBOL";
  EXPECT_THROW(c.import_notebook(request), InvalidArgumentError);
  request.path = "relative/nb";
  request.language = "PYTHON";
  EXPECT_THROW(c.import_notebook(request), InvalidArgumentError);
  EXPECT_THROW(c.export_notebook("/Users/x", "PDF"), InvalidArgumentError);
  EXPECT_EQ(server.request_lines().size(), before);  // bad input sent nothing
}

TEST(DatabricksPipelines, WaitsForTheUpdateAndStopsThePipelineAtTheDeadline) {
  ScriptedServer server({ok(R"({"update_id":"u-1"})"),
                         ok(R"({"update":{"update_id":"u-1","state":"QUEUED"}})"),
                         ok(R"({"update":{"update_id":"u-1","state":"RUNNING"}})"),
                         ok(R"({"update":{"update_id":"u-1","state":"COMPLETED"}})")});
  ManualTime time;
  auto c = client_of(server, time);
  PipelineUpdateRequest start;
  start.pipeline_id = "p-1";
  start.refresh_selection = {"sales"};
  EXPECT_EQ(c.start_update(start), "u-1");
  const auto sent = nlohmann::json::parse(
      server.last_request().substr(server.last_request().find("\r\n\r\n") + 4));
  EXPECT_EQ(sent["refresh_selection"], nlohmann::json::array({"sales"}));
  std::vector<std::string> seen;
  WaitOptions wait;
  wait.progress = [&](const nlohmann::json& u) { seen.push_back(u["state"]); };
  EXPECT_EQ(c.wait_for_update("p-1", "u-1", wait)["state"], "COMPLETED");
  EXPECT_EQ(seen, (std::vector<std::string>{"QUEUED", "RUNNING", "COMPLETED"}));
  EXPECT_EQ(time.sleeps().size(), 2u);
  EXPECT_EQ(time.sleeps()[0], std::chrono::seconds(1));

  // one answer for the update's polls and the pipeline's (its latest update is u-2)
  ScriptedServer slow({ok(
      R"({"update":{"update_id":"u-2","state":"RUNNING"},"latest_updates":[{"update_id":"u-2"}]})")});
  auto s = client_of(slow, time);
  wait.timeout = std::chrono::seconds(30);
  wait.cancel_on_timeout = true;
  EXPECT_THROW(s.wait_for_update("p-1", "u-2", wait), PlatformTimeoutError);
  EXPECT_EQ(paths(slow).back(), "/api/2.0/pipelines/p-1/stop");

  ScriptedServer cancelled({ok(
      R"({"update":{"update_id":"u-3","state":"RUNNING"},"latest_updates":[{"update_id":"u-3"}]})")});
  auto x = client_of(cancelled, time);
  wait.cancelled = [] { return true; };
  EXPECT_THROW(x.wait_for_update("p-1", "u-3", wait), CancelledError);
  EXPECT_EQ(paths(cancelled).back(), "/api/2.0/pipelines/p-1/stop");

  // someone else's newer update is not stopped
  ScriptedServer newer({ok(
      R"({"update":{"update_id":"u-4","state":"RUNNING"},"latest_updates":[{"update_id":"u-9"}]})")});
  auto n = client_of(newer, time);
  EXPECT_THROW(n.wait_for_update("p-1", "u-4", wait), CancelledError);
  EXPECT_EQ(paths(newer).back(), "/api/2.0/pipelines/p-1");
}

TEST(DatabricksCatalog, FollowsEmptyPagesUntilTheTokenIsGoneAndRefusesARepeatedToken) {
  ScriptedServer server({ok(R"({"tables":[],"next_page_token":"a+b/c"})"),
                         ok(R"({"tables":[{"name":"t1"}],"next_page_token":"n2"})"),
                         ok(R"({"tables":[{"name":"t2"}]})")});
  ManualTime time;
  auto c = client_of(server, time);
  const auto tables = c.list_tables("main", "default");
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[1]["name"], "t2");
  const auto lines = server.request_lines();
  EXPECT_NE(lines[0].find("max_results=0&catalog_name=main&schema_name=default"),
            std::string::npos);
  EXPECT_NE(lines[1].find("page_token=a%2Bb%2Fc"), std::string::npos);

  ScriptedServer looping({ok(R"({"catalogs":[{"name":"c"}],"next_page_token":"same"})")});
  EXPECT_THROW(client_of(looping, time).list_catalogs(), RemoteError);
  ScriptedServer circling({ok(R"({"schemas":[],"next_page_token":"a"})"),
                           ok(R"({"schemas":[],"next_page_token":"b"})"),
                           ok(R"({"schemas":[],"next_page_token":"a"})"), ok(R"({"schemas":[]})")});
  EXPECT_THROW(client_of(circling, time).list_schemas("main"), RemoteError);
  EXPECT_EQ(circling.request_lines().size(), 3u);
  EXPECT_THROW(c.list_schemas(""), InvalidArgumentError);
}
