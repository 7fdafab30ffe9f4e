// The Microsoft Fabric client's binding: items and definitions, long-running operations, the
// job scheduler, notebook runs and lakehouses. JSON crosses as text; every blocking call
// releases the GIL and can be interrupted with Ctrl-C (KeyboardInterrupt).
#include "aadap/core/errors.hpp"
#include "aadap/platforms/fabric.hpp"
#include "bindings.hpp"
#include "platform_calls.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

using namespace platforms;
using Parts = std::vector<std::pair<std::string, py::bytes>>;

ItemDefinition definition_of(std::string format, const Parts& parts) {
  ItemDefinition definition;
  definition.format = std::move(format);
  for (const auto& [path, payload] : parts) definition.parts.emplace_back(path, payload);
  return definition;
}

nlohmann::json json_of(const std::string& text, const char* what) {
  try {
    return text.empty() ? nlohmann::json::object() : nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception&) {
    throw InvalidArgumentError(std::string(what) + " is not valid JSON");
  }
}

}  // namespace

void bind_fabric(py::module_& m) {
  py::class_<FabricClient, std::shared_ptr<FabricClient>>(m, "FabricCore")
      .def(py::init([](std::shared_ptr<HttpTransport> transport,
                       std::shared_ptr<EntraCredential> credential, std::string api_base,
                       std::string workspace_id, std::string lakehouse_id, std::string scope,
                       RetryPolicy retry, double request_timeout, double operation_timeout,
                       std::shared_ptr<ResourceRecorder> recorder,
                       std::shared_ptr<ManualTime> manual) {
             const auto time = time_of(manual);
             FabricConfig config;
             config.api_base = std::move(api_base);
             config.workspace_id = std::move(workspace_id);
             config.lakehouse_id = std::move(lakehouse_id);
             config.scope = std::move(scope);
             config.retry = std::move(retry);
             config.request_timeout = milliseconds_of(request_timeout, "request_timeout");
             config.operation_timeout = milliseconds_of(operation_timeout, "operation_timeout");
             return std::make_shared<FabricClient>(std::move(config), std::move(transport),
                                                   std::move(credential), std::move(recorder),
                                                   time.clock, *time.sleeper);
           }),
           py::kw_only(), py::arg("transport"), py::arg("credential"), py::arg("api_base"),
           py::arg("workspace_id"), py::arg("lakehouse_id"), py::arg("scope"), py::arg("retry"),
           py::arg("request_timeout"), py::arg("operation_timeout"), py::arg("recorder"),
           py::arg("time"), py::keep_alive<1, 11>())  // the recorder refers to its engine
      .def_property_readonly("api_base", [](const FabricClient& c) { return c.config().api_base; })
      .def_property_readonly("workspace_id",
                             [](const FabricClient& c) { return c.config().workspace_id; })
      .def_property_readonly("lakehouse_id",
                             [](const FabricClient& c) { return c.config().lakehouse_id; })
      .def(
          "list_items",
          [](const FabricClient& c, const std::string& type, const std::string& cid) {
            InterruptibleCall call;
            return c.list_items(type, cid).dump();
          },
          py::arg("type"), py::arg("correlation_id"))
      .def(
          "get_item",
          [](const FabricClient& c, const std::string& item_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_item(item_id, cid).dump();
          },
          py::arg("item_id"), py::arg("correlation_id"))
      .def(
          "create_item",
          [](const FabricClient& c, std::string display_name, std::string type,
             std::string description, std::optional<std::string> definition_format,
             const Parts& parts, bool reuse_existing, std::string task_id, std::string cid) {
            ItemRequest request;
            request.display_name = std::move(display_name);
            request.type = std::move(type);
            request.description = std::move(description);
            if (definition_format) request.definition = definition_of(*definition_format, parts);
            request.reuse_existing = reuse_existing;
            request.task_id = std::move(task_id);
            request.correlation_id = std::move(cid);
            InterruptibleCall call;
            return c.create_item(request, interrupt_check()).dump();
          },
          py::arg("display_name"), py::arg("type"), py::arg("description"),
          py::arg("definition_format"), py::arg("parts"), py::arg("reuse_existing"),
          py::arg("task_id"), py::arg("correlation_id"))
      .def(
          "update_definition",
          [](const FabricClient& c, const std::string& item_id, std::string format,
             const Parts& parts, const std::string& cid) {
            const auto definition = definition_of(std::move(format), parts);
            InterruptibleCall call;
            c.update_definition(item_id, definition, cid, interrupt_check());
          },
          py::arg("item_id"), py::arg("format"), py::arg("parts"), py::arg("correlation_id"))
      .def(
          "get_definition",
          [](const FabricClient& c, const std::string& item_id, const std::string& format,
             const std::string& cid) {
            ItemDefinition definition;
            {
              InterruptibleCall call;
              definition = c.get_definition(item_id, format, cid, interrupt_check());
            }
            py::list parts;
            for (const auto& [path, payload] : definition.parts) {
              parts.append(py::make_tuple(path, py::bytes(payload)));
            }
            return py::make_tuple(definition.format, parts);
          },
          py::arg("item_id"), py::arg("format"), py::arg("correlation_id"))
      .def(
          "delete_item",
          [](const FabricClient& c, const std::string& item_id, const std::string& cid) {
            InterruptibleCall call;
            c.delete_item(item_id, cid);
          },
          py::arg("item_id"), py::arg("correlation_id"))
      .def(
          "start_job",
          [](const FabricClient& c, const std::string& item_id, const std::string& job_type,
             const std::string& execution_data, const std::string& task_id,
             const std::string& cid) {
            const auto data = json_of(execution_data, "the execution data");
            InterruptibleCall call;
            const JobStart start = c.start_job(item_id, job_type, data, task_id, cid);
            return std::make_pair(start.job_instance_id,
                                  static_cast<double>(start.first_poll.count()) / 1000.0);
          },
          py::arg("item_id"), py::arg("job_type"), py::arg("execution_data_json"),
          py::arg("task_id"), py::arg("correlation_id"))
      .def(
          "get_job_instance",
          [](const FabricClient& c, const std::string& item_id, const std::string& instance_id,
             const std::string& cid) {
            InterruptibleCall call;
            return c.get_job_instance(item_id, instance_id, cid).dump();
          },
          py::arg("item_id"), py::arg("instance_id"), py::arg("correlation_id"))
      .def(
          "list_job_instances",
          [](const FabricClient& c, const std::string& item_id, const std::string& cid) {
            InterruptibleCall call;
            return c.list_job_instances(item_id, cid).dump();
          },
          py::arg("item_id"), py::arg("correlation_id"))
      .def(
          "cancel_job",
          [](const FabricClient& c, const std::string& item_id, const std::string& instance_id,
             const std::string& cid) {
            InterruptibleCall call;
            c.cancel_job(item_id, instance_id, cid);
          },
          py::arg("item_id"), py::arg("instance_id"), py::arg("correlation_id"))
      .def(
          "wait_for_job",
          [](const FabricClient& c, const std::string& item_id, const std::string& instance_id,
             double timeout, bool cancel_on_timeout, py::object progress, double first_poll,
             const std::string& cid) {
            const auto options = wait_options(timeout, cancel_on_timeout, progress, cid);
            const auto first = std::chrono::milliseconds(
                static_cast<std::int64_t>(std::max(0.0, first_poll) * 1000));
            InterruptibleCall call;
            return c.wait_for_job(item_id, instance_id, options, first).dump();
          },
          py::arg("item_id"), py::arg("instance_id"), py::arg("timeout"),
          py::arg("cancel_on_timeout"), py::arg("progress"), py::arg("first_poll"),
          py::arg("correlation_id"))
      .def(
          "run_notebook",
          [](const FabricClient& c, std::string code, std::string language,
             const std::string& parameters, std::string notebook_name, std::string lakehouse_id,
             const std::string& configuration, std::string task_id, double timeout,
             py::object progress, const std::string& cid) {
            NotebookRun run;
            run.code = std::move(code);
            run.language = std::move(language);
            run.parameters = json_of(parameters, "the parameters");
            run.notebook_name = std::move(notebook_name);
            run.lakehouse_id = std::move(lakehouse_id);
            run.configuration = json_of(configuration, "the configuration");
            run.task_id = std::move(task_id);
            run.wait = wait_options(timeout, true, progress, cid);
            JobResult result;
            {
              InterruptibleCall call;
              result = c.run_notebook(run);
            }
            py::dict out;
            out["item_id"] = result.item_id;
            out["job_instance_id"] = result.job_instance_id;
            out["status"] = result.status;
            out["exit_value"] = result.exit_value;
            out["instance_json"] = result.instance.dump();
            return out;
          },
          py::arg("code"), py::arg("language"), py::arg("parameters_json"),
          py::arg("notebook_name"), py::arg("lakehouse_id"), py::arg("configuration_json"),
          py::arg("task_id"), py::arg("timeout"), py::arg("progress"), py::arg("correlation_id"))
      .def(
          "list_lakehouses",
          [](const FabricClient& c, const std::string& cid) {
            InterruptibleCall call;
            return c.list_lakehouses(cid).dump();
          },
          py::arg("correlation_id"))
      .def(
          "get_lakehouse",
          [](const FabricClient& c, const std::string& lakehouse_id, const std::string& cid) {
            InterruptibleCall call;
            return c.get_lakehouse(lakehouse_id, cid).dump();
          },
          py::arg("lakehouse_id"), py::arg("correlation_id"))
      .def(
          "list_tables",
          [](const FabricClient& c, const std::string& lakehouse_id, const std::string& cid) {
            InterruptibleCall call;
            return c.list_tables(lakehouse_id, cid).dump();
          },
          py::arg("lakehouse_id"), py::arg("correlation_id"));

  m.def(
      "fabric_raise_for_job_status",
      [](const std::string& instance, const std::string& item_id, const std::string& instance_id) {
        raise_for_job_status(json_of(instance, "the job instance"), item_id, instance_id);
      },
      py::arg("instance_json"), py::arg("item_id"), py::arg("instance_id"),
      "RemoteError (failureReason's code and message) unless the job instance Completed.");
}

}  // namespace aadap::bindings
