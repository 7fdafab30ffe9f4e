#include "aadap/platforms/ca_bundle.hpp"
#include "aadap/platforms/endpoint_check.hpp"
#include "aadap/platforms/local_sql.hpp"
#include "bindings.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

py::object to_python(const platforms::SqlValue& value) {
  return std::visit(
      [](const auto& v) -> py::object {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return py::none();
        } else if constexpr (std::is_same_v<T, std::vector<std::uint8_t>>) {
          return py::bytes(reinterpret_cast<const char*>(v.data()), v.size());
        } else {
          return py::cast(v);
        }
      },
      value);
}

}  // namespace

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
  m.def(
      "run_local_sql",
      [](const std::string& database_path, const std::string& script, std::size_t max_rows) {
        platforms::SqlResultSet result;
        {
          py::gil_scoped_release release;
          result = platforms::run_local_sql(database_path, script, max_rows);
        }
        py::list rows(result.rows.size());
        for (std::size_t r = 0; r < result.rows.size(); ++r) {
          py::tuple row(result.rows[r].size());
          for (std::size_t c = 0; c < result.rows[r].size(); ++c) {
            row[c] = to_python(result.rows[r][c]);
          }
          rows[r] = row;
        }
        py::dict out;
        out["columns"] = result.columns;
        out["column_types"] = result.column_types;
        out["rows"] = rows;
        out["truncated"] = result.truncated;
        out["rows_changed"] = result.rows_changed;
        out["statements"] = result.statements;
        return out;
      },
      py::arg("database_path"), py::arg("script"), py::arg("max_rows"));
}

}  // namespace aadap::bindings
