#include "aadap/platforms/databricks.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/platforms/execution_record.hpp"
#include "aadap/platforms/service_error.hpp"

#include <algorithm>
#include <random>
#include <set>

namespace aadap::platforms {

namespace {

using nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.databricks");
  return instance;
}

constexpr const char* kService = "Databricks";

std::string text_of(const json& object, const char* key) {
  const auto found = object.find(key);
  if (found == object.end()) return {};
  if (found->is_string()) return found->get<std::string>();
  if (found->is_number()) return found->dump();
  return {};
}

/// The text between `open` and `close` in an HTML body, tags stripped.
std::string html_text(const std::string& body, const std::string& open, const std::string& close) {
  const auto start = body.find(open);
  if (start == std::string::npos) return {};
  const auto end = body.find(close, start + open.size());
  std::string inner =
      body.substr(start + open.size(),
                  end == std::string::npos ? std::string::npos : end - start - open.size());
  std::string out;
  bool tag = false;
  for (const char c : inner) {
    if (c == '<') tag = true;
    if (!tag) out += c;
    if (c == '>') tag = false;
  }
  const auto first = out.find_first_not_of(" \r\n\t");
  if (first == std::string::npos) return {};
  return out.substr(first, out.find_last_not_of(" \r\n\t") - first + 1);
}

double random_unit() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

/// The wait before poll `k` of a statement: 100 ms doubling up to 10 s, less up to 25% jitter
/// (a quick statement is seen finished within ~100 ms; a long one is asked every 10 s).
std::chrono::milliseconds poll_delay(int k) {
  return doubling_delay(k, std::chrono::milliseconds(100), std::chrono::seconds(10), 0.25,
                        random_unit());
}

/// The end (one past the ']') of the JSON array starting at text[begin] == '['; npos when it
/// does not end.
std::size_t array_end(const std::string& text, std::size_t begin) {
  int depth = 0;
  for (std::size_t i = begin; i < text.size();) {
    i = text.find_first_of("[]\"", i);
    if (i == std::string::npos) return i;
    if (text[i] == '"') {
      for (++i;; ++i) {  // to the closing quote, skipping escaped characters
        i = text.find_first_of("\"\\", i);
        if (i == std::string::npos) return i;
        if (text[i] == '\\') {
          ++i;
          continue;
        }
        break;
      }
      ++i;
      continue;
    }
    depth += text[i] == '[' ? 1 : -1;
    ++i;
    if (depth == 0) return i;
  }
  return std::string::npos;
}

bool terminal(const std::string& state) {
  return state == "SUCCEEDED" || state == "FAILED" || state == "CANCELED" || state == "CLOSED";
}

}  // namespace

DatabricksClient::Answer DatabricksClient::split_rows(std::string text, const std::string& action) {
  // `"data_array"` with its quotes cannot occur inside a JSON string (quotes are escaped there)
  const auto key = text.find("\"data_array\"");
  if (key == std::string::npos) return {parse_service_json(text, kService, action, 200), {}};
  std::size_t begin = text.find_first_not_of(" \t\r\n", key + 12);
  if (begin != std::string::npos && text[begin] == ':') {
    begin = text.find_first_not_of(" \t\r\n", begin + 1);
  }
  const std::size_t end =
      begin != std::string::npos && text[begin] == '[' ? array_end(text, begin) : std::string::npos;
  if (end == std::string::npos) return {parse_service_json(text, kService, action, 200), {}};
  Answer answer;
  answer.rows = text.substr(begin, end - begin);
  text.replace(begin, end - begin, "[]");
  answer.body = parse_service_json(text, kService, action, 200);
  return answer;
}

