// FabricClient::run_notebook (platforms.md §5, cloud-apis.md B10.3, B10.5, B10.8): code put
// into an ipynb notebook item (created, or reused by name), run as a RunNotebook job, waited
// for, its exit value read back.
#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/sha256.hpp"
#include "aadap/platforms/execution_record.hpp"
#include "aadap/platforms/fabric.hpp"
#include "aadap/platforms/json_fields.hpp"

#include <array>
#include <cctype>

namespace aadap::platforms {

namespace {

using nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.fabric");
  return instance;
}

struct Language {
  std::string_view name;   // language_info.name
  std::string_view magic;  // the cell magic of the PySpark kernel
  std::string_view cell;   // the cell's microsoft.language
};
constexpr std::array<Language, 4> kLanguages = {{{"python", "", "python"},
                                                 {"sql", "%%sql\n", "sparksql"},
                                                 {"scala", "%%spark\n", "scala"},
                                                 {"r", "%%sparkr\n", "r"}}};

const Language& language_of(const std::string& name) {
  for (const auto& language : kLanguages) {
    if (language.name == name) return language;
  }
  throw InvalidArgumentError("unknown notebook language '" + name +
                             "' (one of python, sql, scala, r)");
}

bool is_identifier(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

/// A Python literal of a parameter type's neutral value: a run passes the real values.
std::string default_literal(const std::string& type) {
  if (type == "int") return "0";
  if (type == "float") return "0.0";
  if (type == "bool") return "False";
  if (type == "string") return "\"\"";
  throw InvalidArgumentError("unknown notebook parameter type '" + type +
                             "' (one of string, int, float, bool)");
}

/// A cell's `source`: its lines, each keeping its newline (the last one has none).
json source_lines(const std::string& text) {
  json lines = json::array();
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    if (end == std::string::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, end - start + 1));
    start = end + 1;
  }
  return lines;
}

json code_cell(const std::string& text, json metadata) {
  return {{"cell_type", "code"},
          {"execution_count", nullptr},
          {"metadata", std::move(metadata)},
          {"outputs", json::array()},
          {"source", source_lines(text)}};
}

}  // namespace

std::string notebook_ipynb(const std::string& code, const std::string& language_name,
                           const json& parameters, const std::string& lakehouse_id,
                           const std::string& workspace_id) {
  const Language& language = language_of(language_name);
  if (code.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw InvalidArgumentError("the notebook code is empty");
  }
  if (!parameters.is_object()) {
    throw InvalidArgumentError("notebook parameters are an object: name -> {value, type}");
  }
  json cells = json::array();
  if (!parameters.empty()) {
    if (language.name != "python") {
      throw InvalidArgumentError("parameters are declared in Python notebooks only");
    }
    std::string declarations;
    for (const auto& [name, parameter] : parameters.items()) {
      if (!is_identifier(name)) {
        throw InvalidArgumentError("a notebook parameter name is an identifier: '" + name + "'");
      }
      const std::string type = string_field(parameter, "type");
      declarations += name + " = " + default_literal(type) + "\n";
    }
    cells.push_back(code_cell(declarations, {{"tags", json::array({"parameters"})}}));
  }
  cells.push_back(code_cell(std::string(language.magic) + code,
                            {{"microsoft", {{"language", std::string(language.cell)}}}}));
  json metadata = {
      {"language_info", {{"name", std::string(language.name)}}},
      {"kernel_info", {{"name", "synapse_pyspark"}}},
      {"kernelspec", {{"name", "synapse_pyspark"}, {"display_name", "Synapse PySpark"}}}};
  if (!lakehouse_id.empty()) {
    metadata["trident"] = {{"lakehouse",
                            {{"default_lakehouse", lakehouse_id},
                             {"default_lakehouse_workspace_id", workspace_id},
                             {"known_lakehouses", json::array({{{"id", lakehouse_id}}})}}}};
  }
  return json{{"cells", std::move(cells)},
              {"metadata", std::move(metadata)},
              {"nbformat", 4},
              {"nbformat_minor", 5}}
      .dump(1);
}

