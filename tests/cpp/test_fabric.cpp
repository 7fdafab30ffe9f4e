// FabricClient against scripted loopback servers (cloud-apis.md B9, B10): tokens from one
// server, the REST API on another, so each API script is exact; ManualTime as clock and
// sleeper, so nothing really sleeps and every wait is recorded.
#include "aadap/core/errors.hpp"
#include "aadap/core/resource_recorder.hpp"
#include "aadap/core/sha256.hpp"
#include "aadap/platforms/base64.hpp"
#include "aadap/platforms/fabric.hpp"
#include "scripted_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using namespace aadap;
using namespace aadap::platforms;
using aadap::testing::ScriptedServer;
using nlohmann::json;
using std::chrono::seconds;

namespace {

using Sleeps = std::vector<std::chrono::nanoseconds>;
using Lines = std::vector<std::string>;

/// A raw answer with extra header fields.
std::string answer(int status, const std::string& body,
                   std::initializer_list<std::pair<std::string, std::string>> headers = {}) {
  std::string fields;
  for (const auto& [name, value] : headers) fields += name + ": " + value + "\r\n";
  return ScriptedServer::response(status, body, fields);
}

std::string ok(const json& body) {
  return answer(200, body.dump());
}

std::string token_answer(const std::string& token) {
  return ok({{"token_type", "Bearer"}, {"expires_in", 3600}, {"access_token", token}});
}

/// A Fabric ErrorResponse with its code also in the header, as the service sends it.
std::string fabric_failure(int status, const std::string& code, const std::string& message,
                           const std::string& request_id = "rq-1") {
  return answer(status,
                json{{"errorCode", code},
                     {"message", message},
                     {"requestId", request_id},
                     {"isRetriable", false}}
                    .dump(),
                {{"x-ms-public-api-error-code", code}});
}

std::string line(const std::string& method, const std::string& target) {
  return method + " " + target + " HTTP/1.1";
}

std::string body_of(const std::string& request) {
  return request.substr(request.find("\r\n\r\n") + 4);
}

json json_body(const std::string& request) {
  return json::parse(body_of(request));
}

struct Recorded {
  std::string what;  // start, finish, resource
  std::string a, b, c, d;
};

/// Remembers what the client reports.
class Recorder final : public ResourceRecorder {
 public:
  std::string start_execution(const std::string& task_id, const std::string& platform,
                              const std::string& metadata_json, const std::string&) override {
    std::lock_guard lock(mutex_);
    events_.push_back({"start", task_id, platform, metadata_json, ""});
    return "exec-1";
  }
  void finish_execution(const std::string& execution_id, const std::string& status,
                        const std::string& output, const std::string& error, const std::string&,
                        const std::string&) override {
    std::lock_guard lock(mutex_);
    events_.push_back({"finish", execution_id, status, output, error});
  }
  void record_resource(const std::string& task_id, const std::string& platform,
                       const std::string& resource_type, const std::string& resource_id,
                       const std::string&, const std::string&) override {
    std::lock_guard lock(mutex_);
    events_.push_back({"resource", task_id, platform, resource_type, resource_id});
  }
  std::vector<Recorded> events() {
    std::lock_guard lock(mutex_);
    return events_;
  }

 private:
  std::mutex mutex_;
  std::vector<Recorded> events_;
};

/// A token server, an API server (scripted once it listens, so answers can name its URL) and
/// a client of workspace ws-1 between them.
class Harness {
 public:
  explicit Harness(const std::string& lakehouse_id = {}) {
    EntraConfig entra;
    entra.authority = tokens.url("");
    entra.tenant_id = "tenant-1";
    entra.client_id = "app-1";
    entra.client_secret = Secret("entra-secret-value");
    credential = std::make_shared<EntraCredential>(transport, std::move(entra), clock, time);
    FabricConfig config;
    config.api_base = api.url("/v1");
    config.workspace_id = "ws-1";
    config.lakehouse_id = lakehouse_id;
    client_ = std::make_unique<FabricClient>(std::move(config), transport, credential, recorder,
                                             clock, time);
  }
  FabricClient& client() { return *client_; }
  void script(std::deque<std::string> answers) { api.set_script(std::move(answers)); }
  std::string url(const std::string& path) { return api.url(path); }
  Lines lines() { return api.request_lines(); }
  std::vector<std::string> requests() { return api.requests_seen(); }
  Sleeps sleeps() const { return time.sleeps(); }

  ManualTime time;
  ScriptedServer tokens{{token_answer("tok-1"), token_answer("tok-2"), token_answer("tok-3")}};
  ScriptedServer api{{ScriptedServer::response(500, "unscripted")}};
  std::shared_ptr<HttpTransport> transport = std::make_shared<HttpTransport>();
  std::shared_ptr<const Clock> clock{&time, [](const Clock*) {}};
  std::shared_ptr<EntraCredential> credential;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();

 private:
  std::unique_ptr<FabricClient> client_;
};

const std::string kItems = "/v1/workspaces/ws-1/items";

ItemDefinition notebook_definition(const std::string& content) {
  ItemDefinition definition;
  definition.format = "ipynb";
  definition.parts = {{"notebook-content.ipynb", content}};
  return definition;
}

ItemRequest notebook_request(const std::string& name) {
  ItemRequest request;
  request.display_name = name;
  request.type = "Notebook";
  request.description = "a test notebook";
  request.definition = notebook_definition("{\"cells\":[]}");
  return request;
}

json item(const std::string& id, const std::string& name, const std::string& type = "Notebook") {
  return {{"id", id}, {"displayName", name}, {"type", type}, {"workspaceId", "ws-1"}};
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Pagination

TEST(FabricPages, FollowsContinuationUriVerbatim) {
  Harness h;
  h.script(
      {ok({{"value", {item("i1", "a")}},
           {"continuationToken", "a+b/c="},
           {"continuationUri", h.url(kItems + "?type=Notebook&continuationToken=a%2Bb%2Fc%3D")}}),
       ok({{"value", json::array()},  // an empty page is not the end
           {"continuationToken", "x:y#z"},
           {"continuationUri", h.url(kItems + "?continuationToken=x%3Ay%23z&type=Notebook")}}),
       ok({{"value", {item("i2", "b"), item("i3", "c")}}})});
  const json items = h.client().list_items("Notebook");
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0]["id"], "i1");
  EXPECT_EQ(items[2]["id"], "i3");
  EXPECT_EQ(h.lines(), (Lines{line("GET", kItems + "?type=Notebook"),
                              line("GET", kItems + "?type=Notebook&continuationToken=a%2Bb%2Fc%3D"),
                              line("GET", kItems + "?continuationToken=x%3Ay%23z&type=Notebook")}));
  // the bearer token of the Fabric scope on every request
  for (const auto& request : h.requests()) {
    EXPECT_NE(request.find("Authorization: Bearer tok-1\r\n"), std::string::npos);
  }
  EXPECT_EQ(h.credential->tokens_requested(), 1u);
  const auto token_request = h.tokens.last_request();
  EXPECT_EQ(h.tokens.request_lines().at(0), line("POST", "/tenant-1/oauth2/v2.0/token"));
  EXPECT_NE(token_request.find("grant_type=client_credentials"), std::string::npos);
  EXPECT_NE(token_request.find("scope=https%3A%2F%2Fapi.fabric.microsoft.com%2F.default"),
            std::string::npos);
}

TEST(FabricPages, EncodesTheContinuationTokenOnceWhenNoUriIsGiven) {
  Harness h;
  h.script({ok({{"value", {item("i1", "a")}}, {"continuationToken", "a+b/c=d#e:f"}}),
            ok({{"value", {item("i2", "b")}}, {"continuationToken", "%2B already"}}),
            ok({{"value", {item("i3", "c")}}})});
  EXPECT_EQ(h.client().list_items().size(), 3u);
  EXPECT_EQ(h.lines(), (Lines{line("GET", kItems),
                              line("GET", kItems + "?continuationToken=a%2Bb%2Fc%3Dd%23e%3Af"),
                              line("GET", kItems + "?continuationToken=%252B%20already")}));
  // after a filter the token joins the query with '&'
  h.script({ok({{"value", json::array()}, {"continuationToken", "t+1"}}),
            ok({{"value", json::array()}})});
  EXPECT_TRUE(h.client().list_items("Lakehouse").empty());
  const auto lines = h.lines();
  EXPECT_EQ(lines.at(lines.size() - 1),
            line("GET", kItems + "?type=Lakehouse&continuationToken=t%2B1"));
}

