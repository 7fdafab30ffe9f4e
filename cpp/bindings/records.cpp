#include "records.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

/// Fills a tuple of known size left to right. Text is decoded with "replace" so a damaged
/// byte in the database shows up as U+FFFD instead of making the row unreadable.
class RowBuilder {
 public:
  explicit RowBuilder(Py_ssize_t size)
      : tuple_(py::reinterpret_steal<py::tuple>(PyTuple_New(size))) {
    if (!tuple_) throw py::error_already_set();
  }

  RowBuilder& add(const std::string& text) {
    return put(PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
  }
  RowBuilder& add(const std::optional<std::string>& text) {
    if (text) return add(*text);
    Py_INCREF(Py_None);
    return put(Py_None);
  }
  RowBuilder& add(std::int64_t number) { return put(PyLong_FromLongLong(number)); }
  RowBuilder& add(const std::optional<std::int64_t>& number) {
    if (number) return add(*number);
    Py_INCREF(Py_None);
    return put(Py_None);
  }
  RowBuilder& add(double number) { return put(PyFloat_FromDouble(number)); }

  py::tuple done() { return std::move(tuple_); }

 private:
  RowBuilder& put(PyObject* value) {
    if (value == nullptr) throw py::error_already_set();
    PyTuple_SET_ITEM(tuple_.ptr(), next_++, value);  // steals the reference
    return *this;
  }

  py::tuple tuple_;
  Py_ssize_t next_ = 0;
};

}  // namespace

py::tuple row(const store::TaskRecord& r) {
  return RowBuilder(16)
      .add(r.id)
      .add(r.title)
      .add(r.description)
      .add(r.current_state)
      .add(std::int64_t{r.priority})
      .add(r.environment)
      .add(r.platform)
      .add(r.language)
      .add(r.created_by)
      .add(r.token_budget)
      .add(r.tokens_used)
      .add(r.retry_count)
      .add(r.version)
      .add(r.metadata_json)
      .add(r.created_at)
      .add(r.updated_at)
      .done();
}

py::tuple row(const store::TransitionRecord& r) {
  return RowBuilder(10)
      .add(r.id)
      .add(r.task_id)
      .add(r.seq)
      .add(r.from_state)
      .add(r.to_state)
      .add(r.actor)
      .add(r.reason)
      .add(r.metadata_json)
      .add(r.correlation_id)
      .add(r.created_at)
      .done();
}

py::tuple row(const store::AuditRecord& r) {
  return RowBuilder(10)
      .add(r.id)
      .add(r.correlation_id)
      .add(r.task_id)
      .add(r.event_type)
      .add(r.actor)
      .add(r.action)
      .add(r.resource_type)
      .add(r.resource_id)
      .add(r.details_json)
      .add(r.created_at)
      .done();
}

py::tuple row(const store::ArtifactRecord& r) {
  return RowBuilder(12)
      .add(r.id)
      .add(r.task_id)
      .add(r.artifact_type)
      .add(r.name)
      .add(r.content)
      .add(r.content_hash)
      .add(r.storage_uri)
      .add(r.version)
      .add(r.parent_id)
      .add(r.edit_message)
      .add(r.metadata_json)
      .add(r.created_at)
      .done();
}

py::tuple row(const store::ApprovalRecord& r) {
  return RowBuilder(16)
      .add(r.id)
      .add(r.task_id)
      .add(r.operation_type)
      .add(r.environment)
      .add(r.status)
      .add(r.requested_by)
      .add(r.decided_by)
      .add(r.decision_reason)
      .add(r.risk_level)
      .add(r.artifact_id)
      .add(r.artifact_hash)
      .add(r.explanation_artifact_id)
      .add(r.metadata_json)
      .add(r.created_at)
      .add(r.decided_at)
      .add(r.expires_at)
      .done();
}

py::tuple row(const store::ExecutionRecord& r) {
  return RowBuilder(13)
      .add(r.id)
      .add(r.task_id)
      .add(r.environment)
      .add(r.platform)
      .add(r.status)
      .add(r.code_artifact_id)
      .add(r.output)
      .add(r.error)
      .add(r.duration_ms)
      .add(r.metadata_json)
      .add(r.started_at)
      .add(r.completed_at)
      .add(r.created_at)
      .done();
}

py::tuple row(const store::CostRecord& r) {
  return RowBuilder(7)
      .add(r.id)
      .add(r.task_id)
      .add(r.agent_type)
      .add(r.tokens_in)
      .add(r.tokens_out)
      .add(r.cost_usd)
      .add(r.created_at)
      .done();
}

py::tuple row(const store::ResourceRecord& r) {
  return RowBuilder(10)
      .add(r.id)
      .add(r.task_id)
      .add(r.platform)
      .add(r.resource_type)
      .add(r.platform_resource_id)
      .add(r.definition_json)
      .add(r.status)
      .add(r.metadata_json)
      .add(r.created_at)
      .add(r.updated_at)
      .done();
}

py::tuple row(const store::TaskLogRecord& r) {
  return RowBuilder(7)
      .add(r.id)
      .add(r.task_id)
      .add(r.level)
      .add(r.message)
      .add(r.correlation_id)
      .add(r.source)
      .add(r.created_at)
      .done();
}

}  // namespace aadap::bindings