std::string FabricClient::notebook_for(const NotebookRun& run, const std::string& content) const {
  ItemRequest request;
  // named after its content unless named by the caller, so the same code reuses one notebook;
  // a reused notebook always gets this content (whoever edited it since, the code that runs
  // is the caller's)
  request.display_name = run.notebook_name.empty()
                             ? "aadap-" + sha256_hex(content).substr(0, 16) + "-" + run.language
                             : run.notebook_name;
  request.type = "Notebook";
  request.description = "Created by aadap";
  request.definition = ItemDefinition{"ipynb", {{"notebook-content.ipynb", content}}};
  request.reuse_existing = true;
  request.task_id = run.task_id;
  request.correlation_id = run.wait.correlation_id;
  const json item = create_item(request, run.wait.cancelled);
  const std::string id = string_field(item, "id");
  if (id.empty()) {
    throw RemoteError("Fabric answered the notebook '" + request.display_name + "' without an id",
                      {{"code", "malformed_response"}, {"service", "Fabric"}});
  }
  return id;
}

std::optional<std::string> FabricClient::exit_value_of(const std::string& notebook_id,
                                                       const std::string& instance_id,
                                                       const json& instance,
                                                       const std::string& cid) const {
  const auto exit_value = [](const json& answer) -> std::optional<std::string> {
    const auto properties = answer.find("properties");
    if (properties != answer.end() && properties->is_object()) {
      const auto value = properties->find("exitValue");
      if (value != properties->end() && value->is_string()) return value->get<std::string>();
    }
    const auto value = answer.find("exitValue");  // where newer docs show it
    if (value != answer.end() && value->is_string()) return value->get<std::string>();
    return std::nullopt;
  };
  if (auto value = exit_value(instance)) return value;
  try {
    // the notebook's own (beta) job view is the one that carries properties.exitValue
    return exit_value(call("GET",
                           workspace_path() + "/notebooks/" + percent_encode(notebook_id) +
                               "/jobs/execute/instances/" + percent_encode(instance_id) +
                               "?beta=true",
                           json(), cid, true)
                          .body);
  } catch (const PlatformError& error) {
    logger().info("fabric.exit_value_unavailable", cid, log::kv("job_instance_id", instance_id),
                  log::kv("error", error.what()));
  } catch (const NotFoundError& error) {
    logger().info("fabric.exit_value_unavailable", cid, log::kv("job_instance_id", instance_id),
                  log::kv("error", error.what()));
  }
  return std::nullopt;
}

JobResult FabricClient::run_notebook(const NotebookRun& run) const {
  const std::string& cid = run.wait.correlation_id;
  const std::string lakehouse = run.lakehouse_id.empty() ? config_.lakehouse_id : run.lakehouse_id;
  // bad input is refused before anything is sent or recorded
  const std::string content =
      notebook_ipynb(run.code, run.language, run.parameters, lakehouse, config_.workspace_id);
  ExecutionRecord record(recorder_, run.task_id, "fabric",
                         json{{"workspace_id", config_.workspace_id},
                              {"language", run.language},
                              {"lakehouse_id", lakehouse}}
                             .dump(),
                         cid);
  try {
    JobResult result;
    result.item_id = notebook_for(run, content);
    json execution_data = json::object();
    if (!run.parameters.empty()) execution_data["parameters"] = run.parameters;
    // the default lakehouse is bound in the notebook's metadata (trident.lakehouse): the run's
    // configuration.defaultLakehouse would need the lakehouse's name, which only the caller's
    // own configuration gives
    json configuration = run.configuration.is_object() ? run.configuration : json::object();
    if (!configuration.empty()) execution_data["configuration"] = std::move(configuration);
    const JobStart start =
        start_job(result.item_id, "RunNotebook", execution_data, run.task_id, cid);
    result.job_instance_id = start.job_instance_id;
    WaitOptions wait = run.wait;
    wait.cancel_on_timeout = true;  // a run is never left behind
    result.instance = wait_for_job(result.item_id, start.job_instance_id, wait, start.first_poll);
    result.status = string_field(result.instance, "status");
    raise_for_job_status(result.instance, result.item_id, start.job_instance_id);
    result.exit_value = exit_value_of(result.item_id, start.job_instance_id, result.instance, cid);
    record.succeed(json{{"job_instance_id", result.job_instance_id},
                        {"exit_value", result.exit_value ? json(*result.exit_value) : json()}}
                       .dump());
    return result;
  } catch (const CancelledError& error) {
    record.fail(error.what(), true);
    throw;
  } catch (const Error& error) {
    record.fail(error.what());
    throw;
  }
}

}  // namespace aadap::platforms
