// DatabricksClient's pipelines: the Pipelines API 2.0 (cloud-apis.md B7).
#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/platforms/databricks.hpp"
#include "aadap/platforms/json_fields.hpp"
#include "aadap/platforms/polling.hpp"

namespace aadap::platforms {

namespace {

using nlohmann::json;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.databricks");
  return instance;
}

constexpr const char* kPipelines = "/api/2.0/pipelines";

std::string pipeline_path(const std::string& pipeline_id) {
  if (pipeline_id.empty()) throw InvalidArgumentError("the pipeline id is empty");
  return std::string(kPipelines) + "/" + percent_encode(pipeline_id);
}

}  // namespace

json DatabricksClient::list_pipelines(const std::string& filter, const std::string& cid) const {
  std::string path = std::string(kPipelines) + "?max_results=100";
  if (!filter.empty()) path += "&filter=" + percent_encode(filter);
  return list_pages(path, "statuses", cid);
}

json DatabricksClient::get_pipeline(const std::string& pipeline_id, const std::string& cid) const {
  return call("GET", pipeline_path(pipeline_id), json(), cid, true);
}

std::string DatabricksClient::start_update(const PipelineUpdateRequest& request) const {
  json body = {{"full_refresh", request.full_refresh},
               {"validate_only", request.validate_only},
               {"cause", "API_CALL"}};
  if (!request.refresh_selection.empty()) body["refresh_selection"] = request.refresh_selection;
  if (!request.full_refresh_selection.empty()) {
    body["full_refresh_selection"] = request.full_refresh_selection;
  }
  // not repeated: a start that succeeded unheard would come back RESOURCE_CONFLICT
  const json answer = call("POST", pipeline_path(request.pipeline_id) + "/updates", body,
                           request.correlation_id, false);
  const auto update_id = answer.find("update_id");
  if (update_id == answer.end() || !update_id->is_string() || update_id->empty()) {
    throw RemoteError(
        "Databricks started an update of pipeline " + request.pipeline_id + " without an update_id",
        {{"code", "malformed_response"}, {"service", "Databricks"}});
  }
  if (recorder_ && !request.task_id.empty()) {  // the update is the task's run of the pipeline
    recorder_->record_resource(request.task_id, "databricks", "pipeline",
                               update_id->get<std::string>(),
                               json{{"pipeline_id", request.pipeline_id},
                                    {"update_id", *update_id},
                                    {"full_refresh", request.full_refresh}}
                                   .dump(),
                               request.correlation_id);
  }
  return update_id->get<std::string>();
}

json DatabricksClient::get_update(const std::string& pipeline_id, const std::string& update_id,
                                  const std::string& cid) const {
  if (update_id.empty()) throw InvalidArgumentError("the update id is empty");
  const json answer =
      call("GET", pipeline_path(pipeline_id) + "/updates/" + percent_encode(update_id), json(), cid,
           true);
  const auto update = answer.find("update");
  if (update == answer.end() || !update->is_object()) {
    throw RemoteError("Databricks answered update " + update_id + " without its update object",
                      {{"code", "malformed_response"}, {"service", "Databricks"}});
  }
  return *update;
}

void DatabricksClient::stop_pipeline(const std::string& pipeline_id, const std::string& cid) const {
  call("POST", pipeline_path(pipeline_id) + "/stop", json(), cid, true);  // stopping is idempotent
}

void DatabricksClient::stop_if_latest(const std::string& pipeline_id, const std::string& update_id,
                                      const std::string& cid) const {
  // a pipeline runs one update at a time, newest first in latest_updates: once ours is not
  // the newest, the running one is someone else's and is not ours to stop
  const json pipeline = get_pipeline(pipeline_id, cid);
  const auto latest = pipeline.find("latest_updates");
  if (latest != pipeline.end() && latest->is_array() && !latest->empty() &&
      string_field(latest->front(), "update_id") == update_id) {
    stop_pipeline(pipeline_id, cid);
    return;
  }
  logger().info("databricks.pipeline_not_stopped", cid, log::kv("pipeline_id", pipeline_id),
                log::kv("update_id", update_id),
                log::kv("why", "a newer update is the pipeline's latest"));
}

json DatabricksClient::wait_for_update(const std::string& pipeline_id, const std::string& update_id,
                                       const WaitOptions& options) const {
  const std::string& cid = options.correlation_id;
  return poll_until(
      *clock_, sleeper_, "update " + update_id + " of pipeline " + pipeline_id,
      [&] {
        json update = get_update(pipeline_id, update_id, cid);
        std::string state = string_field(update, "state");
        return PollAnswer{std::move(update), std::move(state), std::nullopt};
      },
      {"COMPLETED", "FAILED", "CANCELED"}, [&] { stop_if_latest(pipeline_id, update_id, cid); },
      PollSchedule{}, options, json{{"pipeline_id", pipeline_id}, {"update_id", update_id}});
}

}  // namespace aadap::platforms