TEST(FabricPages, ARepeatedContinuationIsRefused) {
  Harness h;
  h.script({ok({{"value", {item("i1", "a")}}, {"continuationToken", "same"}})});
  try {
    h.client().list_items();
    FAIL() << "a repeated continuation was followed";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "malformed_response");
  }
  EXPECT_EQ(h.lines(),
            (Lines{line("GET", kItems), line("GET", kItems + "?continuationToken=same")}));

  // the same continuationUri twice
  Harness u;
  const std::string next = u.url(kItems + "?continuationToken=n");
  u.script({ok({{"value", json::array()}, {"continuationUri", next}})});
  EXPECT_THROW(u.client().list_items(), RemoteError);
  EXPECT_EQ(u.lines().size(), 2u);
}

TEST(FabricPages, AContinuationCycleIsRefusedAtTheFirstRepeat) {
  // A -> B -> A: the page behind A was read already; following it again would loop forever
  // against a server that keeps cycling
  Harness h;
  h.script({ok({{"value", {item("i1", "a")}}, {"continuationToken", "A"}}),
            ok({{"value", {item("i2", "b")}}, {"continuationToken", "B"}}),
            ok({{"value", {item("i3", "c")}}, {"continuationToken", "A"}}),
            ok({{"value", {item("i2", "b")}}, {"continuationToken", "B"}})});
  EXPECT_THROW(h.client().list_items(), RemoteError);
  EXPECT_EQ(h.lines(), (Lines{line("GET", kItems), line("GET", kItems + "?continuationToken=A"),
                              line("GET", kItems + "?continuationToken=B")}));
}

TEST(FabricPages, AForeignContinuationUriIsNotFollowedAndTablesAreListedUnderData) {
  ScriptedServer foreign({ok({{"value", json::array()}})});
  Harness h;
  h.script({ok({{"value", {item("i1", "a")}},
                {"continuationToken", "t/1"},
                {"continuationUri", foreign.url(kItems + "?continuationToken=t%2F1")}}),
            ok({{"value", {item("i2", "b")}}})});
  EXPECT_EQ(h.client().list_items().size(), 2u);
  EXPECT_EQ(foreign.requests(), 0);
  EXPECT_EQ(h.lines().back(), line("GET", kItems + "?continuationToken=t%2F1"));

  // lakehouse tables: keyed `data`, paged after maxResults
  h.script({ok({{"data", {{{"name", "t1"}, {"type", "Managed"}, {"format", "Delta"}}}},
                {"continuationToken", "p+2"}}),
            ok({{"data", {{{"name", "t2"}, {"type", "External"}, {"format", "Delta"}}}}})});
  const json tables = h.client().list_tables("lh-1");
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[1]["name"], "t2");
  const auto lines = h.lines();
  EXPECT_EQ(lines[lines.size() - 2],
            line("GET", "/v1/workspaces/ws-1/lakehouses/lh-1/tables?maxResults=100"));
  EXPECT_EQ(lines.back(), line("GET",
                               "/v1/workspaces/ws-1/lakehouses/lh-1/tables?maxResults=100"
                               "&continuationToken=p%2B2"));
  // a list answer without its list is malformed
  h.script({ok({{"items", json::array()}})});
  try {
    h.client().list_tables("lh-1");
    FAIL() << "a page without `data` was accepted";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "malformed_response");
  }
}

// ---------------------------------------------------------------------------------------
// Items and long-running operations

TEST(FabricItems, CreateAnswered201IsTheItemAndIsRecorded) {
  Harness h;
  h.script({answer(201, item("nb-1", "nb").dump())});
  auto request = notebook_request("nb");
  request.task_id = "task-1";
  const json created = h.client().create_item(request);
  EXPECT_EQ(created["id"], "nb-1");
  EXPECT_EQ(h.lines(), (Lines{line("POST", kItems)}));
  const json sent = json_body(h.requests().at(0));
  EXPECT_EQ(sent["displayName"], "nb");
  EXPECT_EQ(sent["type"], "Notebook");
  EXPECT_EQ(sent["description"], "a test notebook");
  EXPECT_EQ(sent["definition"]["format"], "ipynb");
  ASSERT_EQ(sent["definition"]["parts"].size(), 1u);
  EXPECT_EQ(sent["definition"]["parts"][0]["path"], "notebook-content.ipynb");
  EXPECT_EQ(sent["definition"]["parts"][0]["payloadType"], "InlineBase64");
  EXPECT_EQ(base64_decode(sent["definition"]["parts"][0]["payload"].get<std::string>()),
            "{\"cells\":[]}");
  EXPECT_NE(h.requests().at(0).find("Content-Type: application/json"), std::string::npos);
  const auto events = h.recorder->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].what, "resource");
  EXPECT_EQ(events[0].a, "task-1");
  EXPECT_EQ(events[0].b, "fabric");
  EXPECT_EQ(events[0].c, "notebook");
  EXPECT_EQ(events[0].d, "nb-1");
  EXPECT_TRUE(h.sleeps().empty());

  // bad input sends nothing
  ItemRequest nameless;
  nameless.type = "Notebook";
  EXPECT_THROW(h.client().create_item(nameless), InvalidArgumentError);
  EXPECT_EQ(h.lines().size(), 1u);
}

TEST(FabricItems, Create202FollowsTheOperationAtItsRetryAfterThenReadsTheResult) {
  Harness h;
  const std::string operation = h.url("/v1/operations/op-1");
  h.script({answer(202, "",
                   {{"Location", operation}, {"x-ms-operation-id", "op-1"}, {"Retry-After", "30"}}),
            answer(200, R"({"status":"NotStarted"})",
                   {{"Location", operation}, {"x-ms-operation-id", "op-1"}, {"Retry-After", "20"}}),
            answer(200, R"({"status":"Running","percentComplete":50})",
                   {{"Location", operation}, {"x-ms-operation-id", "op-1"}, {"Retry-After", "7"}}),
            answer(200, R"({"status":"Succeeded","percentComplete":100})",
                   {{"Location", h.url("/v1/operations/op-1/elsewhere-result")},
                    {"x-ms-operation-id", "op-1"}}),
            ok(item("nb-2", "nb"))});
  const json created = h.client().create_item(notebook_request("nb"));
  EXPECT_EQ(created["id"], "nb-2");
  EXPECT_EQ(h.lines(),
            (Lines{line("POST", kItems), line("GET", "/v1/operations/op-1"),
                   line("GET", "/v1/operations/op-1"), line("GET", "/v1/operations/op-1"),
                   line("GET", "/v1/operations/op-1/elsewhere-result")}));
  // Retry-After before the first poll, then each poll's own
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(30), seconds(20), seconds(7)}));
}

TEST(FabricItems, ALocationWithoutV1IsFollowedAsGivenAndTheResultDefaultsBelowIt) {
  Harness h;
  const std::string operation = h.url("/operations/op-2");
  h.script({answer(202, "", {{"Location", operation}, {"x-ms-operation-id", "op-2"}}),
            answer(200, R"({"status":"Running"})", {{"Location", operation}}),
            answer(200, R"({"status":"Succeeded"})"),  // no Location: the result sits below
            ok(item("nb-3", "nb"))});
  EXPECT_EQ(h.client().create_item(notebook_request("nb"))["id"], "nb-3");
  EXPECT_EQ(h.lines(),
            (Lines{line("POST", kItems), line("GET", "/operations/op-2"),
                   line("GET", "/operations/op-2"), line("GET", "/operations/op-2/result")}));
  // no Retry-After: 1 s before the first poll, then the doubling schedule
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(1), seconds(1)}));

  // only x-ms-operation-id: the operation under the API base
  h.script({answer(202, "", {{"x-ms-operation-id", "op-3"}, {"Retry-After", "2"}}),
            answer(200, R"({"status":"Succeeded"})",
                   {{"Location", h.url("/v1/operations/op-3/result")}}),
            ok(item("nb-4", "nb"))});
  EXPECT_EQ(h.client().create_item(notebook_request("nb"))["id"], "nb-4");
  const auto lines = h.lines();
  EXPECT_EQ(Lines(lines.end() - 3, lines.end()),
            (Lines{line("POST", kItems), line("GET", "/v1/operations/op-3"),
                   line("GET", "/v1/operations/op-3/result")}));

  // a 202 naming no operation at all
  h.script({answer(202, "")});
  try {
    h.client().create_item(notebook_request("nb"));
    FAIL() << "a 202 without an operation was accepted";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "malformed_response");
  }
}

