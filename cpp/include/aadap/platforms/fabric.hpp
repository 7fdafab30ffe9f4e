// The Microsoft Fabric client (platforms.md §5, cloud-apis.md B10): items with continuation
// tokens, definitions and long-running operations (202 + Location, polled at the service's
// Retry-After), the job scheduler (run, poll, cancel), notebook execution (an ipynb
// definition created or reused, run as a RunNotebook job) and lakehouses. Service-principal
// tokens come from an EntraCredential for the Fabric scope; a refused token (401
// TokenExpired) is renewed once; 429 waits for Retry-After; errors carry Fabric's errorCode,
// message and requestId. Executions and created items are recorded for a task through the
// core ResourceRecorder.
//
// Thread-safe: one client serves any number of threads.
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/core/resource_recorder.hpp"
#include "aadap/platforms/entra.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"
#include "aadap/platforms/wait_options.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace aadap::platforms {

struct FabricConfig {
  std::string api_base = "https://api.fabric.microsoft.com/v1";
  std::string workspace_id;  // the workspace every item call addresses
  std::string lakehouse_id;  // the default lakehouse of notebook runs and lakehouse SQL
  std::string scope = "https://api.fabric.microsoft.com/.default";
  RetryPolicy retry = RetryPolicy::fabric();
  std::chrono::milliseconds request_timeout{60'000};
  // how long a long-running operation (a create or definition update) may take
  std::chrono::milliseconds operation_timeout{600'000};
};

/// One answer of the Fabric REST API: its status, headers and JSON body (empty object when
/// the body was empty).
struct FabricAnswer {
  long status = 0;
  HttpHeaders headers;
  nlohmann::json body = nlohmann::json::object();
};

/// An item definition: parts with their paths and raw (not yet base64) payloads.
struct ItemDefinition {
  std::string format;  // "ipynb", "fabricGitSource", ... (empty: the item type's default)
  std::vector<std::pair<std::string, std::string>> parts;  // path, payload bytes
};

struct ItemRequest {
  std::string display_name;
  std::string type;  // Notebook, Lakehouse, DataPipeline, SparkJobDefinition, ...
  std::string description;
  std::optional<ItemDefinition> definition;
  // an item of this name and type that exists already is returned instead of an error, its
  // definition replaced by this one when one is given
  bool reuse_existing = false;
  std::string task_id;  // a created item is recorded as a platform resource when set
  std::string correlation_id;
};

/// A notebook to run as a job (RunNotebook).
struct NotebookRun {
  std::string code;
  std::string language = "python";  // python, sql, scala, r
  // notebook parameters: name -> {"value": ..., "type": "string"|"int"|"float"|"bool"}
  nlohmann::json parameters = nlohmann::json::object();
  std::string notebook_name;  // empty: aadap-<digest of code and language>-<language>
  std::string lakehouse_id;   // empty: the configured one (none: no default lakehouse)
  // executionData.configuration (conf, defaultLakehouse {name, id, workspaceId}, ...)
  nlohmann::json configuration = nlohmann::json::object();
  std::string task_id;  // an execution (and a created notebook) is recorded when set
  WaitOptions wait;     // cancel_on_timeout is implied: a run is never left behind
};

/// A job the scheduler accepted.
struct JobStart {
  std::string job_instance_id;
  std::chrono::milliseconds first_poll{0};  // the Retry-After of the acceptance
};

struct JobResult {
  std::string item_id;
  std::string job_instance_id;
  std::string status;                     // Completed (others raise)
  std::optional<std::string> exit_value;  // notebookutils.notebook.exit(...), when reported
  nlohmann::json instance;                // the last job instance answer
};

class FabricClient {
 public:
  FabricClient(FabricConfig config, std::shared_ptr<const HttpTransport> transport,
               std::shared_ptr<EntraCredential> credential,
               std::shared_ptr<ResourceRecorder> recorder = nullptr,
               std::shared_ptr<const Clock> clock = std::make_shared<SteadyClock>(),
               Sleeper& sleeper = SystemSleeper::instance());

  // Items.
  /// Every item of the workspace (all pages), optionally of one type.
  nlohmann::json list_items(const std::string& type = {},
                            const std::string& correlation_id = {}) const;
  nlohmann::json get_item(const std::string& item_id, const std::string& correlation_id = {}) const;
  /// Creates an item (201, or a 202 operation followed to its end) and returns it. A name
  /// still reserved after a delete (ItemDisplayNameNotAvailableYet) is tried again each
  /// minute, six times.
  nlohmann::json create_item(const ItemRequest& request, const CancelCheck& cancelled = {}) const;
  /// Replaces an item's definition (200, or a 202 operation followed to its end).
  void update_definition(const std::string& item_id, const ItemDefinition& definition,
                         const std::string& correlation_id = {},
                         const CancelCheck& cancelled = {}) const;
  /// The item's definition, payloads decoded.
  ItemDefinition get_definition(const std::string& item_id, const std::string& format = {},
                                const std::string& correlation_id = {},
                                const CancelCheck& cancelled = {}) const;
  void delete_item(const std::string& item_id, const std::string& correlation_id = {}) const;

  // The job scheduler.
  /// Starts a job of `job_type` (RunNotebook, Pipeline, sparkjob, ...) on an item;
  /// `execution_data` is sent when it is not empty. Recorded as a "job" resource of
  /// `task_id` when given.
  JobStart start_job(const std::string& item_id, const std::string& job_type,
                     const nlohmann::json& execution_data, const std::string& task_id = {},
                     const std::string& correlation_id = {}) const;
  nlohmann::json get_job_instance(const std::string& item_id, const std::string& instance_id,
                                  const std::string& correlation_id = {}) const;
  nlohmann::json list_job_instances(const std::string& item_id,
                                    const std::string& correlation_id = {}) const;
  /// Asks for the job to stop; a job that has ended already is left as it is.
  void cancel_job(const std::string& item_id, const std::string& instance_id,
                  const std::string& correlation_id = {}) const;
  /// Polls the job instance, at the service's Retry-After when it gives one (else from 1 s
  /// doubling to 30 s), until Completed, Failed, Cancelled or Deduped, and returns it; the
  /// timeout and cancellation cancel the job as WaitOptions say.
  /// `first_poll`: the wait the service asked for before the first poll (JobStart).
  nlohmann::json wait_for_job(const std::string& item_id, const std::string& instance_id,
                              const WaitOptions& options,
                              std::chrono::milliseconds first_poll = {}) const;

  /// Creates (or reuses) a notebook holding `run.code`, runs it, waits, and returns the
  /// outcome with the notebook's exit value. Failed: RemoteError carrying failureReason's
  /// errorCode and message; Cancelled or Deduped: RemoteError; the timeout:
  /// PlatformTimeoutError; cancellation: CancelledError — the job is cancelled in both.
  JobResult run_notebook(const NotebookRun& run) const;

  // Lakehouses.
  nlohmann::json list_lakehouses(const std::string& correlation_id = {}) const;
  nlohmann::json get_lakehouse(const std::string& lakehouse_id,
                               const std::string& correlation_id = {}) const;
  /// Every table of the lakehouse (all pages of `data`).
  nlohmann::json list_tables(const std::string& lakehouse_id,
                             const std::string& correlation_id = {}) const;

  /// One REST call: `target` is a path under the API base (/workspaces/...) or an absolute
  /// URL of the same origin (a Location, a continuationUri). Error answers throw typed;
  /// 200–299 answers return, 202 included.
  FabricAnswer call(const std::string& method, const std::string& target,
                    const nlohmann::json& body, const std::string& correlation_id, bool retriable,
                    const CancelCheck& cancelled = {}) const;

  const FabricConfig& config() const noexcept { return config_; }

 private:
  std::string workspace_path() const;
  std::string absolute_url(const std::string& target) const;
  /// The items under `key` (value, data) of every page, following continuationUri (or the
  /// continuationToken).
  nlohmann::json list_pages(const std::string& path, const char* key,
                            const std::string& correlation_id) const;
  /// The end of a request that may have started a long-running operation: a 200/201 answer's
  /// body; for a 202 the operation polled until it succeeds (its result when `want_result`)
  /// or fails (RemoteError with the operation's error).
  nlohmann::json finish_operation(const FabricAnswer& answer, const std::string& what,
                                  bool want_result, const std::string& correlation_id,
                                  const CancelCheck& cancelled) const;
  /// The item a create found taken by name, looked for until it is listed.
  std::optional<nlohmann::json> find_created(const ItemRequest& request,
                                             const CancelCheck& cancelled) const;
  /// The item of `type` called `display_name`, when there is one.
  std::optional<nlohmann::json> find_item(const std::string& type, const std::string& display_name,
                                          const std::string& correlation_id) const;
  bool same_origin(const std::string& url) const;
  /// The id of a notebook holding `content` (the run's .ipynb), created or reused.
  std::string notebook_for(const NotebookRun& run, const std::string& content) const;
  std::optional<std::string> exit_value_of(const std::string& notebook_id,
                                           const std::string& instance_id,
                                           const nlohmann::json& instance,
                                           const std::string& correlation_id) const;

  FabricConfig config_;
  std::string origin_;  // scheme://host[:port] of the API base
  std::shared_ptr<const HttpTransport> transport_;
  std::shared_ptr<EntraCredential> credential_;
  std::shared_ptr<ResourceRecorder> recorder_;
  std::shared_ptr<const Clock> clock_;
  Sleeper& sleeper_;
};

/// The errorCode, message and requestId of a Fabric error answer: an ErrorResponse body, the
/// x-ms-public-api-error-code and RequestId headers, else the status.
struct FabricError {
  std::string code;
  std::string message;
  std::string request_id;
};
FabricError fabric_error(const HttpResponse& response);

/// Nothing for a Completed job instance; for any other status a RemoteError whose `code` is
/// failureReason's errorCode (else the status), with its message, requestId and the status
/// (`job_status`). `instance_id` names the job when the answer does not.
void raise_for_job_status(const nlohmann::json& instance, const std::string& item_id,
                          const std::string& instance_id = {});

/// The .ipynb JSON of a notebook running `code` in `language` (python, sql, scala, r): a
/// cell tagged `parameters` declaring the parameters' names (Python only; their values
/// arrive with each run), the code cell, and the default lakehouse in the metadata when
/// `lakehouse_id` is given. InvalidArgumentError for an unknown language, a parameter name
/// that is not an identifier, or parameters of a non-Python notebook.
std::string notebook_ipynb(const std::string& code, const std::string& language,
                           const nlohmann::json& parameters, const std::string& lakehouse_id,
                           const std::string& workspace_id);

}  // namespace aadap::platforms
