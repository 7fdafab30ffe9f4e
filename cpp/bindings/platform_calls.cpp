#include "platform_calls.hpp"

#include "aadap/core/errors.hpp"

namespace py = pybind11;

namespace aadap::bindings {

using namespace platforms;

namespace {

/// A Python object that may outlive the GIL-holding scope it was made in: released with the
/// GIL taken.
struct PythonRef {
  py::object object;
  ~PythonRef() {
    py::gil_scoped_acquire gil;
    object = py::object();
  }
};

}  // namespace

CancelCheck interrupt_check() {
  py::gil_scoped_acquire gil;  // callers may have released it already
  // looked up once; never released (it lives as long as the interpreter)
  static const auto* current_event =
      new py::object(py::module_::import("aadap.cancellation").attr("current_event"));
  auto event = std::make_shared<PythonRef>();
  event->object = (*current_event)();
  if (event->object.is_none()) {
    return [] {
      py::gil_scoped_acquire gil;
      return PyErr_CheckSignals() != 0;
    };
  }
  return [event] {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0 || event->object.attr("is_set")().cast<bool>();
  };
}

std::chrono::milliseconds milliseconds_of(double seconds, const char* what) {
  if (!(seconds > 0) || seconds > 1e7) {
    throw InvalidArgumentError(std::string(what) + " is a positive number of seconds");
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

WaitOptions wait_options(double timeout, bool cancel_on_timeout, const py::object& progress,
                         const std::string& correlation_id) {
  WaitOptions options;
  options.timeout = milliseconds_of(timeout, "timeout");
  options.cancel_on_timeout = cancel_on_timeout;
  if (!progress.is_none()) {
    options.progress = [&progress](const nlohmann::json& state) {
      py::gil_scoped_acquire gil;
      progress(state.dump());
    };
  }
  options.cancelled = interrupt_check();
  options.correlation_id = correlation_id;
  return options;
}

Time time_of(const std::shared_ptr<ManualTime>& manual) {
  if (manual) return {manual, manual.get()};
  return {std::make_shared<SteadyClock>(), &SystemSleeper::instance()};
}

}  // namespace aadap::bindings
