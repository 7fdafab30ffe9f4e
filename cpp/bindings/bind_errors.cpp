// The one table that maps aadap::ErrorCode to Python exception classes. Input errors also
// derive from the built-in exception Python users already catch.
#include "bindings.hpp"

#include "aadap/core/errors.hpp"

#include <map>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

struct PythonError {
  ErrorCode code;
  ErrorCode parent;   // ignored for the root
  PyObject* builtin;  // extra built-in base, or nullptr
  const char* doc;
};

// Parents appear before their children.
std::vector<PythonError> table() {
  return {
      {ErrorCode::error, ErrorCode::error, nullptr, "Root of every aadap exception."},
      {ErrorCode::configuration, ErrorCode::error, PyExc_ValueError,
       "Invalid settings; `errors` lists every bad variable with what is allowed."},
      {ErrorCode::invalid_argument, ErrorCode::error, PyExc_ValueError,
       "An argument has a value that is not allowed."},
      {ErrorCode::invalid_type, ErrorCode::error, PyExc_TypeError,
       "An argument has the wrong type."},
      {ErrorCode::invalid_state, ErrorCode::error, PyExc_ValueError,
       "An unknown lifecycle state name."},
      {ErrorCode::invalid_transition, ErrorCode::error, PyExc_ValueError,
       "A transition the lifecycle does not allow from the task's current state."},
      {ErrorCode::loop_detected, ErrorCode::invalid_transition, nullptr,
       "A task would re-enter a state more often than the loop limit allows."},
      {ErrorCode::retry_limit_exceeded, ErrorCode::loop_detected, nullptr,
       "A task has used all its development retries."},
      {ErrorCode::concurrency, ErrorCode::error, nullptr,
       "The task changed since it was read (expected_version did not match)."},
      {ErrorCode::token_budget_exceeded, ErrorCode::error, nullptr,
       "Charging these tokens would exceed the task's budget."},
      {ErrorCode::approval, ErrorCode::error, nullptr, "Base of approval errors."},
      {ErrorCode::approval_required, ErrorCode::approval, nullptr,
       "The operation needs an approved request first."},
      {ErrorCode::approval_rejected, ErrorCode::approval, nullptr, "The request was rejected."},
      {ErrorCode::approval_expired, ErrorCode::approval, nullptr,
       "The request expired before a decision."},
      {ErrorCode::not_found, ErrorCode::error, PyExc_LookupError, "No such object."},
      {ErrorCode::store, ErrorCode::error, nullptr, "The store failed to read or write."},
      {ErrorCode::store_unavailable, ErrorCode::store, PyExc_ConnectionError,
       "The database cannot be reached."},
      {ErrorCode::platform, ErrorCode::error, nullptr, "A cloud platform call failed."},
      {ErrorCode::authentication, ErrorCode::platform, PyExc_PermissionError,
       "Credentials were missing, wrong or refused."},
      {ErrorCode::rate_limit, ErrorCode::platform, nullptr,
       "The service throttled the request (HTTP 429) beyond the retry budget."},
      {ErrorCode::platform_timeout, ErrorCode::platform, PyExc_TimeoutError,
       "The operation did not finish in time."},
      {ErrorCode::remote, ErrorCode::platform, nullptr,
       "The service answered with an error; `status`, `code` and `request_id` say which."},
      {ErrorCode::platform_connection, ErrorCode::platform, PyExc_ConnectionError,
       "The service could not be reached (DNS, TCP, TLS) or the connection broke."},
      {ErrorCode::content_filter, ErrorCode::remote, nullptr,
       "The service's content filter refused the prompt or the completion."},
      {ErrorCode::context_length, ErrorCode::remote, nullptr,
       "The prompt and max_tokens do not fit the model's context window."},
      {ErrorCode::cancelled, ErrorCode::error, nullptr,
       "A blocking call was cancelled (from Python, Ctrl-C raises KeyboardInterrupt instead)."},
  };
}

std::map<ErrorCode, py::handle>& classes() {
  static auto* registry = new std::map<ErrorCode, py::handle>();  // lives as long as the module
  return *registry;
}

py::object to_python(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(value.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(value.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(value.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(value.get<double>());
    case nlohmann::json::value_t::string: return py::str(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& item : value) out.append(to_python(item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [key, item] : value.items()) out[py::str(key)] = to_python(item);
      return out;
    }
    default: return py::none();
  }
}

}  // namespace

void set_python_error(const Error& error) {
  const py::handle cls = classes().at(error.code());
  py::object instance = cls(py::str(error.what()));
  for (const auto& [key, value] : error.details().items()) {
    instance.attr(py::str(key)) = to_python(value);
  }
  PyErr_SetObject(cls.ptr(), instance.ptr());
}

void set_python_error_from_current_exception() noexcept {
  try {
    throw;
  } catch (const Error& error) {
    try {
      set_python_error(error);
    } catch (py::error_already_set& nested) {
      nested.restore();
    }
  } catch (py::error_already_set& error) {
    error.restore();
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& error) {
    PyErr_SetString(PyExc_RuntimeError, error.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
}

void bind_errors(py::module_& m) {
  for (const auto& entry : table()) {
    const std::string name(error_class_name(entry.code));
    py::list bases;
    bases.append(entry.code == ErrorCode::error ? py::handle(PyExc_Exception)
                                                : classes().at(entry.parent));
    if (entry.builtin != nullptr) bases.append(py::handle(entry.builtin));
    const std::string qualified = "aadap." + name;
    PyObject* cls =
        PyErr_NewExceptionWithDoc(qualified.c_str(), entry.doc, py::tuple(bases).ptr(), nullptr);
    if (cls == nullptr) throw py::error_already_set();
    classes()[entry.code] = cls;
    m.add_object(name.c_str(), py::handle(cls));
  }

  py::register_exception_translator([](std::exception_ptr pointer) {
    try {
      if (pointer) std::rethrow_exception(pointer);
    } catch (const Error& error) {
      // A call cancelled by Ctrl-C: the KeyboardInterrupt its cancel check found is pending.
      if (error.code() == ErrorCode::cancelled && PyErr_Occurred() != nullptr) return;
      set_python_error(error);
    } catch (const nlohmann::json::exception& error) {
      // a service's answer of an unexpected shape, read past a client's own checks
      set_python_error(RemoteError(
          std::string("a service answered with JSON of an unexpected shape: ") + error.what(),
          {{"code", "malformed_response"}}));
    }
  });

  m.def(
      "_raise_error",
      [](const std::string& class_name, const std::string& message) {
        for (ErrorCode code : all_error_codes()) {
          if (error_class_name(code) == class_name) throw_error(code, message, {{"origin", "c++"}});
        }
        throw InvalidArgumentError("unknown error class '" + class_name + "'");
      },
      py::arg("class_name"), py::arg("message"),
      "Throws the C++ exception of that name (used to test the translation table).");
}

}  // namespace aadap::bindings
