// The Databricks client (platforms.md §4, cloud-apis.md B1, B3): SQL through the Statement
// Execution API 2.0 — submit without waiting (so the statement id is known at once), poll
// from 100 ms doubling to 10 s until a terminal state or the caller's timeout, cancel the
// statement on timeout or interruption,
// follow every chunk (inline, or EXTERNAL_LINKS downloaded without the Authorization header),
// and hold the rows column by column (SqlResultTable). Requests are retried per
// RetryPolicy::databricks(); a refused token is renewed once; errors of every shape the service
// sends are typed. An execution for a task is recorded through the core ResourceRecorder.
//
// Thread-safe: one client serves any number of threads.
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/core/resource_recorder.hpp"
#include "aadap/platforms/databricks_auth.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"
#include "aadap/platforms/sql_result_table.hpp"
#include "aadap/platforms/wait_options.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aadap::platforms {

struct DatabricksConfig {
  DatabricksAuth auth;
  std::string cluster_id;    // the default of run_python()
  std::string warehouse_id;  // defaults of sql()
  std::string catalog;
  std::string schema;
  RetryPolicy retry = RetryPolicy::databricks();
  std::chrono::milliseconds request_timeout{60'000};
};

struct SqlParameter {
  std::string name;                  // a `:name` marker of the statement
  std::optional<std::string> value;  // nullopt: NULL
  std::string type = "STRING";       // INT, BIGINT, DOUBLE, DECIMAL(10,2), DATE, ...
};

struct SqlStatement {
  std::string statement;
  std::vector<SqlParameter> parameters;
  std::string warehouse_id;  // empty: the configured one
  std::string catalog;
  std::string schema;
  bool external_links = false;  // EXTERNAL_LINKS disposition (large results)
  std::optional<std::int64_t> row_limit;
  std::chrono::milliseconds timeout{600'000};  // the whole statement, polls included
  std::string task_id;                         // an execution is recorded when set
  std::string correlation_id;
};

struct SqlProgress {
  std::string statement_id;
  std::string state;  // PENDING, RUNNING, SUCCEEDED (then chunks arrive)
  double elapsed_seconds = 0;
  std::size_t chunks_fetched = 0;
  std::size_t chunk_count = 0;
};
using SqlProgressCallback = std::function<void(const SqlProgress&)>;

/// What a Python command printed or returned (Command Execution API 1.2).
struct CommandResult {
  std::string result_type;  // text, table, image, images
  std::string text;         // text results (and the file name of an image)
  // table results: the schema's columns (name, Spark type) and the rows as typed JSON values
  std::vector<std::pair<std::string, std::string>> columns;
  nlohmann::json rows = nlohmann::json::array();
  bool truncated = false;
  std::string command_id;
};

struct PythonCommand {
  std::string code;
  std::string cluster_id;  // empty: the configured one
  std::chrono::milliseconds timeout{1'200'000};
  std::string task_id;  // an execution is recorded when set
  std::string correlation_id;
};

/// A notebook or file to put into the workspace (Workspace API 2.0 import).
struct WorkspaceImport {
  std::string path;               // absolute: /Users/someone@example.com/nb
  std::string content;            // the raw bytes: source text, or the .ipynb JSON for JUPYTER
  std::string format = "SOURCE";  // SOURCE, JUPYTER, AUTO, RAW, HTML, DBC, R_MARKDOWN
  std::string language;           // PYTHON, SQL, SCALA, R: required for SOURCE
  bool overwrite = false;
  std::string task_id;  // the notebook is recorded as a platform resource when set
  std::string correlation_id;
};

/// A pipeline update to start (Pipelines API 2.0).
struct PipelineUpdateRequest {
  std::string pipeline_id;
  bool full_refresh = false;
  std::vector<std::string> refresh_selection;       // tables to refresh (empty: all)
  std::vector<std::string> full_refresh_selection;  // tables to recompute
  bool validate_only = false;
  std::string task_id;  // the update is recorded as a platform resource when set
  std::string correlation_id;
};

struct SqlStatementResult {
  std::string statement_id;
  SqlResultTable table;
  bool truncated = false;
  std::int64_t total_row_count = 0;
};

class DatabricksClient {
 public:
  DatabricksClient(DatabricksConfig config, std::shared_ptr<const HttpTransport> transport,
                   std::shared_ptr<ResourceRecorder> recorder = nullptr,
                   std::shared_ptr<const Clock> clock = std::make_shared<SteadyClock>(),
                   Sleeper& sleeper = SystemSleeper::instance());

