// Registration functions, one per bound component (see module.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace aadap {
class Error;
}

namespace aadap::bindings {

/// Raises `error` as its Python class (the one table in bind_errors.cpp).
void set_python_error(const Error& error);
/// For raw CPython functions: inside a catch block, turns the exception in flight into the
/// matching Python error.
void set_python_error_from_current_exception() noexcept;

void bind_errors(pybind11::module_& m);
void bind_settings(pybind11::module_& m);
void bind_logging(pybind11::module_& m);
void bind_store(pybind11::module_& m);
void bind_engine(pybind11::module_& m);
void bind_lifecycle(pybind11::module_& m);
void bind_memory(pybind11::module_& m);
void bind_platforms(pybind11::module_& m);
void bind_platform_clients(pybind11::module_& m);
void bind_databricks(pybind11::module_& m);
void bind_fabric(pybind11::module_& m);

}  // namespace aadap::bindings
