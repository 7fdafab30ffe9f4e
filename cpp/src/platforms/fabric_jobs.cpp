// FabricClient's job scheduler (cloud-apis.md B10.5): run on demand (202 + Location of the
// job instance), poll at the service's Retry-After, cancel.
#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/platforms/fabric.hpp"
#include "aadap/platforms/json_fields.hpp"
#include "aadap/platforms/polling.hpp"

namespace aadap::platforms {

namespace {

using nlohmann::json;

std::string jobs_path(const std::string& item_id) {
  if (item_id.empty()) throw InvalidArgumentError("the item id is empty");
  return "/items/" + percent_encode(item_id) + "/jobs/instances";
}

/// The job instance id a Location ends with; empty when it names none (the spec's own
/// examples show a `.../jobs/instances?jobType=...` Location).
std::string instance_id_of(const std::string& location) {
  const std::string path = location.substr(0, location.find_first_of("?#"));
  const auto slash = path.find_last_of('/');
  const std::string last = slash == std::string::npos ? path : path.substr(slash + 1);
  return last == "instances" ? std::string() : last;
}

}  // namespace

JobStart FabricClient::start_job(const std::string& item_id, const std::string& job_type,
                                 const json& execution_data, const std::string& task_id,
                                 const std::string& cid) const {
  if (job_type.empty()) throw InvalidArgumentError("the job type is empty (RunNotebook, ...)");
  const json body = execution_data.is_object() && !execution_data.empty()
                        ? json{{"executionData", execution_data}}
                        : json();
  // not repeated after an unclear failure: a second run would be started
  const FabricAnswer answer =
      call("POST", workspace_path() + jobs_path(item_id) + "?jobType=" + percent_encode(job_type),
           body, cid, false);
  JobStart start;
  start.job_instance_id = instance_id_of(answer.headers.get("Location").value_or(""));
  if (start.job_instance_id.empty()) {
    throw RemoteError("Fabric accepted the " + job_type + " job of item " + item_id +
                          " without naming its job instance (Location '" +
                          url_for_display(answer.headers.get("Location").value_or("")) + "')",
                      {{"code", "malformed_response"}, {"service", "Fabric"}});
  }
  start.first_poll = server_delay(answer.headers).value_or(std::chrono::milliseconds(0));
  if (recorder_ && !task_id.empty()) {
    recorder_->record_resource(
        task_id, "fabric", "job", start.job_instance_id,
        json{{"workspace_id", config_.workspace_id}, {"item_id", item_id}, {"job_type", job_type}}
            .dump(),
        cid);
  }
  return start;
}

json FabricClient::get_job_instance(const std::string& item_id, const std::string& instance_id,
                                    const std::string& cid) const {
  if (instance_id.empty()) throw InvalidArgumentError("the job instance id is empty");
  return call("GET", workspace_path() + jobs_path(item_id) + "/" + percent_encode(instance_id),
              json(), cid, true)
      .body;
}

json FabricClient::list_job_instances(const std::string& item_id, const std::string& cid) const {
  return list_pages(workspace_path() + jobs_path(item_id), "value", cid);
}

void FabricClient::cancel_job(const std::string& item_id, const std::string& instance_id,
                              const std::string& cid) const {
  if (instance_id.empty()) throw InvalidArgumentError("the job instance id is empty");
  try {
    call("POST",
         workspace_path() + jobs_path(item_id) + "/" + percent_encode(instance_id) + "/cancel",
         json(), cid, true);  // cancelling twice is harmless
  } catch (const RemoteError& error) {
    if (error.details().value("code", "") != "JobAlreadyCompleted") throw;
  }
}

json FabricClient::wait_for_job(const std::string& item_id, const std::string& instance_id,
                                const WaitOptions& options,
                                std::chrono::milliseconds first_poll) const {
  const std::string& cid = options.correlation_id;
  const std::string path =
      workspace_path() + jobs_path(item_id) + "/" + percent_encode(instance_id);
  PollSchedule schedule;
  schedule.before_first = first_poll;
  schedule.cap = std::chrono::seconds(30);
  return poll_until(
      *clock_, sleeper_, "job " + instance_id + " of item " + item_id,
      [&] {
        FabricAnswer polled = call("GET", path, json(), cid, true, options.cancelled);
        std::string status = string_field(polled.body, "status");
        return PollAnswer{std::move(polled.body), std::move(status), server_delay(polled.headers)};
      },
      {"Completed", "Failed", "Cancelled", "Deduped"},
      [&] { cancel_job(item_id, instance_id, cid); }, schedule, options);
}

void raise_for_job_status(const json& instance, const std::string& item_id,
                          const std::string& instance_id_known) {
  const std::string status = string_field(instance, "status");
  if (status == "Completed") return;
  const json reason = object_field(instance, "failureReason");
  const std::string instance_id = string_field(instance, "id", instance_id_known);
  const std::string message = string_field(reason, "message");
  throw RemoteError("the job " + instance_id + " of item " + item_id + " ended " + status +
                        (message.empty() ? std::string() : ": " + message),
                    {{"code", string_field(reason, "errorCode", status)},
                     {"request_id", string_field(reason, "requestId")},
                     {"job_instance_id", instance_id},
                     {"item_id", item_id},
                     {"job_status", status},
                     {"service", "Fabric"}});
}

}  // namespace aadap::platforms
