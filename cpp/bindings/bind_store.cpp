#include "bindings.hpp"

#include "aadap/core/database_url.hpp"
#include "aadap/store/probe.hpp"

namespace py = pybind11;

namespace aadap::bindings {

void bind_store(py::module_& m) {
  py::class_<DatabaseUrl>(m, "DatabaseUrl", "A parsed store URL.")
      .def(py::init(&DatabaseUrl::parse), py::arg("url"))
      .def_property_readonly(
          "backend", [](const DatabaseUrl& u) { return std::string(backend_name(u.backend())); })
      .def_property_readonly("normalized", &DatabaseUrl::normalized)
      .def_property_readonly("redacted", &DatabaseUrl::redacted)
      .def_property_readonly("sqlite_path", &DatabaseUrl::sqlite_path)
      .def_property_readonly("in_memory", &DatabaseUrl::in_memory)
      .def("__repr__", [](const DatabaseUrl& u) { return "DatabaseUrl('" + u.redacted() + "')"; });

  py::class_<store::ProbeResult>(m, "StoreProbe", "Result of probe_store().")
      .def_readonly("reachable", &store::ProbeResult::reachable)
      .def_readonly("backend", &store::ProbeResult::backend)
      .def_readonly("url", &store::ProbeResult::url)
      .def_readonly("server_version", &store::ProbeResult::server_version)
      .def_readonly("detail", &store::ProbeResult::detail)
      .def_readonly("latency_ms", &store::ProbeResult::latency_ms);

  m.def(
      "probe_store",
      [](const DatabaseUrl& url, const std::string& correlation_id, double timeout_seconds) {
        return store::probe(url, correlation_id,
                            std::chrono::seconds(static_cast<long long>(timeout_seconds)));
      },
      py::arg("url"), py::arg("correlation_id"), py::arg("timeout_seconds") = 5.0,
      py::call_guard<py::gil_scoped_release>(),
      "Check that a store URL is reachable without touching its schema.");
}

}  // namespace aadap::bindings
