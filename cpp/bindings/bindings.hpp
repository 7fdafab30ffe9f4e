// Registration functions, one per bound component (see module.cpp).
#pragma once

#include <pybind11/pybind11.h>

namespace aadap::bindings {

void bind_errors(pybind11::module_& m);
void bind_settings(pybind11::module_& m);
void bind_logging(pybind11::module_& m);
void bind_store(pybind11::module_& m);
void bind_memory(pybind11::module_& m);
void bind_platforms(pybind11::module_& m);

}  // namespace aadap::bindings
