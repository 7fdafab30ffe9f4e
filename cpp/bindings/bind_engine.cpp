#include "aadap/core/database_url.hpp"
#include "aadap/core/errors.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/store/sqlite_store.hpp"
#include "bindings.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

std::shared_ptr<store::Store> open_store(const std::string& url, const Settings& settings) {
  const auto parsed = DatabaseUrl::parse(url);
  if (parsed.backend() == DatabaseBackend::postgresql) {
    throw StoreUnavailableError(
        "the PostgreSQL store is not built yet (" + parsed.redacted() +
            "); use an embedded SQLite store: sqlite:///path/to/aadap.db or sqlite:///:memory:",
        {{"url", parsed.redacted()}});
  }
  return std::make_shared<store::SqliteStore>(parsed.sqlite_path(), settings.sqlite_synchronous);
}

}  // namespace

void bind_engine(py::module_& m) {
  py::class_<store::TaskRecord>(m, "TaskRecord")
      .def_readonly("id", &store::TaskRecord::id)
      .def_readonly("title", &store::TaskRecord::title)
      .def_readonly("description", &store::TaskRecord::description)
      .def_readonly("current_state", &store::TaskRecord::current_state)
      .def_readonly("priority", &store::TaskRecord::priority)
      .def_readonly("environment", &store::TaskRecord::environment)
      .def_readonly("platform", &store::TaskRecord::platform)
      .def_readonly("language", &store::TaskRecord::language)
      .def_readonly("created_by", &store::TaskRecord::created_by)
      .def_readonly("token_budget", &store::TaskRecord::token_budget)
      .def_readonly("tokens_used", &store::TaskRecord::tokens_used)
      .def_readonly("retry_count", &store::TaskRecord::retry_count)
      .def_readonly("version", &store::TaskRecord::version)
      .def_readonly("metadata_json", &store::TaskRecord::metadata_json)
      .def_readonly("created_at", &store::TaskRecord::created_at)
      .def_readonly("updated_at", &store::TaskRecord::updated_at);
  py::class_<store::TransitionRecord>(m, "TransitionRecord")
      .def_readonly("id", &store::TransitionRecord::id)
      .def_readonly("task_id", &store::TransitionRecord::task_id)
      .def_readonly("seq", &store::TransitionRecord::seq)
      .def_readonly("from_state", &store::TransitionRecord::from_state)
      .def_readonly("to_state", &store::TransitionRecord::to_state)
      .def_readonly("actor", &store::TransitionRecord::actor)
      .def_readonly("reason", &store::TransitionRecord::reason)
      .def_readonly("metadata_json", &store::TransitionRecord::metadata_json)
      .def_readonly("correlation_id", &store::TransitionRecord::correlation_id)
      .def_readonly("created_at", &store::TransitionRecord::created_at);
  py::class_<store::AuditRecord>(m, "AuditRecord")
      .def_readonly("id", &store::AuditRecord::id)
      .def_readonly("correlation_id", &store::AuditRecord::correlation_id)
      .def_readonly("task_id", &store::AuditRecord::task_id)
      .def_readonly("event_type", &store::AuditRecord::event_type)
      .def_readonly("actor", &store::AuditRecord::actor)
      .def_readonly("action", &store::AuditRecord::action)
      .def_readonly("resource_type", &store::AuditRecord::resource_type)
      .def_readonly("resource_id", &store::AuditRecord::resource_id)
      .def_readonly("details_json", &store::AuditRecord::details_json)
      .def_readonly("created_at", &store::AuditRecord::created_at);
  py::class_<engine::VerifyReport>(m, "VerifyReport")
      .def_readonly("ok", &engine::VerifyReport::ok)
      .def_readonly("replayed_state", &engine::VerifyReport::replayed_state)
      .def_readonly("problems", &engine::VerifyReport::problems);

  using engine::TaskEngine;
  py::class_<TaskEngine>(m, "EngineCore")
      .def(py::init([](const std::string& url, const Settings& settings,
                       std::shared_ptr<memory::WorkingMemory> checkpoints) {
             py::gil_scoped_release release;
             return std::make_unique<TaskEngine>(open_store(url, settings), settings,
                                                 std::move(checkpoints));
           }),
           py::arg("url"), py::arg("settings"), py::arg("checkpoints"))
      .def(
          "create_task",
          [](TaskEngine& e, const std::string& title, const std::string& description,
             const std::string& environment, int priority, std::optional<std::string> platform,
             std::optional<std::string> language, const std::string& created_by,
             std::optional<std::int64_t> token_budget, const std::string& metadata_json,
             const std::string& actor, const std::string& correlation_id) {
            engine::NewTask spec;
            spec.title = title;
            spec.description = description;
            spec.environment = environment;
            spec.priority = priority;
            spec.platform = std::move(platform);
            spec.language = std::move(language);
            spec.created_by = created_by;
            spec.token_budget = token_budget;
            spec.metadata_json = metadata_json;
            py::gil_scoped_release release;
            return e.create_task(spec, actor, correlation_id);
          },
          py::arg("title"), py::arg("description"), py::arg("environment"), py::arg("priority"),
          py::arg("platform"), py::arg("language"), py::arg("created_by"), py::arg("token_budget"),
          py::arg("metadata_json"), py::arg("actor"), py::arg("correlation_id"))
      .def(
          "transition",
          [](TaskEngine& e, const std::string& task_id, const std::string& to_state,
             const std::string& actor, const std::string& reason, const std::string& metadata_json,
             std::optional<std::int64_t> expected_version, const std::string& correlation_id) {
            py::gil_scoped_release release;
            return e.transition(engine::TransitionRequest{task_id, to_state, actor, reason,
                                                          metadata_json, expected_version},
                                correlation_id);
          },
          py::arg("task_id"), py::arg("to_state"), py::arg("actor"), py::arg("reason"),
          py::arg("metadata_json"), py::arg("expected_version"), py::arg("correlation_id"))
      .def(
          "transition_many",
          [](TaskEngine& e, const std::vector<py::tuple>& steps,
             const std::string& correlation_id) {
            std::vector<engine::TransitionRequest> requests;
            requests.reserve(steps.size());
            for (const auto& step : steps) {  // (task_id, to_state, actor, reason, metadata,
                                              //  expected_version), as built by aadap.engine
              requests.push_back(engine::TransitionRequest{
                  step[0].cast<std::string>(), step[1].cast<std::string>(),
                  step[2].cast<std::string>(), step[3].cast<std::string>(),
                  step[4].cast<std::string>(), step[5].cast<std::optional<std::int64_t>>()});
            }
            py::gil_scoped_release release;
            return e.transition_many(requests, correlation_id);
          },
          py::arg("steps"), py::arg("correlation_id"))
      .def(
          "list_tasks",
          [](TaskEngine& e, std::vector<std::string> states, const std::vector<std::string>& groups,
             std::optional<std::string> environment, std::optional<std::string> platform,
             std::optional<int> min_priority, std::optional<int> max_priority,
             std::optional<std::string> created_after, std::optional<std::string> created_before,
             const std::string& order_by, bool descending, int limit, std::int64_t offset) {
            store::TaskQuery query;
            query.states = std::move(states);
            query.environment = std::move(environment);
            query.platform = std::move(platform);
            query.min_priority = min_priority;
            query.max_priority = max_priority;
            query.created_after = std::move(created_after);
            query.created_before = std::move(created_before);
            query.order_by = order_by;
            query.descending = descending;
            query.limit = limit;
            query.offset = offset;
            py::gil_scoped_release release;
            return e.list_tasks(std::move(query), groups);
          },
          py::arg("states"), py::arg("groups"), py::arg("environment"), py::arg("platform"),
          py::arg("min_priority"), py::arg("max_priority"), py::arg("created_after"),
          py::arg("created_before"), py::arg("order_by"), py::arg("descending"), py::arg("limit"),
          py::arg("offset"))
      .def("get_task", &TaskEngine::get_task, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("history", &TaskEngine::history, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("replay", &TaskEngine::replay, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("verify", &TaskEngine::verify, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("audit", &TaskEngine::audit, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("checkpoint", &TaskEngine::checkpoint, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>());
}

}  // namespace aadap::bindings