  /// Runs one statement and returns all its rows. FAILED: RemoteError with `sql_state`,
  /// `code` and the service's message; CANCELED/CLOSED by others: RemoteError; the timeout:
  /// PlatformTimeoutError (the statement cancelled); `cancelled`: CancelledError (cancelled).
  SqlStatementResult sql(const SqlStatement& statement, const SqlProgressCallback& progress = {},
                         const CancelCheck& cancelled = {}) const;

  /// Runs Python on an all-purpose cluster: checks the cluster runs, creates an execution
  /// context, waits for it, executes, polls, and destroys the context on every path (success,
  /// failure, timeout, cancellation). A Python exception (Finished with an error result) or an
  /// Error status is a RemoteError carrying `summary` and `cause`; the timeout a
  /// PlatformTimeoutError (the command cancelled). Without a cluster: ConfigurationError —
  /// Python is never sent to a SQL warehouse.
  CommandResult run_python(const PythonCommand& command, const CancelCheck& cancelled = {}) const;

  // Jobs (Jobs API 2.1). Runs are returned as the service's Run objects.
  /// Every job (all pages), optionally those whose name is exactly `name`.
  nlohmann::json list_jobs(const std::string& name = {},
                           const std::string& correlation_id = {}) const;
  nlohmann::json get_job(std::int64_t job_id, const std::string& correlation_id = {}) const;
  /// Triggers a job; with an idempotency token a repeat (or a retry) returns the same run.
  /// The run is recorded as a platform resource of `task_id` when given.
  std::int64_t run_now(std::int64_t job_id, const nlohmann::json& job_parameters,
                       const std::string& idempotency_token, const std::string& task_id,
                       const std::string& correlation_id = {}) const;
  /// A one-time run of `tasks` (the API's task objects); an idempotency token is generated
  /// when none is given, so the submit is retried safely.
  std::int64_t submit_run(const std::string& run_name, const nlohmann::json& tasks,
                          std::string idempotency_token, std::int64_t timeout_seconds,
                          const std::string& task_id, const std::string& correlation_id = {}) const;
  nlohmann::json get_run(std::int64_t run_id, const std::string& correlation_id = {}) const;
  nlohmann::json get_run_output(std::int64_t run_id, const std::string& correlation_id = {}) const;
  void cancel_run(std::int64_t run_id, const std::string& correlation_id = {}) const;
  /// Polls the run (from 0.5 s, doubling up to 10 s) until its life cycle ends (TERMINATED,
  /// SKIPPED, INTERNAL_ERROR) and returns it; PlatformTimeoutError after the timeout,
  /// CancelledError on cancellation (see WaitOptions).
  nlohmann::json wait_for_run(std::int64_t run_id, const WaitOptions& options) const;

  // Workspace (Workspace API 2.0). Objects are the service's ObjectInfo.
  /// The direct children of a folder (none for an empty one).
  nlohmann::json list_workspace(const std::string& path,
                                const std::string& correlation_id = {}) const;
  nlohmann::json workspace_status(const std::string& path,
                                  const std::string& correlation_id = {}) const;
  /// Imports a notebook or file (the content base64-encoded on the wire). An existing path
  /// without `overwrite` is a RemoteError RESOURCE_ALREADY_EXISTS.
  void import_notebook(const WorkspaceImport& request) const;
  /// The notebook (or file) as `format` renders it: SOURCE text, JUPYTER's .ipynb JSON, ...
  std::string export_notebook(const std::string& path, const std::string& format,
                              const std::string& correlation_id = {}) const;
  void delete_workspace_object(const std::string& path, bool recursive,
                               const std::string& correlation_id = {}) const;
  /// Makes a folder and its missing parents.
  void make_workspace_dirs(const std::string& path, const std::string& correlation_id = {}) const;

