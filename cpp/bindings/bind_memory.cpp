#include "aadap/core/errors.hpp"
#include "aadap/core/settings.hpp"
#include "aadap/memory/faiss_self_test.hpp"
#include "aadap/memory/glob.hpp"
#include "aadap/memory/working_memory.hpp"
#include "bindings.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

using memory::WorkingMemory;

// bytes, bytearray, memoryview (any contiguous buffer) or str (stored as UTF-8). The view
// stays valid while `value` is alive.
std::string_view value_view(const py::handle& value) {
  if (PyBytes_Check(value.ptr())) {
    return {PyBytes_AS_STRING(value.ptr()),
            static_cast<std::size_t>(PyBytes_GET_SIZE(value.ptr()))};
  }
  if (PyUnicode_Check(value.ptr())) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
    if (data == nullptr) throw py::error_already_set();
    return {data, static_cast<std::size_t>(size)};
  }
  if (PyByteArray_Check(value.ptr())) {
    return {PyByteArray_AS_STRING(value.ptr()),
            static_cast<std::size_t>(PyByteArray_GET_SIZE(value.ptr()))};
  }
  throw InvalidTypeError(std::string("a working-memory value is bytes, bytearray or str, not ") +
                         Py_TYPE(value.ptr())->tp_name);
}

std::string_view key_view(const py::handle& key) {
  if (!PyUnicode_Check(key.ptr())) {
    throw InvalidTypeError(std::string("a working-memory key is a str, not ") +
                           Py_TYPE(key.ptr())->tp_name);
  }
  return value_view(key);
}

std::string_view namespace_view(PyObject* ns) {
  if (!PyUnicode_Check(ns)) {
    throw InvalidTypeError(std::string("a namespace is a str, not ") + Py_TYPE(ns)->tp_name);
  }
  return value_view(ns);
}

std::optional<std::int64_t> ttl_from(PyObject* ttl) {
  if (ttl == Py_None) return std::nullopt;
  if (!PyLong_Check(ttl) || PyBool_Check(ttl)) {
    throw InvalidTypeError(std::string("ttl is an int number of seconds or None, not ") +
                           Py_TYPE(ttl)->tp_name);
  }
  const long long seconds = PyLong_AsLongLong(ttl);
  if (seconds == -1 && PyErr_Occurred()) {
    PyErr_Clear();
    throw InvalidArgumentError("ttl is out of range");
  }
  return seconds;
}

// The C++ object behind a WorkingMemoryCore (or Python subclass) instance.
WorkingMemory& unwrap(PyObject* self) {
  auto* instance = reinterpret_cast<py::detail::instance*>(self);
  auto* memory = static_cast<WorkingMemory*>(instance->get_value_and_holder().value_ptr());
  if (memory == nullptr) throw InvalidTypeError("WorkingMemory.__init__ was not called");
  return *memory;
}

// get() and set() are the hot path: plain CPython fast-call methods, skipping pybind11's
// argument dispatch, which costs more than the whole lookup.
PyObject* fast_get(PyObject* self, PyObject* const* args, Py_ssize_t nargs) noexcept {
  try {
    if (nargs != 2) throw InvalidTypeError("get(ns, key) takes 2 positional arguments");
    WorkingMemory& memory = unwrap(self);
    PyObject* out = nullptr;
    memory.read(namespace_view(args[0]), key_view(args[1]), [&](std::string_view value) {
      out = PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
    });
    if (out != nullptr || PyErr_Occurred()) return out;
    Py_RETURN_NONE;
  } catch (...) {
    set_python_error_from_current_exception();
    return nullptr;
  }
}

PyObject* fast_set(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                   PyObject* kwnames) noexcept {
  try {
    const Py_ssize_t keywords = kwnames == nullptr ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject* ttl = Py_None;
    if (nargs == 4 && keywords == 0) {
      ttl = args[3];
    } else if (nargs == 3 && keywords == 1 &&
               PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "ttl") == 0) {
      ttl = args[3];
    } else if (nargs != 3 || keywords != 0) {
      throw InvalidTypeError("set(ns, key, value, ttl=None): ns, key and value are positional");
    }
    WorkingMemory& memory = unwrap(self);
    memory.set(namespace_view(args[0]), key_view(args[1]), value_view(args[2]), ttl_from(ttl));
    Py_RETURN_NONE;
  } catch (...) {
    set_python_error_from_current_exception();
    return nullptr;
  }
}