TEST(FabricItems, AFailedOperationIsARemoteErrorWithItsErrorCode) {
  Harness h;
  const std::string operation = h.url("/v1/operations/op-4");
  h.script({answer(202, "",
                   {{"Location", operation}, {"x-ms-operation-id", "op-4"}, {"Retry-After", "5"}}),
            answer(200, R"({"status":"Running"})", {{"Location", operation}, {"Retry-After", "5"}}),
            ok({{"status", "Failed"},
                {"error",
                 {{"errorCode", "CorruptedPayload"},
                  {"message", "The part notebook-content.py does not match the format"},
                  {"requestId", "rq-op-4"}}}})});
  auto request = notebook_request("nb");
  request.task_id = "task-1";
  try {
    h.client().create_item(request);
    FAIL() << "a failed operation was a success";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "CorruptedPayload");
    EXPECT_EQ(e.details().at("request_id"), "rq-op-4");
    EXPECT_EQ(e.details().at("operation_id"), "op-4");
    EXPECT_NE(std::string(e.what()).find("does not match the format"), std::string::npos);
  }
  EXPECT_EQ(h.lines().size(), 3u);            // no result read
  EXPECT_TRUE(h.recorder->events().empty());  // nothing was created
}

TEST(FabricItems, AnOperationThatNeverEndsTimesOut) {
  Harness h;
  const std::string operation = h.url("/v1/operations/op-5");
  h.script(
      {answer(202, "", {{"Location", operation}, {"Retry-After", "20"}}),
       answer(200, R"({"status":"Running"})", {{"Location", operation}, {"Retry-After", "60"}})});
  EXPECT_THROW(h.client().update_definition("item-1", notebook_definition("x")),
               PlatformTimeoutError);
  Sleeps::value_type slept{0};
  for (const auto& s : h.sleeps()) slept += s;
  EXPECT_EQ(slept, seconds(600));  // the operation timeout, never more
}

TEST(FabricItems, ALocationOnAForeignOriginIsNotFollowedAndGetsNoToken) {
  ScriptedServer foreign({ok({{"status", "Succeeded"}})});
  Harness h;
  h.script({answer(202, "",
                   {{"Location", foreign.url("/v1/operations/op-6")},
                    {"x-ms-operation-id", "op-6"},
                    {"Retry-After", "1"}})});
  try {
    h.client().create_item(notebook_request("nb"));
    FAIL() << "a foreign Location was followed";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "foreign_location");
  }
  EXPECT_EQ(foreign.requests(), 0);
  EXPECT_EQ(h.lines(), (Lines{line("POST", kItems)}));

  // a result Location on a foreign origin (a look-alike: same host, another port)
  h.script({answer(202, "", {{"Location", h.url("/v1/operations/op-7")}, {"Retry-After", "1"}}),
            answer(200, R"({"status":"Succeeded"})",
                   {{"Location", foreign.url("/v1/operations/op-7/result")}})});
  const auto refused = [&] {
    try {
      h.client().create_item(notebook_request("nb"));
      ADD_FAILURE() << "a foreign Location was followed";
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), "foreign_location");
    }
  };
  refused();
  EXPECT_EQ(foreign.requests(), 0);
  EXPECT_EQ(h.lines().back(), line("GET", "/v1/operations/op-7"));
  // a userinfo trick is another origin too
  const std::string tricky = "http://127.0.0.1:" + h.url("").substr(h.url("").rfind(':') + 1) +
                             "@" + foreign.url("/v1/operations/op-8").substr(7);
  h.script({answer(202, "", {{"Location", tricky}, {"Retry-After", "1"}})});
  refused();
  EXPECT_EQ(foreign.requests(), 0);
}

TEST(FabricItems, AnExistingItemIsReusedWhenAsked) {
  const std::string in_use = "ItemDisplayNameAlreadyInUse";
  const json listing = {{"value", {item("other", "nb-x"), item("nb-7", "nb")}}};
  // reused, its definition replaced
  {
    Harness h;
    h.script({fabric_failure(400, in_use, "Requested 'nb' is already in use"), ok(listing),
              answer(200, "")});
    auto request = notebook_request("nb");
    request.reuse_existing = true;
    request.task_id = "task-1";
    EXPECT_EQ(h.client().create_item(request)["id"], "nb-7");
    EXPECT_EQ(h.lines(), (Lines{line("POST", kItems), line("GET", kItems + "?type=Notebook"),
                                line("POST", kItems + "/nb-7/updateDefinition")}));
    EXPECT_EQ(
        base64_decode(
            json_body(h.requests().at(2))["definition"]["parts"][0]["payload"].get<std::string>()),
        "{\"cells\":[]}");
    EXPECT_TRUE(h.recorder->events().empty());  // not created for the task
  }
  // reused as it is when no definition is given
  {
    Harness h;
    h.script({fabric_failure(400, in_use, "in use"), ok(listing)});
    auto request = notebook_request("nb");
    request.reuse_existing = true;
    request.definition.reset();
    EXPECT_EQ(h.client().create_item(request)["id"], "nb-7");
    EXPECT_EQ(h.lines(), (Lines{line("POST", kItems), line("GET", kItems + "?type=Notebook")}));
  }
  // not asked to reuse: the service's error
  {
    Harness h;
    h.script({fabric_failure(400, in_use, "in use")});
    try {
      h.client().create_item(notebook_request("nb"));
      FAIL() << "a taken name was accepted";
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), in_use);
      EXPECT_EQ(e.details().at("status"), 400);
    }
    EXPECT_EQ(h.lines().size(), 1u);
  }
  // the name is taken by an item that cannot be seen: the service's error
  {
    Harness h;
    h.script({fabric_failure(400, in_use, "in use"), ok({{"value", {item("other", "nb-x")}}})});
    auto request = notebook_request("nb");
    request.reuse_existing = true;
    try {
      h.client().create_item(request);
      FAIL() << "an invisible item was reused";
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), in_use);
    }
    // looked for five times, about a minute, in case its create was still running
    EXPECT_EQ(h.lines().size(), 6u);
    EXPECT_EQ(h.sleeps(), (Sleeps{seconds(2), seconds(4), seconds(8), seconds(16)}));
  }
  // a create of the same name still running elsewhere: found once it is listed
  {
    Harness h;
    h.script(
        {fabric_failure(400, in_use, "in use"), ok(json{{"value", json::array()}}), ok(listing)});
    auto request = notebook_request("nb");
    request.reuse_existing = true;
    request.definition.reset();
    EXPECT_EQ(h.client().create_item(request)["id"], "nb-7");
    EXPECT_EQ(h.sleeps(), (Sleeps{seconds(2)}));
  }
}

TEST(FabricItems, AReservedNameIsTriedAgainEachMinute) {
  Harness h;
  h.script({fabric_failure(400, "ItemDisplayNameNotAvailableYet", "reserved"),
            fabric_failure(400, "ItemDisplayNameNotAvailableYet", "reserved"),
            answer(201, R"({"id":"nb-1","displayName":"nb","type":"Notebook"})")});
  EXPECT_EQ(h.client().create_item(notebook_request("nb"))["id"], "nb-1");
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(60), seconds(60)}));

  Harness never;
  never.script({fabric_failure(400, "ItemDisplayNameNotAvailableYet", "reserved")});
  EXPECT_THROW(never.client().create_item(notebook_request("nb")), RemoteError);
  EXPECT_EQ(never.lines().size(), 7u);  // the first try and six more
}