std::pair<std::string, std::string> databricks_error(const HttpResponse& response) {
  const std::string& body = response.body;
  const auto parsed = json::parse(body, nullptr, false);
  if (parsed.is_object()) {
    std::string code = text_of(parsed, "error_code");
    std::string message = text_of(parsed, "message");
    if (message.empty()) message = text_of(parsed, "error");  // API 1.2: {"error": "..."}
    if (!code.empty() || !message.empty()) return {code, message};
  }
  std::string text = html_text(body, "<pre>", "</pre>");
  if (text.empty()) text = html_text(body, "<title>", "</title>");
  if (text.empty() && body.find('<') == std::string::npos) text = body.substr(0, 300);
  // "ERROR_CODE: message"
  if (const auto colon = text.find(": ");
      colon != std::string::npos && colon > 0 &&
      std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
      })) {
    return {text.substr(0, colon), text.substr(colon + 2)};
  }
  if (!text.empty()) return {"", text};
  return {"", response.headers.get("X-Databricks-Reason-Phrase")
                  .value_or("HTTP " + std::to_string(response.status))};
}

DatabricksClient::DatabricksClient(DatabricksConfig config,
                                   std::shared_ptr<const HttpTransport> transport,
                                   std::shared_ptr<ResourceRecorder> recorder,
                                   std::shared_ptr<const Clock> clock, Sleeper& sleeper)
    : config_(std::move(config)),
      transport_(std::move(transport)),
      recorder_(std::move(recorder)),
      clock_(std::move(clock)),
      sleeper_(sleeper) {
  if (!config_.auth.tokens) {
    throw ConfigurationError("a Databricks client needs credentials (resolve_databricks_auth)");
  }
  config_.retry.validate();
}

std::string DatabricksClient::call_text(const std::string& method, const std::string& path,
                                        const json& body, const std::string& correlation_id,
                                        bool retriable, const CancelCheck& cancelled) const {
  const Retrier retrier(*transport_, config_.retry, *clock_, sleeper_);
  const std::string payload =
      body.is_null() ? std::string() : body.dump(-1, ' ', false, json::error_handler_t::replace);
  const auto prepare = [&](int) {
    HttpRequest r;
    r.method = method;
    r.url = config_.auth.host + path;
    r.headers = {{"Accept", "application/json"},
                 {"Authorization",
                  "Bearer " + config_.auth.tokens->token(correlation_id, cancelled).reveal()}};
    if (!payload.empty()) r.headers.add("Content-Type", "application/json");
    r.body = payload;
    r.correlation_id = correlation_id;
    r.timeout = config_.request_timeout;
    return r;
  };
  auto result = retrier.send(prepare, retriable, cancelled);
  if (result.response.status == 401 || result.response.status == 403) {
    // an expired or revoked OAuth token: one new token, one more try (a PAT stays refused)
    config_.auth.tokens->invalidate();
    if (config_.auth.tokens->method() != "pat") {
      const int before = result.attempts;
      result = retrier.send(prepare, retriable, cancelled);
      result.attempts += before;
    }
  }
  const std::string action = method + " " + path;
  if (result.response.status >= 300) {
    auto [code, message] = databricks_error(result.response);
    throw_service_error(ServiceError{kService, action, result.response.status, code, message,
                                     result.response.headers.get("x-request-id").value_or(""),
                                     result.refused_server_delay
                                         ? result.refused_server_delay
                                         : server_delay(result.response.headers),
                                     result.attempts});
  }
  return std::move(result.response.body);
}

json DatabricksClient::call(const std::string& method, const std::string& path, const json& body,
                            const std::string& correlation_id, bool retriable,
                            const CancelCheck& cancelled) const {
  const std::string text = call_text(method, path, body, correlation_id, retriable, cancelled);
  if (text.empty()) return json::object();
  json answer = parse_service_json(text, kService, method + " " + path, 200);
  if (!answer.is_object()) {
    throw RemoteError(
        "Databricks answered the " + method + " " + path + " with JSON that is not an object",
        {{"code", "malformed_response"}, {"service", kService}});
  }
  return answer;
}