  // Pipelines (Pipelines API 2.0).
  /// Every pipeline's status (all pages), optionally filtered (`name LIKE '%sales%'`).
  nlohmann::json list_pipelines(const std::string& filter = {},
                                const std::string& correlation_id = {}) const;
  nlohmann::json get_pipeline(const std::string& pipeline_id,
                              const std::string& correlation_id = {}) const;
  /// Starts an update and returns its id; 409 RESOURCE_CONFLICT while one is active.
  std::string start_update(const PipelineUpdateRequest& request) const;
  /// The update object (unwrapped from the answer's `update`).
  nlohmann::json get_update(const std::string& pipeline_id, const std::string& update_id,
                            const std::string& correlation_id = {}) const;
  void stop_pipeline(const std::string& pipeline_id, const std::string& correlation_id = {}) const;
  /// Polls the update (from 1 s, doubling up to 10 s) until COMPLETED, FAILED or CANCELED and
  /// returns it; a timeout or cancellation stops the pipeline as WaitOptions say — only while
  /// this update is still its latest.
  nlohmann::json wait_for_update(const std::string& pipeline_id, const std::string& update_id,
                                 const WaitOptions& options) const;

  // Unity Catalog listings (all pages; the service may send empty pages with a token).
  nlohmann::json list_catalogs(const std::string& correlation_id = {}) const;
  nlohmann::json list_schemas(const std::string& catalog,
                              const std::string& correlation_id = {}) const;
  nlohmann::json list_tables(const std::string& catalog, const std::string& schema,
                             const std::string& correlation_id = {}) const;
  /// One table with its columns and properties, by `catalog.schema.table`.
  nlohmann::json get_table(const std::string& full_name,
                           const std::string& correlation_id = {}) const;

  /// One REST call to the workspace (path from /api/...): the parsed JSON answer, or the
  /// typed error. `retriable`: safe to repeat (reads; writes with an idempotency token).
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body, const std::string& correlation_id, bool retriable,
                      const CancelCheck& cancelled = {}) const;

  const std::string& host() const noexcept { return config_.auth.host; }
  const DatabricksConfig& config() const noexcept { return config_; }

 private:
  SqlStatementResult run(const SqlStatement& statement, const SqlProgressCallback& progress,
                         const CancelCheck& cancelled, std::string& statement_id) const;
  /// An answer whose inline rows (`data_array`) were cut out before parsing the rest: rows
  /// go to the result table's own scanner, many times faster than a JSON DOM.
  struct Answer {
    nlohmann::json body;
    std::string rows;  // the data_array's JSON text; empty when there is none
  };
  static Answer split_rows(std::string text, const std::string& action);
  std::string call_text(const std::string& method, const std::string& path,
                        const nlohmann::json& body, const std::string& correlation_id,
                        bool retriable, const CancelCheck& cancelled) const;
  /// Appends the rows of a result chunk (its inline `rows`, or its external links' content)
  /// to `table`.
  void take_chunk(const nlohmann::json& chunk, const std::string& rows, SqlResultTable& table,
                  const std::string& statement_id, const std::string& correlation_id,
                  const CancelCheck& cancelled) const;
  void cancel_statement(const std::string& statement_id, const std::string& correlation_id) const;
  CommandResult execute_python(const PythonCommand& command, const std::string& cluster,
                               const CancelCheck& cancelled) const;
  void stop_if_latest(const std::string& pipeline_id, const std::string& update_id,
                      const std::string& correlation_id) const;
  /// The items under `key` of every page of a listing: `path` (with its query) is read with
  /// `page_token` until an answer carries no next_page_token (or has_more is false).
  nlohmann::json list_pages(const std::string& path, const char* key,
                            const std::string& correlation_id) const;

  DatabricksConfig config_;
  std::shared_ptr<const HttpTransport> transport_;
  std::shared_ptr<ResourceRecorder> recorder_;
  std::shared_ptr<const Clock> clock_;
  Sleeper& sleeper_;
};

/// The code and message of a Databricks error answer, whatever its shape: `{"error_code",
/// "message"}` (the code may be a number), `{"error": ...}`, "CODE: message" text, HTML, or
/// nothing (the reason phrase header, else the status).
std::pair<std::string, std::string> databricks_error(const HttpResponse& response);

}  // namespace aadap::platforms