TEST(FabricItems, UpdateDefinitionAnswered200Or202) {
  Harness h;
  h.script({answer(200, "")});
  h.client().update_definition("item-1", notebook_definition("print(1)"));
  EXPECT_EQ(h.lines(), (Lines{line("POST", kItems + "/item-1/updateDefinition")}));
  const json sent = json_body(h.requests().at(0));
  EXPECT_EQ(sent["definition"]["format"], "ipynb");
  EXPECT_EQ(sent["definition"]["parts"][0]["path"], "notebook-content.ipynb");
  EXPECT_EQ(sent["definition"]["parts"][0]["payload"], base64_encode("print(1)"));
  EXPECT_EQ(sent["definition"]["parts"][0]["payloadType"], "InlineBase64");

  const std::string operation = h.url("/v1/operations/op-9");
  h.script({answer(202, "",
                   {{"Location", operation}, {"x-ms-operation-id", "op-9"}, {"Retry-After", "3"}}),
            answer(200, R"({"status":"Running"})", {{"Location", operation}, {"Retry-After", "4"}}),
            answer(200, R"({"status":"Succeeded"})",
                   {{"Location", h.url("/v1/operations/op-9/result")}})});
  h.client().update_definition("item-1", notebook_definition("print(2)"));
  // no result is read for an update
  EXPECT_EQ(h.lines(),
            (Lines{line("POST", kItems + "/item-1/updateDefinition"),
                   line("POST", kItems + "/item-1/updateDefinition"),
                   line("GET", "/v1/operations/op-9"), line("GET", "/v1/operations/op-9")}));
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(3), seconds(4)}));

  h.script({answer(202, "", {{"Location", operation}, {"Retry-After", "1"}}),
            ok({{"status", "Failed"},
                {"error", {{"errorCode", "InvalidDefinition"}, {"message", "no"}}}})});
  try {
    h.client().update_definition("item-1", notebook_definition("print(3)"));
    FAIL() << "a failed update was a success";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "InvalidDefinition");
  }
  EXPECT_THROW(h.client().update_definition("", notebook_definition("x")), InvalidArgumentError);
}

TEST(FabricItems, GetDefinitionDecodesItsPartsAndRefusesBadBase64) {
  const std::string notebook = "{\"cells\":[],\"nbformat\":4}\n\xc3\xa9";
  const json definition = {{"definition",
                            {{"format", "ipynb"},
                             {"parts",
                              {{{"path", "notebook-content.ipynb"},
                                {"payload", base64_encode(notebook)},
                                {"payloadType", "InlineBase64"}},
                               {{"path", ".platform"},
                                {"payload", base64_encode("{}")},
                                {"payloadType", "InlineBase64"}}}}}}};
  Harness h;
  h.script({ok(definition)});
  const ItemDefinition got = h.client().get_definition("item-1", "ipynb");
  EXPECT_EQ(got.format, "ipynb");
  ASSERT_EQ(got.parts.size(), 2u);
  EXPECT_EQ(got.parts[0].first, "notebook-content.ipynb");
  EXPECT_EQ(got.parts[0].second, notebook);
  EXPECT_EQ(got.parts[1], (std::pair<std::string, std::string>{".platform", "{}"}));
  EXPECT_EQ(h.lines(), (Lines{line("POST", kItems + "/item-1/getDefinition?format=ipynb")}));

  // 202: the definition is the operation's result
  const std::string operation = h.url("/v1/operations/op-10");
  h.script({answer(202, "",
                   {{"Location", operation}, {"x-ms-operation-id", "op-10"}, {"Retry-After", "2"}}),
            answer(200, R"({"status":"Succeeded"})",
                   {{"Location", h.url("/v1/operations/op-10/result")}}),
            ok(definition)});
  EXPECT_EQ(h.client().get_definition("item-1").parts.at(0).second, notebook);
  const auto lines = h.lines();
  EXPECT_EQ(
      Lines(lines.end() - 3, lines.end()),
      (Lines{line("POST", kItems + "/item-1/getDefinition"), line("GET", "/v1/operations/op-10"),
             line("GET", "/v1/operations/op-10/result")}));

  for (const json& bad :
       {json{{"definition",
              {{"parts",
                {{{"path", "a.py"},
                  {"payload", "not base64!"},
                  {"payloadType", "InlineBase64"}}}}}}},
        json{{"definition", {{"parts", {{{"path", "a.py"}, {"payload", "Zh=="}}}}}}},
        json{{"definition", {{"format", "ipynb"}}}}, json{{"parts", json::array()}}}) {
    h.script({ok(bad)});
    try {
      h.client().get_definition("item-1");
      FAIL() << "accepted " << bad.dump();
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), "malformed_response") << bad.dump();
    }
  }
}

TEST(FabricItems, GetAndDeleteAnItem) {
  Harness h;
  h.script({ok(item("item-1", "nb")), answer(200, "")});
  EXPECT_EQ(h.client().get_item("item-1")["displayName"], "nb");
  h.client().delete_item("item-1");
  EXPECT_EQ(h.lines(),
            (Lines{line("GET", kItems + "/item-1"), line("DELETE", kItems + "/item-1")}));
  // an unclear failure of a delete is not repeated
  h.script({fabric_failure(500, "InternalError", "boom")});
  EXPECT_THROW(h.client().delete_item("item-1"), RemoteError);
  EXPECT_EQ(h.lines().size(), 3u);
  // ids are encoded into the path
  h.script({ok(item("a/b", "nb"))});
  h.client().get_item("a/b c");
  EXPECT_EQ(h.lines().back(), line("GET", kItems + "/a%2Fb%20c"));
  EXPECT_THROW(h.client().get_item(""), InvalidArgumentError);
}

// ---------------------------------------------------------------------------------------
// Tokens, throttling, errors

TEST(FabricCalls, AnExpiredTokenIsRenewedOnceAndTheRequestRepeated) {
  Harness h;
  h.script({fabric_failure(401, "TokenExpired", "Access token has expired"), ok(item("i1", "nb"))});
  EXPECT_EQ(h.client().get_item("i1")["id"], "i1");
  EXPECT_EQ(h.credential->tokens_requested(), 2u);
  const auto requests = h.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_NE(requests[0].find("Authorization: Bearer tok-1\r\n"), std::string::npos);
  EXPECT_NE(requests[1].find("Authorization: Bearer tok-2\r\n"), std::string::npos);
  // a create is repeated too: a 401 was not processed
  h.script({fabric_failure(401, "TokenExpired", "expired"), answer(201, item("i2", "nb").dump())});
  EXPECT_EQ(h.client().create_item(notebook_request("nb"))["id"], "i2");
  EXPECT_EQ(h.credential->tokens_requested(), 3u);
  EXPECT_NE(h.requests().back().find("Bearer tok-3\r\n"), std::string::npos);

  // refused again with the new token: AuthenticationError, one renewal only
  Harness g;
  g.script({fabric_failure(401, "TokenExpired", "expired", "rq-401")});
  try {
    g.client().get_item("i1");
    FAIL() << "a refused token was accepted";
  } catch (const AuthenticationError& e) {
    EXPECT_EQ(e.details().at("status"), 401);
    EXPECT_EQ(e.details().at("code"), "TokenExpired");
    EXPECT_EQ(e.details().at("request_id"), "rq-401");
  }
  EXPECT_EQ(g.lines().size(), 2u);
  EXPECT_EQ(g.credential->tokens_requested(), 2u);
}

