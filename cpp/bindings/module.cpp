#include "bindings.hpp"

#include "aadap/core/library_versions.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

PYBIND11_MODULE(_core, m) {
  m.doc() = "aadap's C++ core. Use the public API in the `aadap` package instead.";
  m.attr("__version__") = aadap::version();
  m.def("library_versions", &aadap::library_versions,
        "(library, version) pairs of the native libraries the core uses.");
  aadap::bindings::bind_errors(m);
  aadap::bindings::bind_settings(m);
  aadap::bindings::bind_logging(m);
  aadap::bindings::bind_store(m);
  aadap::bindings::bind_lifecycle(m);
  aadap::bindings::bind_memory(m);
  aadap::bindings::bind_engine(m);
  aadap::bindings::bind_platforms(m);
  aadap::bindings::bind_platform_clients(m);
  aadap::bindings::bind_databricks(m);
  aadap::bindings::bind_fabric(m);
}