PyMethodDef kFastMethods[] = {
    {"get", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_get)), METH_FASTCALL,
     "get(ns, key, /) -> bytes | None: the value, or None when missing or expired."},
    {"set", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(fast_set)),
     METH_FASTCALL | METH_KEYWORDS,
     "set(ns, key, value, /, ttl=None): store bytes or str (UTF-8); ttl None = namespace "
     "default."},
};

}  // namespace

void bind_memory(py::module_& m) {
  py::class_<memory::FaissSelfTest>(m, "FaissSelfTest", "Result of faiss_self_test().")
      .def_readonly("ok", &memory::FaissSelfTest::ok)
      .def_readonly("detail", &memory::FaissSelfTest::detail)
      .def_readonly("blas", &memory::FaissSelfTest::blas);
  m.def("faiss_self_test", &memory::faiss_self_test, py::call_guard<py::gil_scoped_release>(),
        "A known-answer FAISS search that also exercises its BLAS.");

  py::class_<Clock, std::shared_ptr<Clock>>(m, "Clock", "A monotonic clock.")
      .def("now", &Clock::now, "Nanoseconds on a monotonic timeline.");
  py::class_<ManualClock, Clock, std::shared_ptr<ManualClock>>(
      m, "ManualClock", "A clock that moves only when told to (tests).")
      .def(py::init<Nanos>(), py::arg("start_ns") = 1'000'000'000)
      .def(
          "advance",
          [](ManualClock& clock, double seconds) {
            if (!(seconds >= 0)) throw InvalidArgumentError("advance() takes seconds >= 0");
            clock.advance(std::chrono::nanoseconds(static_cast<Nanos>(seconds * 1e9)));
          },
          py::arg("seconds"));

  py::class_<memory::NamespaceStats>(m, "NamespaceStats")
      .def_readonly("name", &memory::NamespaceStats::name)
      .def_readonly("default_ttl_seconds", &memory::NamespaceStats::default_ttl_seconds)
      .def_readonly("keys", &memory::NamespaceStats::keys)
      .def_readonly("bytes", &memory::NamespaceStats::bytes)
      .def_readonly("hits", &memory::NamespaceStats::hits)
      .def_readonly("misses", &memory::NamespaceStats::misses)
      .def_readonly("expirations", &memory::NamespaceStats::expirations)
      .def_readonly("evictions", &memory::NamespaceStats::evictions);

  // Held by shared_ptr: an engine keeps the working memory it writes checkpoints into.
  py::class_<WorkingMemory, std::shared_ptr<WorkingMemory>> core(m, "WorkingMemoryCore");
  core.def(py::init([](std::optional<std::int64_t> max_bytes,
                       std::optional<std::int64_t> default_ttl, std::size_t shards,
                       std::shared_ptr<Clock> clock, bool background_sweeper,
                       const Settings& settings) {
             auto options = WorkingMemory::options_from(settings);
             if (max_bytes) options.max_bytes = *max_bytes;
             if (default_ttl) options.wm_ttl_seconds = *default_ttl;
             options.shards = shards;
             options.clock = std::move(clock);
             options.background_sweeper = background_sweeper;
             return std::make_shared<WorkingMemory>(options);
           }),
           py::arg("max_bytes"), py::arg("default_ttl"), py::arg("shards"), py::arg("clock"),
           py::arg("background_sweeper"), py::arg("settings"))
      .def("register_namespace", &WorkingMemory::register_namespace, py::arg("name"),
           py::arg("default_ttl"))
      .def("namespaces", &WorkingMemory::namespaces)
      .def(
          "delete",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key) {
            return wm.remove(ns, key_view(key));
          },
          py::arg("ns"), py::arg("key"))
      .def(
          "exists",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key) {
            return wm.exists(ns, key_view(key));
          },
          py::arg("ns"), py::arg("key"))
      .def(
          "ttl",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key) {
            return wm.ttl(ns, key_view(key));
          },
          py::arg("ns"), py::arg("key"))
      .def(
          "expire",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key, std::int64_t ttl) {
            return wm.expire(ns, key_view(key), ttl);
          },
          py::arg("ns"), py::arg("key"), py::arg("ttl"))
      .def(
          "persist",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key) {
            return wm.persist(ns, key_view(key));
          },
          py::arg("ns"), py::arg("key"))
      .def(
          "incr",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key, std::int64_t delta) {
            return wm.incr(ns, key_view(key), delta);
          },
          py::arg("ns"), py::arg("key"), py::arg("delta") = 1)
      .def(
          "mget",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& keys) {
            const auto sequence = py::reinterpret_steal<py::object>(
                PySequence_Fast(keys.ptr(), "mget() takes a sequence of str keys"));
            if (!sequence) throw py::error_already_set();
            const Py_ssize_t n = PySequence_Fast_GET_SIZE(sequence.ptr());
            PyObject** items = PySequence_Fast_ITEMS(sequence.ptr());
            std::vector<std::string_view> views(static_cast<std::size_t>(n));
            for (Py_ssize_t i = 0; i < n; ++i) views[i] = key_view(items[i]);
            py::list out(n);
            for (Py_ssize_t i = 0; i < n; ++i) PyList_SET_ITEM(out.ptr(), i, Py_NewRef(Py_None));
            wm.read_many(ns, views, [&](std::size_t i, std::string_view value) {
              PyObject* bytes =
                  PyBytes_FromStringAndSize(value.data(), static_cast<Py_ssize_t>(value.size()));
              if (bytes == nullptr) throw py::error_already_set();
              PyObject* old = PyList_GET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i));
              PyList_SET_ITEM(out.ptr(), static_cast<Py_ssize_t>(i), bytes);
              Py_DECREF(old);
            });
            return out;
          },
          py::arg("ns"), py::arg("keys"),
          "Values of many keys (None for each missing one), in one call.")
      .def(
          "mset",
          [](WorkingMemory& wm, const std::string& ns, const py::handle& items,
             const py::handle& ttl) {
            std::vector<std::pair<std::string_view, std::string_view>> pairs;
            py::object keep_alive;
            if (PyDict_Check(items.ptr())) {
              pairs.reserve(static_cast<std::size_t>(PyDict_GET_SIZE(items.ptr())));
              Py_ssize_t position = 0;
              PyObject* key = nullptr;
              PyObject* value = nullptr;
              while (PyDict_Next(items.ptr(), &position, &key, &value)) {
                pairs.emplace_back(key_view(key), value_view(value));
              }
            } else {
              keep_alive = py::reinterpret_steal<py::object>(PySequence_Fast(
                  items.ptr(), "mset() takes a dict or a sequence of (key, value) pairs"));
              if (!keep_alive) throw py::error_already_set();
              const Py_ssize_t n = PySequence_Fast_GET_SIZE(keep_alive.ptr());
              PyObject** entries = PySequence_Fast_ITEMS(keep_alive.ptr());
              for (Py_ssize_t i = 0; i < n; ++i) {
                if (!PyTuple_Check(entries[i]) || PyTuple_GET_SIZE(entries[i]) != 2) {
                  throw InvalidTypeError("mset() pairs are (key, value) tuples");
                }
                pairs.emplace_back(key_view(PyTuple_GET_ITEM(entries[i], 0)),
                                   value_view(PyTuple_GET_ITEM(entries[i], 1)));
              }
            }
            const auto seconds = ttl_from(ttl.ptr());
            // The views point into immutable objects that `items` keeps alive.
            py::gil_scoped_release release;
            wm.mset(ns, pairs, seconds);
          },
          py::arg("ns"), py::arg("items"), py::arg("ttl") = py::none(),
          "Store a dict or (key, value) pairs in one call; all are validated before any is "
          "stored.")
      .def(
          "scan",
          [](WorkingMemory& wm, const std::string& ns, const std::string& pattern,
             const std::string& cursor, std::size_t count) {
            const auto page = wm.scan(ns, pattern, cursor, count);
            return py::make_tuple(page.cursor, page.keys);
          },
          py::arg("ns"), py::arg("pattern"), py::arg("cursor"), py::arg("count"))
      .def("keys_count", &WorkingMemory::keys_count, py::arg("ns"),
           py::call_guard<py::gil_scoped_release>())
      .def("clear", &WorkingMemory::clear, py::arg("ns"), py::call_guard<py::gil_scoped_release>())
      .def("stats", &WorkingMemory::stats, py::call_guard<py::gil_scoped_release>())
      .def("sweep_expired", &WorkingMemory::sweep_expired, py::call_guard<py::gil_scoped_release>())
      .def("ping", &WorkingMemory::ping)
      .def_property_readonly("max_bytes", &WorkingMemory::max_bytes)
      .def_property_readonly("shard_count", &WorkingMemory::shard_count);
  for (PyMethodDef& def : kFastMethods) {
    py::object method = py::reinterpret_steal<py::object>(
        PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(core.ptr()), &def));
    if (!method) throw py::error_already_set();
    core.attr(def.ml_name) = method;
  }

  m.def(
      "scoped_key",
      [](const std::vector<std::string>& parts) {
        std::vector<std::string_view> views(parts.begin(), parts.end());
        return memory::scoped_key(views);
      },
      py::arg("parts"));
  m.def("validate_glob", &memory::validate_glob, py::arg("pattern"));
}

}  // namespace aadap::bindings