TEST(FabricCalls, A429IsWaitedForThenSucceeds) {
  Harness h;
  const std::string throttled =
      answer(429, R"({"errorCode":"RequestBlocked","message":"throttled","isRetriable":true})",
             {{"Retry-After", "55"}, {"x-ms-public-api-error-code", "RequestBlocked"}});
  h.script({throttled, ok(item("i1", "nb"))});
  EXPECT_EQ(h.client().get_item("i1")["id"], "i1");
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(55)}));
  EXPECT_EQ(h.lines().size(), 2u);
  // a create is not repeated after unclear failures, but a 429 is waited for
  h.script({throttled, answer(201, item("i2", "nb").dump())});
  EXPECT_EQ(h.client().create_item(notebook_request("nb"))["id"], "i2");
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(55), seconds(55)}));
  // so is a job run
  h.script({throttled, answer(202, "", {{"Location", h.url(kItems + "/i1/jobs/instances/j1")}})});
  EXPECT_EQ(h.client().start_job("i1", "RunNotebook", json::object()).job_instance_id, "j1");
  EXPECT_EQ(h.sleeps().size(), 3u);
}

TEST(FabricCalls, ErrorsMapToTypedExceptions) {
  Harness h;
  // 404
  h.script({fabric_failure(404, "ItemNotFound", "The requested item was not found", "rq-404")});
  try {
    h.client().get_item("missing");
    FAIL();
  } catch (const NotFoundError& e) {
    EXPECT_EQ(e.details().at("code"), "ItemNotFound");
    EXPECT_EQ(e.details().at("request_id"), "rq-404");
    EXPECT_EQ(e.details().at("service"), "Fabric");
    EXPECT_NE(std::string(e.what()).find("rq-404"), std::string::npos);
  }
  // 403: no token renewal, no retry
  h.script({fabric_failure(403, "InsufficientPrivileges", "no")});
  try {
    h.client().list_lakehouses();
    FAIL();
  } catch (const AuthenticationError& e) {
    EXPECT_EQ(e.details().at("status"), 403);
    EXPECT_EQ(e.details().at("code"), "InsufficientPrivileges");
  }
  EXPECT_EQ(h.credential->tokens_requested(), 1u);
  // 400 with the code only in the header and the request id in the RequestId header
  h.script({answer(
      400, "", {{"x-ms-public-api-error-code", "InvalidItemType"}, {"RequestId", "rq-header"}})});
  try {
    h.client().get_lakehouse("lh-1");
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.code(), ErrorCode::remote);
    EXPECT_EQ(e.details().at("status"), 400);
    EXPECT_EQ(e.details().at("code"), "InvalidItemType");
    EXPECT_EQ(e.details().at("request_id"), "rq-header");
  }
  EXPECT_EQ(h.lines().back(), line("GET", "/v1/workspaces/ws-1/lakehouses/lh-1"));
  // 429 after every retry: RateLimitError carrying the wait asked for
  h.script({answer(429, R"({"errorCode":"TooManyRequests","message":"slow down"})",
                   {{"Retry-After", "2"}})});
  const auto before = h.lines().size();
  try {
    h.client().get_item("i1");
    FAIL();
  } catch (const RateLimitError& e) {
    EXPECT_EQ(e.details().at("retry_after"), 2.0);
    EXPECT_EQ(e.details().at("attempts"), 5);
    EXPECT_EQ(e.details().at("code"), "TooManyRequests");
  }
  EXPECT_EQ(h.lines().size() - before, 5u);
  EXPECT_EQ(h.sleeps(), (Sleeps(4, seconds(2))));
  // a wait longer than the policy allows is reported at once, not waited for
  h.script({answer(429, "", {{"Retry-After", "3600"}})});
  try {
    h.client().get_item("i1");
    FAIL();
  } catch (const RateLimitError& e) {
    EXPECT_EQ(e.details().at("retry_after"), 3600.0);
  }
  EXPECT_EQ(h.sleeps().size(), 4u);
  // a gateway's HTML page
  h.script({answer(502, "<html><body>Bad Gateway</body></html>")});
  try {
    h.client().get_item("i1");
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("status"), 502);
    EXPECT_EQ(e.details().at("code"), "");
    EXPECT_NE(std::string(e.what()).find("HTTP 502"), std::string::npos);
  }
  // 200 with malformed JSON
  h.script({answer(200, R"({"id":"i1","displayName":)")});
  try {
    h.client().get_item("i1");
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "malformed_response");
  }
  // the Entra secret never appears in what the client says
  h.script({fabric_failure(400, "Bad", "entra-secret-value leaked?")});
  try {
    h.client().get_item("i1");
    FAIL();
  } catch (const RemoteError& e) {
    EXPECT_EQ(std::string(e.what()).find("entra-secret-value"), std::string::npos);
  }
}

TEST(FabricErrors, EveryShapeGivesCodeMessageAndRequestId) {
  const auto error = [](long status, std::string body, HttpHeaders headers = {}) {
    return fabric_error(HttpResponse{status, std::move(headers), std::move(body)});
  };
  auto e = error(404, R"({"errorCode":"ItemNotFound","message":"The requested item was not found",
                         "requestId":"4f1a","isRetriable":false,"moreDetails":[]})",
                 HttpHeaders{{"x-ms-public-api-error-code", "Other"}, {"RequestId", "hdr"}});
  EXPECT_EQ(e.code, "ItemNotFound");  // the body first
  EXPECT_EQ(e.message, "The requested item was not found");
  EXPECT_EQ(e.request_id, "4f1a");
  e = error(401, "",
            HttpHeaders{{"x-ms-public-api-error-code", "TokenExpired"}, {"requestid", "rq-2"}});
  EXPECT_EQ(e.code, "TokenExpired");
  EXPECT_EQ(e.request_id, "rq-2");
  EXPECT_EQ(e.message, "HTTP 401");
  e = error(502, "<html><title>502 Bad Gateway</title></html>",
            HttpHeaders{{"x-ms-request-id", "rq-3"}});
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "HTTP 502");
  EXPECT_EQ(e.request_id, "rq-3");
  e = error(400, R"({"error":{"code":"InvalidRequest","message":"bad"}})");
  EXPECT_EQ(e.code, "InvalidRequest");
  EXPECT_EQ(e.message, "bad");
  e = error(500, R"(["not","an","object"])", HttpHeaders{{"x-ms-public-api-error-code", "X"}});
  EXPECT_EQ(e.code, "X");
  EXPECT_EQ(e.message, "HTTP 500");
}

// ---------------------------------------------------------------------------------------
// The job scheduler

TEST(FabricJobs, RunJobReadsTheInstanceIdFromLocation) {
  Harness h;
  h.script({answer(
      202, "",
      {{"Location", h.url(kItems + "/item-1/jobs/instances/job-1")}, {"Retry-After", "60"}})});
  const json data = {{"parameters", {{"p1", {{"value", "x"}, {"type", "string"}}}}}};
  const JobStart start = h.client().start_job("item-1", "RunNotebook", data, "task-1");
  EXPECT_EQ(start.job_instance_id, "job-1");
  EXPECT_EQ(start.first_poll, seconds(60));
  EXPECT_EQ(h.lines(),
            (Lines{line("POST", kItems + "/item-1/jobs/instances?jobType=RunNotebook")}));
  EXPECT_EQ(json_body(h.requests().at(0)), (json{{"executionData", data}}));
  const auto events = h.recorder->events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].c, "job");
  EXPECT_EQ(events[0].d, "job-1");

  // no execution data: no body; a Location with a query after the id
  h.script({answer(202, "",
                   {{"Location",
                     "https://api.fabric.microsoft.com/v1/workspaces/ws-1/items/item-1/"
                     "jobs/instances/job-2?beta=false"}})});
  const JobStart second = h.client().start_job("item-1", "Pipeline", json::object());
  EXPECT_EQ(second.job_instance_id, "job-2");
  EXPECT_EQ(second.first_poll, seconds(0));
  EXPECT_EQ(body_of(h.requests().back()), "");

  // the spec's defective Location without an instance id, and none at all
  for (const std::string& location :
       {h.url(kItems + "/item-1/jobs/instances?jobType=Execute"), std::string()}) {
    h.script({location.empty() ? answer(202, "")
                               : answer(202, "", {{"Location", location}, {"Retry-After", "60"}})});
    try {
      h.client().start_job("item-1", "Execute", json::object());
      FAIL() << "accepted Location '" << location << "'";
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), "malformed_response");
    }
  }
  // a start is not repeated after an unclear failure
  h.script({fabric_failure(500, "InternalError", "boom")});
  const auto before = h.lines().size();
  EXPECT_THROW(h.client().start_job("item-1", "RunNotebook", json::object()), RemoteError);
  EXPECT_EQ(h.lines().size(), before + 1);
  EXPECT_THROW(h.client().start_job("item-1", "", json::object()), InvalidArgumentError);
}

