#include "engine_bindings.hpp"
#include "records.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

using engine::TaskEngine;

void bind_governance(EngineClass& engine) {
  engine
      .def(
          "add_artifact",
          [](TaskEngine& e, std::string task_id, std::string artifact_type, std::string name,
             std::string content, std::optional<std::string> parent_id,
             std::optional<std::string> edit_message, std::optional<std::string> storage_uri,
             std::string metadata_json, const std::string& actor,
             const std::string& correlation_id) {
            const engine::NewArtifact spec{std::move(task_id),     std::move(artifact_type),
                                           std::move(name),        std::move(content),
                                           std::move(parent_id),   std::move(edit_message),
                                           std::move(storage_uri), std::move(metadata_json)};
            return row(released([&] { return e.add_artifact(spec, actor, correlation_id); }));
          },
          py::arg("task_id"), py::arg("artifact_type"), py::arg("name"), py::arg("content"),
          py::arg("parent_id"), py::arg("edit_message"), py::arg("storage_uri"),
          py::arg("metadata_json"), py::arg("actor"), py::arg("correlation_id"))
      .def(
          "record_validation",
          [](TaskEngine& e, std::string artifact_id, bool passed, std::string risk_level,
             std::string findings_json, std::string summary, const std::string& actor,
             const std::string& correlation_id) {
            const engine::ValidationResult result{std::move(artifact_id), passed,
                                                  std::move(risk_level), std::move(findings_json),
                                                  std::move(summary)};
            return row(
                released([&] { return e.record_validation(result, actor, correlation_id); }));
          },
          py::arg("artifact_id"), py::arg("passed"), py::arg("risk_level"),
          py::arg("findings_json"), py::arg("summary"), py::arg("actor"), py::arg("correlation_id"))
      .def(
          "get_artifact",
          [](TaskEngine& e, const std::string& id) {
            return row(released([&] { return e.get_artifact(id); }));
          },
          py::arg("artifact_id"))
      .def(
          "artifacts",
          [](TaskEngine& e, const std::string& task_id, std::optional<std::string> type) {
            return rows(released([&] { return e.artifacts(task_id, type); }));
          },
          py::arg("task_id"), py::arg("artifact_type"))
      .def(
          "request_approval",
          [](TaskEngine& e, std::string task_id, std::string operation_type,
             std::string requested_by, std::optional<std::string> artifact_id,
             std::string risk_level, std::string findings_json, std::string explanation_json,
             std::optional<double> expires_in_seconds, const std::string& correlation_id) {
            const engine::ApprovalRequestSpec spec{
                std::move(task_id),          std::move(operation_type), std::move(requested_by),
                std::move(artifact_id),      std::move(risk_level),     std::move(findings_json),
                std::move(explanation_json), expires_in_seconds};
            return row(released([&] { return e.request_approval(spec, correlation_id); }));
          },
          py::arg("task_id"), py::arg("operation_type"), py::arg("requested_by"),
          py::arg("artifact_id"), py::arg("risk_level"), py::arg("findings_json"),
          py::arg("explanation_json"), py::arg("expires_in_seconds"), py::arg("correlation_id"))
      .def(
          "start_review",
          [](TaskEngine& e, const std::string& id, const std::string& reviewer,
             const std::string& correlation_id) {
            return row(released([&] { return e.start_review(id, reviewer, correlation_id); }));
          },
          py::arg("request_id"), py::arg("reviewer"), py::arg("correlation_id"))
      .def(
          "decide",
          [](TaskEngine& e, const std::string& id, bool approve, const std::string& decided_by,
             const std::string& reason, const std::string& correlation_id) {
            return row(released(
                [&] { return e.decide(id, approve, decided_by, reason, correlation_id); }));
          },
          py::arg("request_id"), py::arg("approve"), py::arg("decided_by"), py::arg("reason"),
          py::arg("correlation_id"))
      .def(
          "expire_due",
          [](TaskEngine& e, const std::string& correlation_id) {
            return rows(released([&] { return e.expire_due(correlation_id); }));
          },
          py::arg("correlation_id"))
      .def(
          "get_approval",
          [](TaskEngine& e, const std::string& id, const std::string& correlation_id) {
            return row(released([&] { return e.get_approval(id, correlation_id); }));
          },
          py::arg("request_id"), py::arg("correlation_id"))
      .def(
          "wait_for_decision",
          [](TaskEngine& e, const std::string& id, double timeout_seconds,
             const std::string& correlation_id) {
            const auto timeout = std::chrono::milliseconds(
                static_cast<std::int64_t>(std::max(0.0, timeout_seconds) * 1000.0));
            return row(released([&] { return e.wait_for_decision(id, timeout, correlation_id); }));
          },
          py::arg("request_id"), py::arg("timeout_seconds"), py::arg("correlation_id"))
      .def(
          "approvals",
          [](TaskEngine& e, const std::string& task_id, std::optional<std::string> status,
             const std::string& correlation_id) {
            return rows(released([&] { return e.approvals(task_id, status, correlation_id); }));
          },
          py::arg("task_id"), py::arg("status"), py::arg("correlation_id"));
}

}  // namespace aadap::bindings
