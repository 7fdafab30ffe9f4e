#include "bindings.hpp"

#include "aadap/core/correlation.hpp"
#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"
#include "aadap/core/settings.hpp"

#include <pybind11/functional.h>
#include <pybind11/stl.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

log::Level level_from(const py::handle& value) {
  if (py::isinstance<py::int_>(value) && !py::isinstance<py::bool_>(value)) {
    const int number = value.cast<int>();
    for (auto level : {log::Level::debug, log::Level::info, log::Level::warning, log::Level::error,
                       log::Level::critical}) {
      if (static_cast<int>(level) == number) return level;
    }
  } else if (py::isinstance<py::str>(value)) {
    if (auto level = log::parse_level(value.cast<std::string>())) return *level;
  } else {
    throw InvalidTypeError("a log level is a str such as 'INFO' or an int such as logging.INFO");
  }
  throw InvalidArgumentError("unknown log level " + py::repr(value).cast<std::string>() +
                             ": use DEBUG, INFO, WARNING, ERROR or CRITICAL (any case)");
}

}  // namespace

void bind_logging(py::module_& m) {
  m.def("configure_logging", py::overload_cast<const Settings&>(&log::configure),
        py::arg("settings"), "Apply level, format, app and environment from settings.");
  m.def(
      "set_log_level", [](const py::handle& level) { log::set_level(level_from(level)); },
      py::arg("level"));
  m.def("get_log_level", [] { return std::string(log::level_name(log::level())); });
  m.def(
      "log_enabled", [](const py::handle& level) { return log::enabled(level_from(level)); },
      py::arg("level"));
  m.def(
      "set_log_format",
      [](const std::string& name) {
        const auto format = log::parse_format(name);
        if (!format) {
          throw InvalidArgumentError("unknown log format '" + name + "': use json or console");
        }
        auto config = log::current_config();
        config.format = *format;
        log::configure(config);
      },
      py::arg("format"));
  m.def(
      "log",
      [](const py::handle& level, const std::string& logger, const std::string& event,
         const std::string& correlation_id, const std::string& fields_json) {
        const auto lvl = level_from(level);
        if (!log::enabled(lvl)) return;
        nlohmann::json fields = nlohmann::json::parse(fields_json, nullptr, false);
        if (!fields.is_object()) throw InvalidArgumentError("log fields must be a JSON object");
        py::gil_scoped_release release;
        log::Logger(logger).write(lvl, event, correlation_id, fields);
      },
      py::arg("level"), py::arg("logger"), py::arg("event"), py::arg("correlation_id"),
      py::arg("fields_json"), "Write one event through the core's sinks and format.");
  m.def(
      "set_log_callback",
      [](std::optional<py::function> callback) {
        if (!callback) {
          log::set_callback(nullptr);
          return;
        }
        // Keep a reference owned by C++; every call takes the GIL (records can come from any
        // thread). Records are dropped once the interpreter is shutting down.
        auto shared = std::make_shared<py::function>(std::move(*callback));
        log::set_callback([shared](const log::Record& record) {
          if (!Py_IsInitialized()) return;
          py::gil_scoped_acquire gil;
          // a record logged while a KeyboardInterrupt is pending (a call being cancelled)
          // must not see it, nor consume it
          py::error_scope pending;
          try {
            (*shared)(static_cast<int>(record.level), std::string(record.logger),
                      std::string(record.event), std::string(record.correlation_id),
                      std::string(record.fields_json), std::string(record.line));
          } catch (py::error_already_set& error) {
            error.discard_as_unraisable("aadap log callback");
          }
        });
      },
      py::arg("callback"),
      "Route every record to callback(level, logger, event, correlation_id, fields_json, line); "
      "None restores stderr.");
  m.def(
      "use_stderr", [] { log::set_sinks({std::make_shared<spdlog::sinks::stderr_sink_mt>()}); },
      "Send log lines to stderr (the default).");
  m.def("new_correlation_id", &new_correlation_id, "A fresh uuid4 string.");
  m.def("validate_correlation_id", &validate_correlation_id, py::arg("correlation_id"));
  m.def("redact", &redact, py::arg("text"),
        "Mask registered secrets and recognised credentials in text.");
}

}  // namespace aadap::bindings