TEST(FabricJobs, WaitForJobHonoursFirstPollAndRetryAfter) {
  Harness h;
  const std::string instance = kItems + "/item-1/jobs/instances/job-1";
  h.script({answer(200, R"({"id":"job-1","status":"NotStarted"})", {{"Retry-After", "7"}}),
            ok({{"id", "job-1"}, {"status", "InProgress"}}),
            ok({{"id", "job-1"}, {"status", "InProgress"}}),
            ok({{"id", "job-1"}, {"status", "Completed"}, {"failureReason", nullptr}})});
  std::vector<std::string> seen;
  WaitOptions wait;
  wait.progress = [&](const json& j) { seen.push_back(j["status"]); };
  const json done = h.client().wait_for_job("item-1", "job-1", wait, seconds(60));
  EXPECT_EQ(done["status"], "Completed");
  EXPECT_EQ(seen,
            (std::vector<std::string>{"NotStarted", "InProgress", "InProgress", "Completed"}));
  // 60 s before the first poll, then the answer's Retry-After, then 2 s, 4 s (doubling)
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(60), seconds(7), seconds(2), seconds(4)}));
  EXPECT_EQ(h.lines(), Lines(4, line("GET", instance)));
}

TEST(FabricJobs, EveryTerminalStateEndsTheWait) {
  Harness h;
  for (const std::string status : {"Completed", "Failed", "Cancelled", "Deduped"}) {
    h.script({ok({{"status", "InProgress"}}), ok({{"status", status}})});
    WaitOptions wait;
    EXPECT_EQ(h.client().wait_for_job("item-1", "job-1", wait)["status"], status);
  }
  EXPECT_EQ(h.lines().size(), 8u);
  // no cancel was sent
  for (const auto& l : h.lines()) EXPECT_EQ(l.rfind("GET ", 0), 0u) << l;
}

TEST(FabricJobs, ATimeoutCancelsTheJobWhenAsked) {
  const std::string instance = kItems + "/item-1/jobs/instances/job-1";
  {
    Harness h;
    h.script({answer(200, R"({"status":"InProgress"})", {{"Retry-After", "20"}})});
    WaitOptions wait;
    wait.timeout = seconds(30);
    wait.cancel_on_timeout = true;
    EXPECT_THROW(h.client().wait_for_job("item-1", "job-1", wait), PlatformTimeoutError);
    // polls at 0 s and 20 s, a last look at the deadline (30 s), then the cancel
    EXPECT_EQ(h.lines(), (Lines{line("GET", instance), line("GET", instance), line("GET", instance),
                                line("POST", instance + "/cancel")}));
    EXPECT_EQ(h.sleeps(), (Sleeps{seconds(20), seconds(10)}));  // never past the deadline
  }
  {
    Harness h;
    h.script({ok({{"status", "InProgress"}})});
    WaitOptions wait;
    wait.timeout = seconds(30);
    EXPECT_THROW(h.client().wait_for_job("item-1", "job-1", wait), PlatformTimeoutError);
    for (const auto& l : h.lines()) EXPECT_EQ(l, line("GET", instance));
  }
}

TEST(FabricJobs, CancellationCancelsTheJob) {
  Harness h;
  const std::string instance = kItems + "/item-1/jobs/instances/job-1";
  h.script({ok({{"status", "InProgress"}}),
            answer(202, "", {{"Location", h.url(instance)}, {"Retry-After", "5"}})});
  int polls = 0;
  WaitOptions wait;
  wait.progress = [&](const json&) { ++polls; };
  wait.cancelled = [&] { return polls >= 1; };
  EXPECT_THROW(h.client().wait_for_job("item-1", "job-1", wait), CancelledError);
  EXPECT_EQ(h.lines(), (Lines{line("GET", instance), line("POST", instance + "/cancel")}));
}

TEST(FabricJobs, RaiseForJobStatus) {
  EXPECT_NO_THROW(raise_for_job_status(json{{"id", "j1"}, {"status", "Completed"}}, "item-1"));
  try {
    raise_for_job_status(json{{"id", "j1"},
                              {"status", "Failed"},
                              {"failureReason",
                               {{"errorCode", "JobInstanceStatusFailed"},
                                {"message", "boom"},
                                {"requestId", "rq-9"}}}},
                         "item-1");
    FAIL() << "a failed job passed";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "JobInstanceStatusFailed");
    EXPECT_EQ(e.details().at("request_id"), "rq-9");
    EXPECT_EQ(e.details().at("job_instance_id"), "j1");
    EXPECT_EQ(e.details().at("item_id"), "item-1");
    EXPECT_EQ(e.details().at("job_status"), "Failed");
    EXPECT_NE(std::string(e.what()).find("boom"), std::string::npos);
  }
  for (const std::string status : {"Failed", "Cancelled", "Deduped", "InProgress", ""}) {
    try {
      raise_for_job_status(json{{"id", "j1"}, {"status", status}, {"failureReason", nullptr}},
                           "item-1");
      FAIL() << status;
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), status);
      EXPECT_EQ(e.details().at("job_status"), status);
    }
  }
}

TEST(FabricJobs, CancelJobIgnoresAJobThatHasEnded) {
  Harness h;
  const std::string cancel = kItems + "/item-1/jobs/instances/job-1/cancel";
  h.script({answer(202, "", {{"Location", h.url(kItems + "/item-1/jobs/instances/job-1")}}),
            fabric_failure(400, "JobAlreadyCompleted", "The job instance has already completed"),
            fabric_failure(400, "InvalidJobInstanceId", "no")});
  h.client().cancel_job("item-1", "job-1");
  h.client().cancel_job("item-1", "job-1");
  try {
    h.client().cancel_job("item-1", "job-1");
    FAIL() << "another refusal was ignored";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "InvalidJobInstanceId");
  }
  EXPECT_EQ(h.lines(), Lines(3, line("POST", cancel)));
  EXPECT_THROW(h.client().cancel_job("item-1", ""), InvalidArgumentError);
}

TEST(FabricJobs, ListJobInstancesFollowsPages) {
  Harness h;
  h.script(
      {ok({{"value", {{{"id", "j1"}, {"status", "Completed"}}}}, {"continuationToken", "c=1"}}),
       ok({{"value", {{{"id", "j2"}, {"status", "Failed"}}}}})});
  const json instances = h.client().list_job_instances("item-1");
  ASSERT_EQ(instances.size(), 2u);
  EXPECT_EQ(instances[1]["id"], "j2");
  EXPECT_EQ(h.lines(),
            (Lines{line("GET", kItems + "/item-1/jobs/instances"),
                   line("GET", kItems + "/item-1/jobs/instances?continuationToken=c%3D1")}));
}

// ---------------------------------------------------------------------------------------
// Notebooks

namespace {

std::string joined(const json& source) {
  std::string out;
  for (const auto& piece : source) out += piece.get<std::string>();
  return out;
}

}  // namespace