json DatabricksClient::list_pages(const std::string& path, const char* key,
                                  const std::string& correlation_id) const {
  json items = json::array();
  const char separator = path.find('?') == std::string::npos ? '?' : '&';
  std::string token;
  std::set<std::string> seen;
  for (;;) {
    const json page =
        call("GET", token.empty() ? path : path + separator + "page_token=" + percent_encode(token),
             json(), correlation_id, true);
    if (const auto found = page.find(key); found != page.end() && found->is_array()) {
      for (const auto& item : *found) items.push_back(item);
    }
    const auto next = page.find("next_page_token");
    const auto more = page.find("has_more");  // jobs say has_more; other lists only the token
    if (next == page.end() || !next->is_string() || next->empty() ||
        (more != page.end() && more->is_boolean() && !more->get<bool>())) {
      return items;
    }
    if (!seen.insert(next->get<std::string>()).second) {  // going round in circles
      throw RemoteError("Databricks answered the same page token twice for " + path,
                        {{"code", "malformed_response"}, {"service", kService}});
    }
    token = next->get<std::string>();
  }
}

void DatabricksClient::cancel_statement(const std::string& statement_id,
                                        const std::string& correlation_id) const {
  try {
    call("POST", "/api/2.0/sql/statements/" + percent_encode(statement_id) + "/cancel", json(),
         correlation_id, true);  // cancelling twice is harmless
    logger().info("databricks.statement_cancelled", correlation_id,
                  log::kv("statement_id", statement_id));
  } catch (const Error& error) {
    logger().warning("databricks.cancel_failed", correlation_id,
                     log::kv("statement_id", statement_id), log::kv("error", error.what()));
  }
}

