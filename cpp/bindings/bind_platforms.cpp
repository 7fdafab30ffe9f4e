#include "aadap/platforms/ca_bundle.hpp"
#include "aadap/platforms/endpoint_check.hpp"
#include "bindings.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

void bind_platforms(py::module_& m) {
  py::class_<platforms::CaBundle>(m, "CaBundle", "The CA file HTTPS trusts, and why.")
      .def_readonly("path", &platforms::CaBundle::path)
      .def_readonly("source", &platforms::CaBundle::source)
      .def("__repr__", [](const platforms::CaBundle& b) {
        return "CaBundle(path='" + b.path + "', source='" + b.source + "')";
      });
  m.def("resolve_ca_bundle", &platforms::resolve_ca_bundle, py::arg("configured"),
        py::arg("certifi_path"));

  py::class_<platforms::EndpointCheck>(m, "EndpointCheck", "Result of check_endpoint().")
      .def_readonly("reachable", &platforms::EndpointCheck::reachable)
      .def_readonly("http_status", &platforms::EndpointCheck::http_status)
      .def_readonly("detail", &platforms::EndpointCheck::detail)
      .def_readonly("latency_ms", &platforms::EndpointCheck::latency_ms);
  m.def(
      "check_endpoint",
      [](const std::string& url, const platforms::CaBundle& ca_bundle, bool verify,
         const std::string& correlation_header, const std::string& correlation_id,
         double timeout_seconds) {
        return platforms::check_endpoint(
            url, platforms::TlsOptions{ca_bundle, verify}, correlation_header, correlation_id,
            std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000)));
      },
      py::arg("url"), py::arg("ca_bundle"), py::arg("verify"), py::arg("correlation_header"),
      py::arg("correlation_id"), py::arg("timeout_seconds") = 5.0,
      py::call_guard<py::gil_scoped_release>(),
      "One GET to see whether an endpoint answers over (verified) HTTPS.");
}

}  // namespace aadap::bindings
