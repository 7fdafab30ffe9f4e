// The EngineCore class is bound in three parts: tasks and events (bind_engine.cpp),
// artifacts and approvals (bind_governance.cpp), executions, tokens, resources, logs and
// retention (bind_operations.cpp).
#pragma once

#include "aadap/engine/task_engine.hpp"

#include <pybind11/pybind11.h>

namespace aadap::bindings {

using EngineClass = pybind11::class_<engine::TaskEngine>;

void bind_governance(EngineClass& engine);
void bind_operations(EngineClass& engine);
/// Embedders, the vector memory class and EngineCore.vector_memory.
void bind_vector_memory(pybind11::module_& m, EngineClass& engine);

/// Runs the store work without the GIL; its result becomes Python rows after.
template <class Work>
auto released(Work&& work) {
  pybind11::gil_scoped_release release;
  return work();
}

}  // namespace aadap::bindings
