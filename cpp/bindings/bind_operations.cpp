#include "engine_bindings.hpp"
#include "records.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

using engine::TaskEngine;

void bind_operations(EngineClass& engine) {
  engine
      .def(
          "start_execution",
          [](TaskEngine& e, std::string task_id, std::optional<std::string> platform,
             std::optional<std::string> code_artifact_id, std::string metadata_json,
             const std::string& actor, const std::string& correlation_id) {
            const engine::ExecutionStart start{std::move(task_id), std::move(platform),
                                               std::move(code_artifact_id),
                                               std::move(metadata_json)};
            return row(released([&] { return e.start_execution(start, actor, correlation_id); }));
          },
          py::arg("task_id"), py::arg("platform"), py::arg("code_artifact_id"),
          py::arg("metadata_json"), py::arg("actor"), py::arg("correlation_id"))
      .def(
          "finish_execution",
          [](TaskEngine& e, std::string execution_id, std::string status,
             std::optional<std::string> output, std::optional<std::string> error,
             std::string metadata_json, const std::string& actor,
             const std::string& correlation_id) {
            const engine::ExecutionFinish finish{std::move(execution_id), std::move(status),
                                                 std::move(output), std::move(error),
                                                 std::move(metadata_json)};
            return row(released([&] { return e.finish_execution(finish, actor, correlation_id); }));
          },
          py::arg("execution_id"), py::arg("status"), py::arg("output"), py::arg("error"),
          py::arg("metadata_json"), py::arg("actor"), py::arg("correlation_id"))
      .def(
          "executions",
          [](TaskEngine& e, const std::string& task_id) {
            return rows(released([&] { return e.executions(task_id); }));
          },
          py::arg("task_id"))
      .def(
          "consume_tokens",
          [](TaskEngine& e, std::string task_id, std::int64_t tokens_in, std::int64_t tokens_out,
             std::optional<std::string> agent_type, const std::string& actor,
             const std::string& correlation_id) {
            const engine::TokenCharge charge{std::move(task_id), tokens_in, tokens_out,
                                             std::move(agent_type)};
            return row(released([&] { return e.consume_tokens(charge, actor, correlation_id); }));
          },
          py::arg("task_id"), py::arg("tokens_in"), py::arg("tokens_out"), py::arg("agent_type"),
          py::arg("actor"), py::arg("correlation_id"))
      .def(
          "costs",
          [](TaskEngine& e, const std::string& task_id) {
            return rows(released([&] { return e.costs(task_id); }));
          },
          py::arg("task_id"))
      .def(
          "record_resource",
          [](TaskEngine& e, std::string task_id, std::string platform, std::string resource_type,
             std::string platform_resource_id, std::string definition_json, std::string status,
             std::string metadata_json) {
            store::ResourceRecord spec;
            spec.task_id = std::move(task_id);
            spec.platform = std::move(platform);
            spec.resource_type = std::move(resource_type);
            spec.platform_resource_id = std::move(platform_resource_id);
            spec.definition_json = std::move(definition_json);
            spec.status = std::move(status);
            spec.metadata_json = std::move(metadata_json);
            return row(released([&] { return e.record_resource(spec); }));
          },
          py::arg("task_id"), py::arg("platform"), py::arg("resource_type"),
          py::arg("platform_resource_id"), py::arg("definition_json"), py::arg("status"),
          py::arg("metadata_json"))
      .def(
          "resources",
          [](TaskEngine& e, const std::string& task_id) {
            return rows(released([&] { return e.resources(task_id); }));
          },
          py::arg("task_id"))
      .def(
          "log",
          [](TaskEngine& e, const std::string& task_id, const std::string& level,
             const std::string& message, std::optional<std::string> source,
             const std::string& correlation_id) {
            return row(
                released([&] { return e.log(task_id, level, message, source, correlation_id); }));
          },
          py::arg("task_id"), py::arg("level"), py::arg("message"), py::arg("source"),
          py::arg("correlation_id"))
      .def(
          "logs",
          [](TaskEngine& e, const std::string& task_id) {
            return rows(released([&] { return e.logs(task_id); }));
          },
          py::arg("task_id"))
      .def("prune", &TaskEngine::prune, py::arg("cutoff"), py::arg("actor"),
           py::arg("correlation_id"), py::call_guard<py::gil_scoped_release>());
}

}  // namespace aadap::bindings