TEST(FabricNotebookIpynb, PythonWithParametersAndALakehouse) {
  const json parameters = {{"n", {{"value", 3}, {"type", "int"}}},
                           {"flag", {{"value", true}, {"type", "bool"}}},
                           {"rate", {{"value", 0.5}, {"type", "float"}}},
                           {"s", {{"value", "x"}, {"type", "string"}}}};
  const std::string code = "x = n * 2\nprint(x)\n";
  const json nb = json::parse(notebook_ipynb(code, "python", parameters, "lh-1", "ws-1"));
  EXPECT_EQ(nb["nbformat"], 4);
  EXPECT_TRUE(nb["nbformat_minor"].is_number_integer());
  EXPECT_EQ(nb["metadata"]["language_info"]["name"], "python");
  EXPECT_EQ(nb["metadata"]["kernel_info"]["name"], "synapse_pyspark");
  ASSERT_EQ(nb["cells"].size(), 2u);
  const json& declared = nb["cells"][0];
  EXPECT_EQ(declared["cell_type"], "code");
  EXPECT_EQ(declared["metadata"]["tags"], json::array({"parameters"}));
  EXPECT_EQ(joined(declared["source"]), "flag = False\nn = 0\nrate = 0.0\ns = \"\"\n");
  const json& cell = nb["cells"][1];
  EXPECT_EQ(cell["cell_type"], "code");
  EXPECT_EQ(joined(cell["source"]), code);
  EXPECT_EQ(cell["source"][0], "x = n * 2\n");  // lines keep their newline
  EXPECT_TRUE(cell["outputs"].is_array());
  EXPECT_TRUE(cell["execution_count"].is_null());
  EXPECT_EQ(cell["metadata"]["microsoft"]["language"], "python");
  const json& lakehouse = nb["metadata"]["trident"]["lakehouse"];
  EXPECT_EQ(lakehouse["default_lakehouse"], "lh-1");
  EXPECT_EQ(lakehouse["default_lakehouse_workspace_id"], "ws-1");
  EXPECT_EQ(lakehouse["known_lakehouses"], json::array({{{"id", "lh-1"}}}));
}

TEST(FabricNotebookIpynb, SqlScalaAndRUseTheirMagic) {
  const json sql = json::parse(notebook_ipynb("SELECT 1", "sql", json::object(), "", "ws-1"));
  EXPECT_EQ(sql["metadata"]["language_info"]["name"], "sql");
  EXPECT_FALSE(sql["metadata"].contains("trident"));
  ASSERT_EQ(sql["cells"].size(), 1u);
  EXPECT_EQ(sql["cells"][0]["source"][0], "%%sql\n");
  EXPECT_EQ(joined(sql["cells"][0]["source"]), "%%sql\nSELECT 1");
  EXPECT_EQ(sql["cells"][0]["metadata"]["microsoft"]["language"], "sparksql");
  const json scala = json::parse(notebook_ipynb("val x = 1", "scala", json::object(), "", ""));
  EXPECT_EQ(scala["metadata"]["language_info"]["name"], "scala");
  EXPECT_EQ(joined(scala["cells"][0]["source"]), "%%spark\nval x = 1");
  const json r = json::parse(notebook_ipynb("x <- 1", "r", json::object(), "", ""));
  EXPECT_EQ(r["metadata"]["language_info"]["name"], "r");
  EXPECT_EQ(joined(r["cells"][0]["source"]), "%%sparkr\nx <- 1");
  const json python = json::parse(notebook_ipynb("print(1)", "python", json::object(), "", ""));
  ASSERT_EQ(python["cells"].size(), 1u);  // no parameters, no parameters cell
  EXPECT_EQ(joined(python["cells"][0]["source"]), "print(1)");
}

TEST(FabricNotebookIpynb, RefusesWhatItCannotWrite) {
  const json none = json::object();
  EXPECT_THROW(notebook_ipynb("x", "cobol", none, "", ""), InvalidArgumentError);
  EXPECT_THROW(notebook_ipynb("x", "Python", none, "", ""), InvalidArgumentError);
  EXPECT_THROW(notebook_ipynb(" \n\t", "python", none, "", ""), InvalidArgumentError);
  for (const std::string name : {"1x", "a-b", "", "x y", "a;import os"}) {
    EXPECT_THROW(
        notebook_ipynb("x", "python", json{{name, {{"value", 1}, {"type", "int"}}}}, "", ""),
        InvalidArgumentError)
        << name;
  }
  const json parameters = {{"n", {{"value", 1}, {"type", "int"}}}};
  EXPECT_THROW(notebook_ipynb("SELECT 1", "sql", parameters, "", ""), InvalidArgumentError);
  EXPECT_THROW(notebook_ipynb("val x = 1", "scala", parameters, "", ""), InvalidArgumentError);
  EXPECT_THROW(notebook_ipynb("x", "python", json{{"n", {{"value", 1}, {"type", "list"}}}}, "", ""),
               InvalidArgumentError);
  EXPECT_THROW(notebook_ipynb("x", "python", json{{"n", 1}}, "", ""), InvalidArgumentError);
  EXPECT_THROW(notebook_ipynb("x", "python", json::array({"n"}), "", ""), InvalidArgumentError);
}

namespace {

NotebookRun python_run() {
  NotebookRun run;
  run.code = "x = n * 2\nnotebookutils.notebook.exit(str(x))\n";
  run.parameters = {{"n", {{"value", 21}, {"type", "int"}}}};
  run.task_id = "task-1";
  return run;
}

}  // namespace

TEST(FabricRunNotebook, CreatesRunsWaitsAndReadsTheExitValue) {
  Harness h("lh-1");
  const std::string instance = kItems + "/nb-1/jobs/instances/job-1";
  h.script({answer(201, item("nb-1", "whatever").dump()),
            answer(202, "", {{"Location", h.url(instance)}, {"Retry-After", "60"}}),
            answer(200, R"({"id":"job-1","status":"NotStarted"})", {{"Retry-After", "5"}}),
            ok({{"id", "job-1"}, {"status", "InProgress"}}),
            ok({{"id", "job-1"}, {"status", "Completed"}, {"failureReason", nullptr}}),
            ok({{"id", "job-1"},
                {"status", "Completed"},
                {"properties", {{"exitValue", "42"}, {"compute", "Spark"}}}})});
  const NotebookRun run = python_run();
  const JobResult result = h.client().run_notebook(run);
  EXPECT_EQ(result.item_id, "nb-1");
  EXPECT_EQ(result.job_instance_id, "job-1");
  EXPECT_EQ(result.status, "Completed");
  ASSERT_TRUE(result.exit_value);
  EXPECT_EQ(*result.exit_value, "42");
  EXPECT_EQ(result.instance["status"], "Completed");
  EXPECT_EQ(h.lines(), (Lines{line("POST", kItems),
                              line("POST", kItems + "/nb-1/jobs/instances?jobType=RunNotebook"),
                              line("GET", instance), line("GET", instance), line("GET", instance),
                              line("GET",
                                   "/v1/workspaces/ws-1/notebooks/nb-1/jobs/execute/instances/job-1"
                                   "?beta=true")}));
  EXPECT_EQ(h.sleeps(), (Sleeps{seconds(60), seconds(5), seconds(2)}));

  // the notebook: named after its content, the ipynb inline
  const std::string content = notebook_ipynb(run.code, "python", run.parameters, "lh-1", "ws-1");
  const json created = json_body(h.requests().at(0));
  EXPECT_EQ(created["displayName"], "aadap-" + sha256_hex(content).substr(0, 16) + "-python");
  EXPECT_EQ(created["type"], "Notebook");
  EXPECT_EQ(created["definition"]["format"], "ipynb");
  ASSERT_EQ(created["definition"]["parts"].size(), 1u);
  EXPECT_EQ(created["definition"]["parts"][0]["path"], "notebook-content.ipynb");
  EXPECT_EQ(base64_decode(created["definition"]["parts"][0]["payload"].get<std::string>()),
            content);
  // the run: parameter values and the default lakehouse
  const json started = json_body(h.requests().at(1));
  EXPECT_EQ(started["executionData"]["parameters"], run.parameters);
  // the default lakehouse is bound in the notebook's metadata, not the run's configuration
  EXPECT_FALSE(started["executionData"].contains("configuration"));

  // recorded: the execution, the notebook, the job
  const auto events = h.recorder->events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].what, "start");
  EXPECT_EQ(events[0].a, "task-1");
  EXPECT_EQ(events[1].c, "notebook");
  EXPECT_EQ(events[1].d, "nb-1");
  EXPECT_EQ(events[2].c, "job");
  EXPECT_EQ(events[2].d, "job-1");
  EXPECT_EQ(events[3].what, "finish");
  EXPECT_EQ(events[3].b, "SUCCESS");
  EXPECT_EQ(json::parse(events[3].c)["exit_value"], "42");
}

