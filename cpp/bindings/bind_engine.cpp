#include "aadap/core/database_url.hpp"
#include "aadap/core/errors.hpp"
#include "aadap/engine/task_engine.hpp"
#include "aadap/store/postgres_store.hpp"
#include "aadap/store/sqlite_store.hpp"
#include "bindings.hpp"
#include "engine_bindings.hpp"
#include "records.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

std::shared_ptr<store::Store> open_store(const std::string& url, const Settings& settings) {
  const auto parsed = DatabaseUrl::parse(url);
  if (parsed.backend() == DatabaseBackend::postgresql) {
    store::PostgresStore::Options options;
    options.pool_size = settings.db_pool_size;
    options.pool_overflow = settings.db_pool_overflow;
    return std::make_shared<store::PostgresStore>(parsed, options);
  }
  return std::make_shared<store::SqliteStore>(parsed.sqlite_path(), settings.sqlite_synchronous);
}

}  // namespace

void bind_engine(py::module_& m) {
  py::class_<engine::VerifyReport>(m, "VerifyReport")
      .def_readonly("ok", &engine::VerifyReport::ok)
      .def_readonly("replayed_state", &engine::VerifyReport::replayed_state)
      .def_readonly("problems", &engine::VerifyReport::problems);

  using engine::TaskEngine;
  py::class_<TaskEngine> engine_class(m, "EngineCore");
  engine_class
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
            return row(released([&] { return e.create_task(spec, actor, correlation_id); }));
          },
          py::arg("title"), py::arg("description"), py::arg("environment"), py::arg("priority"),
          py::arg("platform"), py::arg("language"), py::arg("created_by"), py::arg("token_budget"),
          py::arg("metadata_json"), py::arg("actor"), py::arg("correlation_id"))
      .def(
          "transition",
          [](TaskEngine& e, const std::string& task_id, const std::string& to_state,
             const std::string& actor, const std::string& reason, const std::string& metadata_json,
             std::optional<std::int64_t> expected_version, std::optional<std::string> artifact_id,
             const std::string& correlation_id) {
            const engine::TransitionRequest request{task_id,
                                                    to_state,
                                                    actor,
                                                    reason,
                                                    metadata_json,
                                                    expected_version,
                                                    std::move(artifact_id)};
            return row(released([&] { return e.transition(request, correlation_id); }));
          },
          py::arg("task_id"), py::arg("to_state"), py::arg("actor"), py::arg("reason"),
          py::arg("metadata_json"), py::arg("expected_version"), py::arg("artifact_id"),
          py::arg("correlation_id"))
      .def(
          "transition_many",
          [](TaskEngine& e, const std::vector<py::tuple>& steps,
             const std::string& correlation_id) {
            std::vector<engine::TransitionRequest> requests;
            requests.reserve(steps.size());
            for (const auto& step : steps) {  // (task_id, to_state, actor, reason, metadata,
                                              //  expected_version, artifact_id), as built by
                                              //  aadap.engine
              requests.push_back(engine::TransitionRequest{
                  step[0].cast<std::string>(), step[1].cast<std::string>(),
                  step[2].cast<std::string>(), step[3].cast<std::string>(),
                  step[4].cast<std::string>(), step[5].cast<std::optional<std::int64_t>>(),
                  step[6].cast<std::optional<std::string>>()});
            }
            return rows(released([&] { return e.transition_many(requests, correlation_id); }));
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
            return rows(released([&] { return e.list_tasks(std::move(query), groups); }));
          },
          py::arg("states"), py::arg("groups"), py::arg("environment"), py::arg("platform"),
          py::arg("min_priority"), py::arg("max_priority"), py::arg("created_after"),
          py::arg("created_before"), py::arg("order_by"), py::arg("descending"), py::arg("limit"),
          py::arg("offset"))
      .def(
          "get_task",
          [](TaskEngine& e, const std::string& id) {
            return row(released([&] { return e.get_task(id); }));
          },
          py::arg("task_id"))
      .def(
          "history",
          [](TaskEngine& e, const std::string& id) {
            return rows(released([&] { return e.history(id); }));
          },
          py::arg("task_id"))
      .def("replay", &TaskEngine::replay, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def("verify", &TaskEngine::verify, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>())
      .def(
          "audit",
          [](TaskEngine& e, const std::string& id) {
            return rows(released([&] { return e.audit(id); }));
          },
          py::arg("task_id"))
      .def("checkpoint", &TaskEngine::checkpoint, py::arg("task_id"),
           py::call_guard<py::gil_scoped_release>());
  bind_governance(engine_class);
  bind_operations(engine_class);
  bind_vector_memory(m, engine_class);
}

}  // namespace aadap::bindings
