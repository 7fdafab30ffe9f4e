// DatabricksClient's jobs: the Jobs API 2.1 (cloud-apis.md B5).
#include "aadap/core/errors.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/platforms/databricks.hpp"
#include "aadap/platforms/polling.hpp"

namespace aadap::platforms {

namespace {

using nlohmann::json;

constexpr const char* kJobs = "/api/2.1/jobs";

std::int64_t run_id_of(const json& answer, const std::string& action) {
  const auto found = answer.find("run_id");
  if (found == answer.end() || !found->is_number_integer()) {
    throw RemoteError("Databricks answered " + action + " without a run_id",
                      {{"code", "malformed_response"}, {"service", "Databricks"}});
  }
  return found->get<std::int64_t>();
}

std::string life_cycle(const json& run) {
  const auto state = run.find("state");
  if (state == run.end() || !state->is_object()) return {};
  return state->value("life_cycle_state", "");
}

}  // namespace

json DatabricksClient::list_jobs(const std::string& name, const std::string& cid) const {
  std::string path = std::string(kJobs) + "/list?limit=100";
  if (!name.empty()) path += "&name=" + percent_encode(name);
  return list_pages(path, "jobs", cid);
}

json DatabricksClient::get_job(std::int64_t job_id, const std::string& cid) const {
  return call("GET", std::string(kJobs) + "/get?job_id=" + std::to_string(job_id), json(), cid,
              true);
}

std::int64_t DatabricksClient::run_now(std::int64_t job_id, const json& job_parameters,
                                       const std::string& idempotency_token,
                                       const std::string& task_id, const std::string& cid) const {
  json body = {{"job_id", job_id}};
  if (job_parameters.is_object() && !job_parameters.empty()) {
    body["job_parameters"] = job_parameters;
  }
  if (!idempotency_token.empty()) body["idempotency_token"] = idempotency_token;
  const std::int64_t run_id = run_id_of(
      call("POST", std::string(kJobs) + "/run-now", body, cid, !idempotency_token.empty()),
      "run-now of job " + std::to_string(job_id));
  if (recorder_ && !task_id.empty()) {
    recorder_->record_resource(task_id, "databricks", "job", std::to_string(run_id),
                               json{{"job_id", job_id}, {"run_id", run_id}}.dump(), cid);
  }
  return run_id;
}

std::int64_t DatabricksClient::submit_run(const std::string& run_name, const json& tasks,
                                          std::string idempotency_token,
                                          std::int64_t timeout_seconds, const std::string& task_id,
                                          const std::string& cid) const {
  if (!tasks.is_array() || tasks.empty()) {
    throw InvalidArgumentError("a one-time run needs at least one task");
  }
  if (idempotency_token.empty()) idempotency_token = new_uuid7();  // safe to retry
  if (idempotency_token.size() > 64) {
    throw InvalidArgumentError("an idempotency token has at most 64 characters");
  }
  json body = {{"run_name", run_name}, {"tasks", tasks}, {"idempotency_token", idempotency_token}};
  if (timeout_seconds > 0) body["timeout_seconds"] = timeout_seconds;
  const std::int64_t run_id =
      run_id_of(call("POST", std::string(kJobs) + "/runs/submit", body, cid, true), "runs/submit");
  if (recorder_ && !task_id.empty()) {
    recorder_->record_resource(task_id, "databricks", "job", std::to_string(run_id),
                               json{{"run_name", run_name}, {"run_id", run_id}}.dump(), cid);
  }
  return run_id;
}

json DatabricksClient::get_run(std::int64_t run_id, const std::string& cid) const {
  return call("GET", std::string(kJobs) + "/runs/get?run_id=" + std::to_string(run_id), json(), cid,
              true);
}

json DatabricksClient::get_run_output(std::int64_t run_id, const std::string& cid) const {
  return call("GET", std::string(kJobs) + "/runs/get-output?run_id=" + std::to_string(run_id),
              json(), cid, true);
}

void DatabricksClient::cancel_run(std::int64_t run_id, const std::string& cid) const {
  call("POST", std::string(kJobs) + "/runs/cancel", json{{"run_id", run_id}}, cid, true);
}

json DatabricksClient::wait_for_run(std::int64_t run_id, const WaitOptions& options) const {
  const std::string& cid = options.correlation_id;
  PollSchedule schedule;
  schedule.first = std::chrono::milliseconds(500);
  return poll_until(
      *clock_, sleeper_, "run " + std::to_string(run_id),
      [&] {
        json run = get_run(run_id, cid);
        std::string state = life_cycle(run);
        return PollAnswer{std::move(run), std::move(state), std::nullopt};
      },
      {"TERMINATED", "SKIPPED", "INTERNAL_ERROR"}, [&] { cancel_run(run_id, cid); }, schedule,
      options, json{{"run_id", run_id}});
}

}  // namespace aadap::platforms
