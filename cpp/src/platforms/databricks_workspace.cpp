// DatabricksClient's workspace objects: the Workspace API 2.0 (cloud-apis.md B6).
#include "aadap/core/errors.hpp"
#include "aadap/platforms/base64.hpp"
#include "aadap/platforms/databricks.hpp"

#include <array>

namespace aadap::platforms {

namespace {

using nlohmann::json;

constexpr const char* kWorkspace = "/api/2.0/workspace";

void check_path(const std::string& path) {
  if (path.empty() || path.front() != '/') {
    throw InvalidArgumentError(
        "a workspace path is absolute, like /Users/me@example.com/nb: got '" + path + "'");
  }
}

template <std::size_t N>
void check_choice(const std::string& value, const std::array<std::string_view, N>& choices,
                  const char* what) {
  for (const auto choice : choices) {
    if (value == choice) return;
  }
  std::string listed;
  for (const auto choice : choices) listed += (listed.empty() ? "" : ", ") + std::string(choice);
  throw InvalidArgumentError(std::string("unknown ") + what + " '" + value + "' (one of " + listed +
                             ")");
}

constexpr std::array<std::string_view, 7> kFormats = {"SOURCE", "JUPYTER", "AUTO",      "RAW",
                                                      "HTML",   "DBC",     "R_MARKDOWN"};
constexpr std::array<std::string_view, 4> kLanguages = {"PYTHON", "SQL", "SCALA", "R"};

}  // namespace

json DatabricksClient::list_workspace(const std::string& path, const std::string& cid) const {
  check_path(path);
  const json answer = call("GET", std::string(kWorkspace) + "/list?path=" + percent_encode(path),
                           json(), cid, true);
  const auto objects = answer.find("objects");  // an empty folder answers {}
  return objects != answer.end() && objects->is_array() ? *objects : json::array();
}

json DatabricksClient::workspace_status(const std::string& path, const std::string& cid) const {
  check_path(path);
  return call("GET", std::string(kWorkspace) + "/get-status?path=" + percent_encode(path), json(),
              cid, true);
}

void DatabricksClient::import_notebook(const WorkspaceImport& request) const {
  check_path(request.path);
  check_choice(request.format, kFormats, "workspace import format");
  json body = {{"path", request.path},
               {"format", request.format},
               {"content", base64_encode(request.content)},
               {"overwrite", request.overwrite}};
  if (!request.language.empty()) {
    check_choice(request.language, kLanguages, "notebook language");
    body["language"] = request.language;
  } else if (request.format == "SOURCE") {
    throw InvalidArgumentError("a SOURCE import names its language: PYTHON, SQL, SCALA or R");
  }
  // an overwriting import may be repeated; a first one repeated would find its own notebook
  call("POST", std::string(kWorkspace) + "/import", body, request.correlation_id,
       request.overwrite);
  if (recorder_ && !request.task_id.empty() && request.format != "RAW") {  // RAW: a file
    recorder_->record_resource(
        request.task_id, "databricks", "notebook", request.path,
        json{{"format", request.format}, {"language", request.language}}.dump(),
        request.correlation_id);
  }
}

std::string DatabricksClient::export_notebook(const std::string& path, const std::string& format,
                                              const std::string& cid) const {
  check_path(path);
  check_choice(format, kFormats, "workspace export format");
  const json answer = call(
      "GET", std::string(kWorkspace) + "/export?path=" + percent_encode(path) + "&format=" + format,
      json(), cid, true);
  const auto content = answer.find("content");
  if (content == answer.end() || !content->is_string()) {
    throw RemoteError("Databricks exported " + path + " without content",
                      {{"code", "malformed_response"}, {"service", "Databricks"}});
  }
  auto bytes = base64_decode(content->get_ref<const std::string&>());
  if (!bytes) {
    throw RemoteError("Databricks exported " + path + " with content that is not base64",
                      {{"code", "malformed_response"}, {"service", "Databricks"}});
  }
  return std::move(*bytes);
}

void DatabricksClient::delete_workspace_object(const std::string& path, bool recursive,
                                               const std::string& cid) const {
  check_path(path);
  // not repeated: a delete that succeeded unheard would come back RESOURCE_DOES_NOT_EXIST
  call("POST", std::string(kWorkspace) + "/delete", json{{"path", path}, {"recursive", recursive}},
       cid, false);
}

void DatabricksClient::make_workspace_dirs(const std::string& path, const std::string& cid) const {
  check_path(path);
  call("POST", std::string(kWorkspace) + "/mkdirs", json{{"path", path}}, cid, true);
}

}  // namespace aadap::platforms
