// The Databricks client's binding: SQL results column by column (numpy), Python on clusters,
// jobs, workspace notebooks, pipelines and Unity Catalog. Every blocking call releases the
// GIL and can be interrupted with Ctrl-C (KeyboardInterrupt) from the main thread.
#include "aadap/core/errors.hpp"
#include "aadap/platforms/databricks.hpp"
#include "bindings.hpp"
#include "platform_calls.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

using namespace platforms;

void bind_databricks(py::module_& m) {
  py::class_<SqlStatementResult>(m, "SqlStatementResultCore")
      .def_readonly("statement_id", &SqlStatementResult::statement_id)
      .def_readonly("truncated", &SqlStatementResult::truncated)
      .def_readonly("total_row_count", &SqlStatementResult::total_row_count)
      .def_property_readonly("row_count",
                             [](const SqlStatementResult& r) { return r.table.row_count(); })
      .def_property_readonly(
          "columns",
          [](const SqlStatementResult& r) {
            py::list out;
            for (const auto& c : r.table.columns()) {
              out.append(py::make_tuple(c.name, c.type_name, c.type_text, c.precision, c.scale));
            }
            return out;
          })
      .def(
          "numbers",
          [](const SqlStatementResult& r, std::size_t column,
             const std::string& kind) -> py::tuple {
            const auto n = static_cast<py::ssize_t>(r.table.row_count());
            py::array_t<std::uint8_t> mask(n);
            if (kind == "double") {
              py::array_t<double> values(n);
              r.table.doubles(column, values.mutable_data(), mask.mutable_data());
              return py::make_tuple(values, mask);
            }
            if (kind == "bool") {
              py::array_t<std::uint8_t> values(n);
              r.table.booleans(column, values.mutable_data(), mask.mutable_data());
              return py::make_tuple(values, mask);
            }
            py::array_t<std::int64_t> values(n);
            if (kind == "int") {
              r.table.integers(column, values.mutable_data(), mask.mutable_data());
            } else if (kind == "date") {
              r.table.dates(column, values.mutable_data(), mask.mutable_data());
            } else if (kind == "timestamp") {
              r.table.timestamps(column, values.mutable_data(), mask.mutable_data());
            } else {
              throw InvalidArgumentError("kind is int, double, bool, date or timestamp");
            }
            return py::make_tuple(values, mask);
          },
          py::arg("column"), py::arg("kind"),
          "(values, null mask) numpy arrays of a column read as `kind`.")
      .def(
          "texts",
          [](const SqlStatementResult& r, std::size_t column) {
            const auto n = r.table.row_count();
            py::list out(n);
            for (std::size_t row = 0; row < n; ++row) {
              if (r.table.is_null(column, row)) {
                out[row] = py::none();
              } else {
                const auto t = r.table.text(column, row);
                out[row] = py::reinterpret_steal<py::object>(
                    PyUnicode_DecodeUTF8(t.data(), static_cast<py::ssize_t>(t.size()), "replace"));
              }
            }
            return out;
          },
          py::arg("column"), "A column's values as the service sent them (str or None).");

  py::class_<DatabricksClient, std::shared_ptr<DatabricksClient>>(m, "DatabricksCore")
      .def(py::init([](std::shared_ptr<HttpTransport> transport, std::string host,
                       std::optional<Secret> token, std::string profile, std::string client_id,
                       std::optional<Secret> client_secret,
                       std::map<std::string, std::string> environment, std::string home,
                       std::string cluster_id, std::string warehouse_id, std::string catalog,
                       std::string schema, RetryPolicy retry, double request_timeout,
                       std::shared_ptr<ResourceRecorder> recorder,
                       std::shared_ptr<ManualTime> manual) {
             const auto time = time_of(manual);
             DatabricksAuth auth;
             {
               InterruptibleCall call;
               auth = resolve_databricks_auth(
                   DatabricksAuthOptions{std::move(host), std::move(token), std::move(profile),
                                         std::move(client_id), std::move(client_secret),
                                         std::move(environment), std::move(home)},
                   transport, time.clock, *time.sleeper);
             }
             // a profile's extras fill what was not given
             if (warehouse_id.empty() && auth.profile.count("warehouse_id") != 0) {
               warehouse_id = auth.profile.at("warehouse_id");
             }
             if (cluster_id.empty() && auth.profile.count("cluster_id") != 0) {
               cluster_id = auth.profile.at("cluster_id");
             }
             return std::make_shared<DatabricksClient>(
                 DatabricksConfig{std::move(auth), std::move(cluster_id), std::move(warehouse_id),
                                  std::move(catalog), std::move(schema), std::move(retry),
                                  milliseconds_of(request_timeout, "request_timeout")},
                 std::move(transport), std::move(recorder), time.clock, *time.sleeper);
           }),
           py::kw_only(), py::arg("transport"), py::arg("host"), py::arg("token"),
           py::arg("profile"), py::arg("client_id"), py::arg("client_secret"),
           py::arg("environment"), py::arg("home"), py::arg("cluster_id"), py::arg("warehouse_id"),
           py::arg("catalog"), py::arg("schema"), py::arg("retry"), py::arg("request_timeout"),
           py::arg("recorder"), py::arg("time"),
           py::keep_alive<1, 16>())  // the recorder refers to its engine
      .def_property_readonly("host", &DatabricksClient::host)
      .def_property_readonly("warehouse_id",
                             [](const DatabricksClient& c) { return c.config().warehouse_id; })
      .def_property_readonly("cluster_id",
                             [](const DatabricksClient& c) { return c.config().cluster_id; })
      .def(
          "list_jobs",
          [](const DatabricksClient& c, const std::string& name, const std::string& cid) {
            InterruptibleCall call;
            return c.list_jobs(name, cid).dump();
          },
          py::arg("name"), py::arg("correlation_id"))
      .def(
          "get_job",
          [](const DatabricksClient& c, std::int64_t job_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_job(job_id, cid).dump();
          },
          py::arg("job_id"), py::arg("correlation_id"))
      .def(
          "run_now",
          [](const DatabricksClient& c, std::int64_t job_id, const std::string& parameters_json,
             const std::string& token, const std::string& task_id, const std::string& cid) {
            InterruptibleCall call;
            return c.run_now(job_id, nlohmann::json::parse(parameters_json), token, task_id, cid);
          },
          py::arg("job_id"), py::arg("parameters_json"), py::arg("idempotency_token"),
          py::arg("task_id"), py::arg("correlation_id"))
      .def(
          "submit_run",
          [](const DatabricksClient& c, const std::string& run_name, const std::string& tasks_json,
             const std::string& token, std::int64_t timeout_seconds, const std::string& task_id,
             const std::string& cid) {
            InterruptibleCall call;
            return c.submit_run(run_name, nlohmann::json::parse(tasks_json), token, timeout_seconds,
                                task_id, cid);
          },
          py::arg("run_name"), py::arg("tasks_json"), py::arg("idempotency_token"),
          py::arg("timeout_seconds"), py::arg("task_id"), py::arg("correlation_id"))
      .def(
          "get_run",
          [](const DatabricksClient& c, std::int64_t run_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_run(run_id, cid).dump();
          },
          py::arg("run_id"), py::arg("correlation_id"))
      .def(
          "get_run_output",
          [](const DatabricksClient& c, std::int64_t run_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_run_output(run_id, cid).dump();
          },
          py::arg("run_id"), py::arg("correlation_id"))
      .def(
          "cancel_run",
          [](const DatabricksClient& c, std::int64_t run_id, const std::string& cid) {
            InterruptibleCall call;
            c.cancel_run(run_id, cid);
          },
          py::arg("run_id"), py::arg("correlation_id"))
      .def(
          "wait_for_run",
          [](const DatabricksClient& c, std::int64_t run_id, double timeout, bool cancel_on_timeout,
             py::object progress, const std::string& cid) {
            const auto options = wait_options(timeout, cancel_on_timeout, progress, cid);
            InterruptibleCall call;
            return c.wait_for_run(run_id, options).dump();
          },
          py::arg("run_id"), py::arg("timeout"), py::arg("cancel_on_timeout"), py::arg("progress"),
          py::arg("correlation_id"))
      .def(
          "list_workspace",
          [](const DatabricksClient& c, const std::string& path, const std::string& cid) {
            InterruptibleCall call;
            return c.list_workspace(path, cid).dump();
          },
          py::arg("path"), py::arg("correlation_id"))
      .def(
          "workspace_status",
          [](const DatabricksClient& c, const std::string& path, const std::string& cid) {
            InterruptibleCall call;
            return c.workspace_status(path, cid).dump();
          },
          py::arg("path"), py::arg("correlation_id"))
      .def(
          "import_notebook",
          [](const DatabricksClient& c, std::string path, py::bytes content, std::string format,
             std::string language, bool overwrite, std::string task_id, std::string cid) {
            WorkspaceImport request;
            request.path = std::move(path);
            request.content = std::string(content);
            request.format = std::move(format);
            request.language = std::move(language);
            request.overwrite = overwrite;
            request.task_id = std::move(task_id);
            request.correlation_id = std::move(cid);
            InterruptibleCall call;
            c.import_notebook(request);
          },
          py::arg("path"), py::arg("content"), py::arg("format"), py::arg("language"),
          py::arg("overwrite"), py::arg("task_id"), py::arg("correlation_id"))
      .def(
          "export_notebook",
          [](const DatabricksClient& c, const std::string& path, const std::string& format,
             const std::string& cid) {
            std::string content;
            {
              InterruptibleCall call;
              content = c.export_notebook(path, format, cid);
            }
            return py::bytes(content);
          },
          py::arg("path"), py::arg("format"), py::arg("correlation_id"))
      .def(
          "delete_workspace_object",
          [](const DatabricksClient& c, const std::string& path, bool recursive,
             const std::string& cid) {
            InterruptibleCall call;
            c.delete_workspace_object(path, recursive, cid);
          },
          py::arg("path"), py::arg("recursive"), py::arg("correlation_id"))
      .def(
          "make_workspace_dirs",
          [](const DatabricksClient& c, const std::string& path, const std::string& cid) {
            InterruptibleCall call;
            c.make_workspace_dirs(path, cid);
          },
          py::arg("path"), py::arg("correlation_id"))
      .def(
          "list_pipelines",
          [](const DatabricksClient& c, const std::string& filter, const std::string& cid) {
            InterruptibleCall call;
            return c.list_pipelines(filter, cid).dump();
          },
          py::arg("filter"), py::arg("correlation_id"))
      .def(
          "get_pipeline",
          [](const DatabricksClient& c, const std::string& pipeline_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_pipeline(pipeline_id, cid).dump();
          },
          py::arg("pipeline_id"), py::arg("correlation_id"))
      .def(
          "start_update",
          [](const DatabricksClient& c, std::string pipeline_id, bool full_refresh,
             std::vector<std::string> refresh_selection,
             std::vector<std::string> full_refresh_selection, bool validate_only,
             std::string task_id, std::string cid) {
            PipelineUpdateRequest request;
            request.pipeline_id = std::move(pipeline_id);
            request.full_refresh = full_refresh;
            request.refresh_selection = std::move(refresh_selection);
            request.full_refresh_selection = std::move(full_refresh_selection);
            request.validate_only = validate_only;
            request.task_id = std::move(task_id);
            request.correlation_id = std::move(cid);
            InterruptibleCall call;
            return c.start_update(request);
          },
          py::arg("pipeline_id"), py::arg("full_refresh"), py::arg("refresh_selection"),
          py::arg("full_refresh_selection"), py::arg("validate_only"), py::arg("task_id"),
          py::arg("correlation_id"))
      .def(
          "get_update",
          [](const DatabricksClient& c, const std::string& pipeline_id,
             const std::string& update_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_update(pipeline_id, update_id, cid).dump();
          },
          py::arg("pipeline_id"), py::arg("update_id"), py::arg("correlation_id"))
      .def(
          "stop_pipeline",
          [](const DatabricksClient& c, const std::string& pipeline_id, const std::string& cid) {
            InterruptibleCall call;
            c.stop_pipeline(pipeline_id, cid);
          },
          py::arg("pipeline_id"), py::arg("correlation_id"))
      .def(
          "wait_for_update",
          [](const DatabricksClient& c, const std::string& pipeline_id,
             const std::string& update_id, double timeout, bool cancel_on_timeout,
             py::object progress, const std::string& cid) {
            const auto options = wait_options(timeout, cancel_on_timeout, progress, cid);
            InterruptibleCall call;
            return c.wait_for_update(pipeline_id, update_id, options).dump();
          },
          py::arg("pipeline_id"), py::arg("update_id"), py::arg("timeout"),
          py::arg("cancel_on_timeout"), py::arg("progress"), py::arg("correlation_id"))
      .def(
          "list_catalogs",
          [](const DatabricksClient& c, const std::string& cid) {
            InterruptibleCall call;
            return c.list_catalogs(cid).dump();
          },
          py::arg("correlation_id"))
      .def(
          "list_schemas",
          [](const DatabricksClient& c, const std::string& catalog, const std::string& cid) {
            InterruptibleCall call;
            return c.list_schemas(catalog, cid).dump();
          },
          py::arg("catalog"), py::arg("correlation_id"))
      .def(
          "list_tables",
          [](const DatabricksClient& c, const std::string& catalog, const std::string& schema,
             const std::string& cid) {
            InterruptibleCall call;
            return c.list_tables(catalog, schema, cid).dump();
          },
          py::arg("catalog"), py::arg("schema"), py::arg("correlation_id"))
      .def(
          "get_table",
          [](const DatabricksClient& c, const std::string& full_name, const std::string& cid) {
            InterruptibleCall call;
            return c.get_table(full_name, cid).dump();
          },
          py::arg("full_name"), py::arg("correlation_id"))
      .def(
          "run_python",
          [](const DatabricksClient& c, const std::string& code, std::string cluster_id,
             double timeout, std::string task_id, std::string correlation_id) {
            CommandResult out;
            {
              InterruptibleCall call;
              out = c.run_python(
                  PythonCommand{code, std::move(cluster_id), milliseconds_of(timeout, "timeout"),
                                std::move(task_id), std::move(correlation_id)},
                  interrupt_check());
            }
            py::dict d;
            d["result_type"] = out.result_type;
            d["text"] = out.text;
            d["columns"] = out.columns;
            d["rows_json"] = out.rows.dump();
            d["truncated"] = out.truncated;
            d["command_id"] = out.command_id;
            return d;
          },
          py::arg("code"), py::arg("cluster_id"), py::arg("timeout"), py::arg("task_id"),
          py::arg("correlation_id"))
      .def_property_readonly(
          "auth_method", [](const DatabricksClient& c) { return c.config().auth.tokens->method(); })
      .def_property_readonly("auth_source",
                             [](const DatabricksClient& c) { return c.config().auth.source; })
      .def(
          "sql",
          [](const DatabricksClient& c, const std::string& statement,
             const std::vector<std::tuple<std::string, std::optional<std::string>, std::string>>&
                 parameters,
             std::string warehouse_id, std::string catalog, std::string schema, bool external_links,
             std::optional<std::int64_t> row_limit, double timeout, std::string task_id,
             std::string correlation_id, py::object progress) {
            SqlStatement s;
            s.statement = statement;
            for (const auto& [name, value, type] : parameters) {
              s.parameters.push_back(SqlParameter{name, value, type});
            }
            s.warehouse_id = std::move(warehouse_id);
            s.catalog = std::move(catalog);
            s.schema = std::move(schema);
            s.external_links = external_links;
            s.row_limit = row_limit;
            s.timeout = milliseconds_of(timeout, "timeout");
            s.task_id = std::move(task_id);
            s.correlation_id = std::move(correlation_id);
            SqlProgressCallback report;
            if (!progress.is_none()) {
              report = [&progress](const SqlProgress& p) {
                py::gil_scoped_acquire gil;
                progress(p.statement_id, p.state, p.elapsed_seconds, p.chunks_fetched,
                         p.chunk_count);
              };
            }
            InterruptibleCall call;
            return c.sql(s, report, interrupt_check());
          },
          py::arg("statement"), py::arg("parameters"), py::arg("warehouse_id"), py::arg("catalog"),
          py::arg("schema"), py::arg("external_links"), py::arg("row_limit"), py::arg("timeout"),
          py::arg("task_id"), py::arg("correlation_id"), py::arg("progress"));
}

}  // namespace aadap::bindings
