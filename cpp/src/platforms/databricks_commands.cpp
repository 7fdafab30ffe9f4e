// DatabricksClient::run_python: the Command Execution API 1.2 (cloud-apis.md B4).
#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/platforms/databricks.hpp"
#include "aadap/platforms/execution_record.hpp"

#include <algorithm>

namespace aadap::platforms {

namespace {

using nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.databricks");
  return instance;
}

std::string text_of(const json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : std::string();
}

/// A summary may carry HTML (`<span class="ansi-red-fg">...`): its text.
std::string without_tags(const std::string& html) {
  std::string out;
  bool tag = false;
  for (const char c : html) {
    if (c == '<') tag = true;
    if (!tag) out += c;
    if (c == '>') tag = false;
  }
  return out;
}

/// The wait before poll `k` of a context or command: 100 ms doubling up to 5 s.
std::chrono::milliseconds poll_delay(int k) {
  return doubling_delay(k, std::chrono::milliseconds(100), std::chrono::seconds(5));
}

}  // namespace

CommandResult DatabricksClient::run_python(const PythonCommand& command,
                                           const CancelCheck& cancelled) const {
  const std::string cluster = command.cluster_id.empty() ? config_.cluster_id : command.cluster_id;
  if (cluster.empty()) {
    throw ConfigurationError(
        "Python runs on an all-purpose cluster: pass cluster_id or set "
        "AADAP_DATABRICKS_CLUSTER_ID (it is never sent to a SQL warehouse)");
  }
  if (command.code.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidArgumentError("the Python code is empty");
  }
  ExecutionRecord record(
      recorder_, command.task_id, "databricks",
      json{{"host", config_.auth.host}, {"cluster_id", cluster}, {"language", "python"}}.dump(),
      command.correlation_id);
  try {
    auto result = execute_python(command, cluster, cancelled);
    record.succeed(json{{"result_type", result.result_type}}.dump());
    return result;
  } catch (const CancelledError& error) {
    record.fail(error.what(), true);
    throw;
  } catch (const Error& error) {
    record.fail(error.what());
    throw;
  }
}