TEST(FabricRunNotebook, TheExitValueOfTheGenericAnswerNeedsNoBetaCall) {
  Harness h;
  const std::string instance = kItems + "/nb-1/jobs/instances/job-1";
  h.script({answer(201, item("nb-1", "x").dump()), answer(202, "", {{"Location", h.url(instance)}}),
            ok({{"status", "Completed"}, {"exitValue", "top"}})});
  NotebookRun run;
  run.code = "print(1)";
  const JobResult result = h.client().run_notebook(run);
  EXPECT_EQ(result.exit_value, "top");
  EXPECT_EQ(h.lines().size(), 3u);
  // no lakehouse, no parameters: no execution data at all
  EXPECT_EQ(body_of(h.requests().at(1)), "");

  // the beta view missing: no exit value, still a success
  Harness g;
  g.script({answer(201, item("nb-1", "x").dump()), answer(202, "", {{"Location", g.url(instance)}}),
            ok({{"status", "Completed"}}), fabric_failure(404, "EntityNotFound", "no")});
  EXPECT_FALSE(g.client().run_notebook(run).exit_value);
  EXPECT_EQ(g.lines().size(), 4u);
}

TEST(FabricRunNotebook, AFailedRunCarriesTheFailureReason) {
  Harness h;
  const std::string instance = kItems + "/nb-1/jobs/instances/job-1";
  h.script({answer(201, item("nb-1", "x").dump()),
            answer(202, "", {{"Location", h.url(instance)}, {"Retry-After", "1"}}),
            ok({{"id", "job-1"},
                {"status", "Failed"},
                {"failureReason",
                 {{"errorCode", "JobInstanceStatusFailed"},
                  {"message", "NameError: name 'y' is not defined"},
                  {"requestId", "rq-job"}}}})});
  try {
    h.client().run_notebook(python_run());
    FAIL() << "a failed run was a success";
  } catch (const RemoteError& e) {
    EXPECT_EQ(e.details().at("code"), "JobInstanceStatusFailed");
    EXPECT_EQ(e.details().at("job_status"), "Failed");
    EXPECT_EQ(e.details().at("request_id"), "rq-job");
    EXPECT_EQ(e.details().at("job_instance_id"), "job-1");
    EXPECT_EQ(e.details().at("item_id"), "nb-1");
    EXPECT_NE(std::string(e.what()).find("NameError: name 'y' is not defined"), std::string::npos);
  }
  EXPECT_EQ(h.lines().size(), 3u);  // no exit value asked, nothing cancelled
  const auto events = h.recorder->events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().what, "finish");
  EXPECT_EQ(events.back().b, "FAILED");

  // Cancelled and Deduped are failures too, coded by their status
  for (const std::string status : {"Cancelled", "Deduped"}) {
    h.script({answer(201, item("nb-1", "x").dump()),
              answer(202, "", {{"Location", h.url(instance)}}), ok({{"status", status}})});
    try {
      h.client().run_notebook(python_run());
      FAIL() << status;
    } catch (const RemoteError& e) {
      EXPECT_EQ(e.details().at("code"), status);
    }
  }
}

TEST(FabricRunNotebook, ATimeoutOrCancellationCancelsTheRun) {
  const std::string instance = kItems + "/nb-1/jobs/instances/job-1";
  {
    Harness h;
    h.script({answer(201, item("nb-1", "x").dump()),
              answer(202, "", {{"Location", h.url(instance)}, {"Retry-After", "10"}}),
              answer(200, R"({"status":"InProgress"})", {{"Retry-After", "10"}})});
    NotebookRun run = python_run();
    run.wait.timeout = seconds(30);  // cancel_on_timeout is implied
    EXPECT_THROW(h.client().run_notebook(run), PlatformTimeoutError);
    EXPECT_EQ(h.lines().back(), line("POST", instance + "/cancel"));
    EXPECT_EQ(h.recorder->events().back().b, "FAILED");
  }
  {
    Harness h;
    h.script({answer(201, item("nb-1", "x").dump()),
              answer(202, "", {{"Location", h.url(instance)}}), ok({{"status", "InProgress"}}),
              answer(202, "", {{"Location", h.url(instance)}})});
    NotebookRun run = python_run();
    int polls = 0;
    run.wait.progress = [&](const json&) { ++polls; };
    run.wait.cancelled = [&] { return polls >= 1; };
    EXPECT_THROW(h.client().run_notebook(run), CancelledError);
    EXPECT_EQ(h.lines().back(), line("POST", instance + "/cancel"));
    EXPECT_EQ(h.recorder->events().back().b, "CANCELLED");
  }
}

TEST(FabricRunNotebook, ANamedNotebookIsReusedWithTheNewCode) {
  Harness h;
  const std::string instance = kItems + "/nb-9/jobs/instances/job-9";
  h.script({fabric_failure(400, "ItemDisplayNameAlreadyInUse", "in use"),
            ok({{"value", {item("nb-9", "my-notebook")}}}), answer(200, ""),
            answer(202, "", {{"Location", h.url(instance)}}), ok({{"status", "Completed"}}),
            ok({{"status", "Completed"}, {"properties", {{"exitValue", nullptr}}}})});
  NotebookRun run;
  run.code = "print(2)";
  run.notebook_name = "my-notebook";
  const JobResult result = h.client().run_notebook(run);
  EXPECT_EQ(result.item_id, "nb-9");
  EXPECT_FALSE(result.exit_value);  // a notebook that never called exit
  EXPECT_EQ(h.lines(), (Lines{line("POST", kItems), line("GET", kItems + "?type=Notebook"),
                              line("POST", kItems + "/nb-9/updateDefinition"),
                              line("POST", kItems + "/nb-9/jobs/instances?jobType=RunNotebook"),
                              line("GET", instance),
                              line("GET",
                                   "/v1/workspaces/ws-1/notebooks/nb-9/jobs/execute/instances/job-9"
                                   "?beta=true")}));
  EXPECT_EQ(json_body(h.requests().at(0))["displayName"], "my-notebook");
}

TEST(FabricRunNotebook, BadInputSendsNothing) {
  Harness h("lh-1");
  NotebookRun run;
  run.code = "print(1)";
  run.language = "cobol";
  EXPECT_THROW(h.client().run_notebook(run), InvalidArgumentError);
  run.language = "sql";
  run.code = "SELECT 1";
  run.parameters = {{"n", {{"value", 1}, {"type", "int"}}}};
  EXPECT_THROW(h.client().run_notebook(run), InvalidArgumentError);
  run.language = "python";
  run.code = "print(1)";
  run.parameters = {{"not a name", {{"value", 1}, {"type", "int"}}}};
  EXPECT_THROW(h.client().run_notebook(run), InvalidArgumentError);
  EXPECT_EQ(h.api.requests(), 0);
  EXPECT_EQ(h.tokens.requests(), 0);
}

TEST(FabricClientConfig, RefusesWhatCannotWork) {
  auto transport = std::make_shared<HttpTransport>();
  ManualTime time;
  const std::shared_ptr<const Clock> clock(&time, [](const Clock*) {});
  EntraConfig entra;
  entra.tenant_id = "t";
  entra.client_id = "c";
  entra.client_secret = Secret("s");
  auto credential = std::make_shared<EntraCredential>(transport, entra, clock, time);
  FabricConfig config;
  config.api_base = "api.fabric.microsoft.com/v1";
  EXPECT_THROW(FabricClient(config, transport, credential, nullptr, clock, time),
               ConfigurationError);
  config.api_base = "https://api.fabric.microsoft.com/v1/";
  EXPECT_THROW(FabricClient(config, nullptr, credential, nullptr, clock, time), ConfigurationError);
  FabricClient no_workspace(config, transport, credential, nullptr, clock, time);
  EXPECT_EQ(no_workspace.config().api_base, "https://api.fabric.microsoft.com/v1");
  EXPECT_THROW(no_workspace.list_items(), ConfigurationError);
}
