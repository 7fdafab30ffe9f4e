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

py::object to_bytes_or_none(WorkingMemory& wm, std::string_view ns, std::string_view key) {
  py::object out = py::none();
  wm.read(ns, key, [&](std::string_view value) { out = py::bytes(value.data(), value.size()); });
  return out;
}

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

  py::class_<WorkingMemory>(m, "WorkingMemoryCore")
      .def(py::init([](std::optional<std::int64_t> max_bytes,
                       std::optional<std::int64_t> default_ttl, std::size_t shards,
                       std::shared_ptr<Clock> clock, bool background_sweeper,
                       const Settings& settings) {
             auto options = WorkingMemory::options_from(settings);
             if (max_bytes) options.max_bytes = *max_bytes;
             if (default_ttl) options.wm_ttl_seconds = *default_ttl;
             options.shards = shards;
             options.clock = std::move(clock);
             options.background_sweeper = background_sweeper;
             return std::make_unique<WorkingMemory>(options);
           }),
           py::arg("max_bytes"), py::arg("default_ttl"), py::arg("shards"), py::arg("clock"),
           py::arg("background_sweeper"), py::arg("settings"))
      .def("register_namespace", &WorkingMemory::register_namespace, py::arg("name"),
           py::arg("default_ttl"))
      .def("namespaces", &WorkingMemory::namespaces)
      .def(
          "set",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key, const py::handle& value,
             std::optional<std::int64_t> ttl) {
            wm.set(ns, key_view(key), value_view(value), ttl);
          },
          py::arg("ns"), py::arg("key"), py::arg("value"), py::arg("ttl") = py::none())
      .def(
          "get",
          [](WorkingMemory& wm, std::string_view ns, const py::handle& key) {
            return to_bytes_or_none(wm, ns, key_view(key));
          },
          py::arg("ns"), py::arg("key"))
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
          [](WorkingMemory& wm, std::string_view ns, const py::sequence& keys) {
            std::vector<std::string_view> views;
            views.reserve(keys.size());
            for (const auto& key : keys) views.push_back(key_view(key));
            py::list out(views.size());
            for (std::size_t i = 0; i < views.size(); ++i) {
              out[i] = to_bytes_or_none(wm, ns, views[i]);
            }
            return out;
          },
          py::arg("ns"), py::arg("keys"))
      .def(
          "mset",
          [](WorkingMemory& wm, const std::string& ns, const py::sequence& keys,
             const py::sequence& values, std::optional<std::int64_t> ttl) {
            if (keys.size() != values.size()) {
              throw InvalidArgumentError("mset needs as many values as keys");
            }
            std::vector<std::pair<std::string_view, std::string_view>> items;
            items.reserve(keys.size());
            for (std::size_t i = 0; i < keys.size(); ++i) {
              items.emplace_back(key_view(keys[i]), value_view(values[i]));
            }
            // The views point into immutable Python objects the sequences keep alive.
            py::gil_scoped_release release;
            wm.mset(ns, items, ttl);
          },
          py::arg("ns"), py::arg("keys"), py::arg("values"), py::arg("ttl") = py::none())
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