CommandResult DatabricksClient::execute_python(const PythonCommand& command,
                                               const std::string& cluster,
                                               const CancelCheck& cancelled) const {
  const std::string& cid = command.correlation_id;
  const Nanos started = clock_->now();
  const Nanos deadline = started + std::chrono::nanoseconds(command.timeout).count();
  const auto check_deadline = [&](const std::string& what) {
    if (clock_->now() >= deadline) {
      throw PlatformTimeoutError(
          what + " on cluster " + cluster + " did not finish within " +
              std::to_string(command.timeout.count() / 1000) + " s",
          {{"cluster_id", cluster}, {"timeout_s", command.timeout.count() / 1000.0}});
    }
  };
  const auto wait = [&](int k) {
    const Nanos left = deadline - clock_->now();
    sleeper_.sleep(std::min<std::chrono::nanoseconds>(
                       poll_delay(k), std::chrono::nanoseconds(std::max<Nanos>(left, 0))),
                   cancelled);
  };

  const json cluster_info =
      call("GET", "/api/2.0/clusters/get?cluster_id=" + percent_encode(cluster), json(), cid, true,
           cancelled);
  const std::string state = text_of(cluster_info, "state");
  if (state != "RUNNING" && state != "RESIZING") {
    throw RemoteError(
        "cluster " + cluster + " is " + (state.empty() ? "in no known state" : state) +
            ": start it (Python runs only on a running all-purpose cluster)",
        {{"cluster_id", cluster}, {"code", "CLUSTER_NOT_RUNNING"}, {"service", "Databricks"}});
  }

  // Creating a context is not idempotent (a repeat would leak one): only a 429 is retried.
  const json created =
      call("POST", "/api/1.2/contexts/create", json{{"clusterId", cluster}, {"language", "python"}},
           cid, false, cancelled);
  const std::string context = text_of(created, "id");
  if (context.empty()) {
    throw RemoteError("Databricks created an execution context without an id",
                      {{"code", "malformed_response"}, {"service", "Databricks"}});
  }
  // The context is destroyed on every way out, success or not, without the cancel check
  // (a Ctrl-C must not leave a context behind on the cluster).
  struct Destroy {
    const DatabricksClient& client;
    const std::string& cluster;
    const std::string& context;
    const std::string& cid;
    ~Destroy() {
      try {
        client.call("POST", "/api/1.2/contexts/destroy",
                    json{{"clusterId", cluster}, {"contextId", context}}, cid, true);
      } catch (const std::exception& error) {
        logger().warning("databricks.context_not_destroyed", cid, log::kv("cluster_id", cluster),
                         log::kv("context_id", context), log::kv("error", redact(error.what())));
      }
    }
  } destroy{*this, cluster, context, cid};

  const std::string context_query =
      "?clusterId=" + percent_encode(cluster) + "&contextId=" + percent_encode(context);
  for (int k = 0;; ++k) {
    const json status =
        call("GET", "/api/1.2/contexts/status" + context_query, json(), cid, true, cancelled);
    const std::string s = text_of(status, "status");
    if (s == "Running") break;
    if (s == "Error") {
      throw RemoteError(
          "the execution context on cluster " + cluster + " failed to start",
          {{"cluster_id", cluster}, {"code", "CONTEXT_ERROR"}, {"service", "Databricks"}});
    }
    check_deadline("creating an execution context");
    wait(k);
  }

  const json executed = call("POST", "/api/1.2/commands/execute",
                             json{{"clusterId", cluster},
                                  {"contextId", context},
                                  {"language", "python"},
                                  {"command", command.code}},
                             cid, false, cancelled);
  CommandResult out;
  out.command_id = text_of(executed, "id");
  const std::string command_query = context_query + "&commandId=" + percent_encode(out.command_id);
  json status;
  try {
    for (int k = 0;; ++k) {
      status =
          call("GET", "/api/1.2/commands/status" + command_query, json(), cid, true, cancelled);
      const std::string s = text_of(status, "status");
      if (s == "Finished" || s == "Error" || s == "Cancelled") break;
      check_deadline("the Python command");
      wait(k);
    }
  } catch (const Error& error) {
    if (error.code() == ErrorCode::cancelled || error.code() == ErrorCode::platform_timeout) {
      try {
        call("POST", "/api/1.2/commands/cancel",
             json{{"clusterId", cluster}, {"contextId", context}, {"commandId", out.command_id}},
             cid, true);
      } catch (const std::exception&) {
        // the context is destroyed next, which stops the command too
      }
    }
    throw;
  }
  const std::string s = text_of(status, "status");
  const json results = status.value("results", json::object());
  const std::string type = results.is_object() ? text_of(results, "resultType") : "";
  if (s == "Cancelled") {
    throw RemoteError("the Python command on cluster " + cluster + " was cancelled",
                      {{"cluster_id", cluster}, {"code", "CANCELLED"}, {"service", "Databricks"}});
  }
  if (s == "Error" || type == "error") {
    const std::string summary = without_tags(text_of(results, "summary"));
    const std::string cause = text_of(results, "cause");
    throw RemoteError(redact("the Python command on cluster " + cluster +
                             " failed: " + (summary.empty() ? cause.substr(0, 500) : summary)),
                      {{"cluster_id", cluster},
                       {"code", "COMMAND_ERROR"},
                       {"summary", summary},
                       {"cause", cause},
                       {"service", "Databricks"}});
  }
  if (!results.is_object() || type.empty()) {
    throw RemoteError("the Python command on cluster " + cluster + " finished with no results",
                      {{"cluster_id", cluster}, {"code", "NO_RESULTS"}, {"service", "Databricks"}});
  }
  out.result_type = type;
  out.truncated = results.value("truncated", false);
  if (type == "table") {
    if (const auto schema = results.find("schema"); schema != results.end() && schema->is_array()) {
      for (const auto& column : *schema) {
        out.columns.emplace_back(text_of(column, "name"), text_of(column, "type"));
      }
    }
    if (const auto data = results.find("data"); data != results.end() && data->is_array()) {
      out.rows = *data;
    }
  } else if (type == "image") {
    out.text = text_of(results, "fileName");
  } else if (type == "images") {
    out.text = results.value("fileNames", json::array()).dump();
  } else {
    out.text = text_of(results, "data");
  }
  return out;
}

}  // namespace aadap::platforms