void DatabricksClient::take_chunk(const json& chunk, const std::string& rows, SqlResultTable& table,
                                  const std::string& statement_id,
                                  const std::string& correlation_id,
                                  const CancelCheck& cancelled) const {
  const std::string what = "statement " + statement_id;
  if (!rows.empty()) {  // inline rows, cut out of the answer unparsed (split_rows)
    table.append_json_rows(rows, what);
    return;
  }
  const auto links = chunk.find("external_links");
  if (links == chunk.end()) return;  // a chunk without rows (an empty result)
  if (!links->is_array()) {
    throw RemoteError("the external_links of " + what + " are not an array",
                      {{"code", "malformed_response"}});
  }
  const Retrier retrier(*transport_, config_.retry, *clock_, sleeper_);
  for (const auto& link : *links) {
    const std::string url = link.is_object() ? text_of(link, "external_link") : std::string();
    if (url.empty()) {
      throw RemoteError("an external link of " + what + " has no URL",
                        {{"code", "malformed_response"}});
    }
    const auto result = retrier.send(
        [&](int) {
          HttpRequest r;  // cloud storage: the link is the credential, never the workspace token
          r.url = url;
          r.correlation_id = correlation_id;
          r.timeout = std::max(config_.request_timeout, std::chrono::milliseconds(600'000));
          if (const auto headers = link.find("http_headers");
              headers != link.end() && headers->is_object()) {
            for (const auto& [name, value] : headers->items()) {
              if (value.is_string()) r.headers.add(name, value.get<std::string>());
            }
          }
          return r;
        },
        true, cancelled);
    if (result.response.status != 200) {
      throw RemoteError("downloading a result chunk of " + what + " from " + url_for_display(url) +
                            " failed: HTTP " + std::to_string(result.response.status) + " " +
                            redact(result.response.body.substr(0, 200)),
                        {{"status", result.response.status}, {"service", "cloud storage"}});
    }
    table.append_json_rows(result.response.body, what);
  }
}

SqlStatementResult DatabricksClient::run(const SqlStatement& s, const SqlProgressCallback& progress,
                                         const CancelCheck& cancelled,
                                         std::string& statement_id) const {
  const std::string warehouse = s.warehouse_id.empty() ? config_.warehouse_id : s.warehouse_id;
  json body = {{"statement", s.statement},
               {"warehouse_id", warehouse},
               // no wait: the statement's id comes back at once, so a timeout or a Ctrl-C
               // in any later moment can cancel it; short polls keep quick statements quick
               {"wait_timeout", "0s"},
               {"on_wait_timeout", "CONTINUE"},
               {"disposition", s.external_links ? "EXTERNAL_LINKS" : "INLINE"},
               {"format", "JSON_ARRAY"}};
  const std::string catalog = s.catalog.empty() ? config_.catalog : s.catalog;
  const std::string schema = s.schema.empty() ? config_.schema : s.schema;
  if (!catalog.empty()) body["catalog"] = catalog;
  if (!schema.empty()) body["schema"] = schema;
  if (s.row_limit) body["row_limit"] = *s.row_limit;
  if (!s.parameters.empty()) {
    json parameters = json::array();
    for (const auto& p : s.parameters) {
      json parameter = {{"name", p.name}, {"type", p.type}};
      if (p.value) parameter["value"] = *p.value;
      parameters.push_back(std::move(parameter));
    }
    body["parameters"] = std::move(parameters);
  }
  const Nanos started = clock_->now();
  const Nanos deadline = started + std::chrono::nanoseconds(s.timeout).count();
  const auto elapsed = [&] { return static_cast<double>(clock_->now() - started) / 1e9; };
  // A submit runs the statement: repeated only when the service refused it unprocessed (429).
  const std::string statements = "/api/2.0/sql/statements";
  Answer answer =
      split_rows(call_text("POST", statements, body, s.correlation_id, false, cancelled),
                 "POST " + statements);
  json response = std::move(answer.body);
  statement_id = text_of(response, "statement_id");
  if (statement_id.empty() || !response.contains("status") || !response["status"].is_object()) {
    throw RemoteError("Databricks answered a statement without statement_id and status",
                      {{"code", "malformed_response"}, {"service", kService}});
  }
  std::string state = text_of(response["status"], "state");
  for (int poll = 0; !terminal(state); ++poll) {
    if (progress) progress(SqlProgress{statement_id, state, elapsed(), 0, 0});
    const Nanos left = deadline - clock_->now();
    if (left <= 0) {
      throw PlatformTimeoutError(
          "statement " + statement_id + " was still " + state + " after " +
              std::to_string(static_cast<long long>(s.timeout.count() / 1000)) +
              " s: it was cancelled",
          {{"statement_id", statement_id}, {"timeout_s", s.timeout.count() / 1000.0}});
    }
    const auto delay =
        std::min<std::chrono::nanoseconds>(poll_delay(poll), std::chrono::nanoseconds(left));
    sleeper_.sleep(delay, cancelled);
    const std::string path = statements + "/" + percent_encode(statement_id);
    answer = split_rows(call_text("GET", path, json(), s.correlation_id, true, cancelled),
                        "GET " + path);
    response = std::move(answer.body);
    state = response.contains("status") && response["status"].is_object()
                ? text_of(response["status"], "state")
                : std::string();
    if (state.empty()) {
      throw RemoteError(
          "Databricks answered a poll of statement " + statement_id + " without a state",
          {{"code", "malformed_response"}, {"service", kService}});
    }
  }
  const auto& status = response["status"];
  if (state == "FAILED") {
    const json error = status.value("error", json::object());
    const std::string sql_state = text_of(status, "sql_state");
    const std::string code = error.is_object() ? text_of(error, "error_code") : "";
    const std::string message = error.is_object() ? text_of(error, "message") : "";
    throw RemoteError(redact("statement " + statement_id + " failed" +
                             (sql_state.empty() ? "" : " (SQLSTATE " + sql_state + ")") + ": " +
                             (code.empty() ? "" : code + ": ") + message),
                      {{"statement_id", statement_id},
                       {"sql_state", sql_state},
                       {"code", code},
                       {"status", 200},
                       {"service", kService}});
  }
  if (state != "SUCCEEDED") {
    throw RemoteError("statement " + statement_id + " ended " + state +
                          (state == "CLOSED" ? " (its result is no longer available)"
                                             : " (cancelled on the workspace)"),
                      {{"statement_id", statement_id}, {"code", state}, {"service", kService}});
  }
  const json manifest = response.value("manifest", json::object());
  const json schema_json = manifest.value("schema", json::object());
  std::vector<ResultColumn> columns;
  if (const auto found = schema_json.find("columns");
      found != schema_json.end() && found->is_array()) {
    for (const auto& c : *found) {
      ResultColumn column;
      column.name = text_of(c, "name");
      column.type_name = text_of(c, "type_name");
      column.type_text = text_of(c, "type_text");
      if (column.type_text.empty()) column.type_text = column.type_name;
      column.precision = c.value("type_precision", 0);
      column.scale = c.value("type_scale", 0);
      columns.push_back(std::move(column));
    }
  }
  SqlStatementResult out{statement_id, SqlResultTable(std::move(columns)),
                         manifest.value("truncated", false),
                         manifest.value("total_row_count", std::int64_t{0})};
  const std::size_t chunk_count = manifest.value("total_chunk_count", std::size_t{0});
  json chunk = response.value("result", json::object());
  for (std::size_t fetched = 0;;) {
    take_chunk(chunk, answer.rows, out.table, statement_id, s.correlation_id, cancelled);
    ++fetched;
    if (progress) progress(SqlProgress{statement_id, state, elapsed(), fetched, chunk_count});
    std::string next = text_of(chunk, "next_chunk_internal_link");
    if (next.empty()) {
      if (const auto links = chunk.find("external_links");
          links != chunk.end() && links->is_array() && !links->empty()) {
        next = text_of(links->back(), "next_chunk_internal_link");
      }
    }
    if (next.empty()) break;
    if (next.rfind("/api/", 0) != 0) {
      throw RemoteError("statement " + statement_id +
                            " points to its next chunk outside the "
                            "API: " +
                            url_for_display(next),
                        {{"code", "malformed_response"}});
    }
    answer = split_rows(call_text("GET", next, json(), s.correlation_id, true, cancelled),
                        "GET " + next);
    chunk = std::move(answer.body);
  }
  if (out.total_row_count == 0)
    out.total_row_count = static_cast<std::int64_t>(out.table.row_count());
  return out;
}

SqlStatementResult DatabricksClient::sql(const SqlStatement& s, const SqlProgressCallback& progress,
                                         const CancelCheck& cancelled) const {
  if (s.statement.empty() || s.statement.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidArgumentError("the SQL statement is empty");
  }
  if (s.warehouse_id.empty() && config_.warehouse_id.empty()) {
    throw ConfigurationError(
        "no SQL warehouse: pass warehouse_id, or set "
        "AADAP_DATABRICKS_WAREHOUSE_ID");
  }
  for (const auto& p : s.parameters) {
    if (p.name.empty() || p.name.find_first_not_of(
                              "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
                              std::string::npos) {
      throw InvalidArgumentError("a SQL parameter name is letters, digits and _ (got '" +
                                 p.name.substr(0, 40) + "')");
    }
  }
  ExecutionRecord record(
      recorder_, s.task_id, "databricks",
      json{{"host", config_.auth.host},
           {"warehouse_id", s.warehouse_id.empty() ? config_.warehouse_id : s.warehouse_id},
           {"statement", s.statement.substr(0, 2000)}}
          .dump(),
      s.correlation_id);
  std::string statement_id;
  const auto ids = [&] { return json{{"statement_id", statement_id}}.dump(); };
  try {
    auto out = run(s, progress, cancelled, statement_id);
    record.succeed(json{{"rows", out.table.row_count()}, {"truncated", out.truncated}}.dump(),
                   ids());
    logger().info("databricks.statement_succeeded", s.correlation_id,
                  log::kv("statement_id", statement_id), log::kv("rows", out.table.row_count()));
    return out;
  } catch (const CancelledError& error) {
    if (!statement_id.empty()) cancel_statement(statement_id, s.correlation_id);
    record.fail(error.what(), true, ids());
    throw;
  } catch (const PlatformTimeoutError& error) {
    if (!statement_id.empty()) cancel_statement(statement_id, s.correlation_id);
    record.fail(error.what(), false, ids());
    throw;
  } catch (const Error& error) {
    record.fail(error.what(), false, ids());
    throw;
  } catch (...) {  // e.g. a progress callback's own error: the statement is not left running
    if (!statement_id.empty()) cancel_statement(statement_id, s.correlation_id);
    throw;
  }
}

}  // namespace aadap::platforms
