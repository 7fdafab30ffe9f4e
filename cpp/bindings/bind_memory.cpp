#include "aadap/memory/faiss_self_test.hpp"
#include "bindings.hpp"

namespace py = pybind11;

namespace aadap::bindings {

void bind_memory(py::module_& m) {
  py::class_<memory::FaissSelfTest>(m, "FaissSelfTest", "Result of faiss_self_test().")
      .def_readonly("ok", &memory::FaissSelfTest::ok)
      .def_readonly("detail", &memory::FaissSelfTest::detail)
      .def_readonly("blas", &memory::FaissSelfTest::blas);
  m.def("faiss_self_test", &memory::faiss_self_test, py::call_guard<py::gil_scoped_release>(),
        "A known-answer FAISS search that also exercises its BLAS.");
}

}  // namespace aadap::bindings
