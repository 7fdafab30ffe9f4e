// Vector memory, embedders and the governance predicates. Embeddings cross as numpy float32
// arrays: a C-contiguous float32 input is read in place (no copy), anything else is converted
// once; every batch call crosses the boundary once and runs without the GIL.
#include "aadap/core/errors.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/memory/hashing_embedder.hpp"
#include "aadap/memory/memory_governance.hpp"
#include "aadap/memory/vector_memory.hpp"
#include "engine_bindings.hpp"

#include <algorithm>

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

namespace aadap::bindings {

namespace py = pybind11;
using memory::VectorMemory;
using store::MemoryEntityRecord;

namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;

/// The entity as a row tuple in MemoryEntityRecord's field order; the embedding as the bytes
/// of its float32 values (aadap.MemoryEntity shows them as a read-only numpy array), None
/// when the record carries none.
py::tuple entity_row(const MemoryEntityRecord& e) {
  py::object embedding = py::none();
  if (!e.embedding.empty()) {
    embedding = py::bytes(reinterpret_cast<const char*>(e.embedding.data()),
                          e.embedding.size() * sizeof(float));
  }
  return py::make_tuple(e.id, e.memory_name, e.content, embedding, e.entity_type, e.provenance,
                        e.confidence, e.use_count, e.validation_pass_rate, e.validation_failures,
                        e.critical_failure_at, e.is_deprecated, e.metadata_json, e.created_at,
                        e.updated_at);
}

MemoryEntityRecord entity_from_row(const py::tuple& row) {
  if (row.size() != 15) throw InvalidArgumentError("a memory entity row has 15 fields");
  MemoryEntityRecord e;
  e.id = row[0].cast<std::string>();
  e.memory_name = row[1].cast<std::string>();
  e.content = row[2].cast<std::string>();
  e.entity_type = row[4].cast<std::string>();
  e.provenance = row[5].cast<std::string>();
  e.confidence = row[6].cast<double>();
  e.use_count = row[7].cast<std::int64_t>();
  e.validation_pass_rate = row[8].cast<double>();
  e.validation_failures = row[9].cast<std::int64_t>();
  e.critical_failure_at = row[10].cast<std::optional<std::string>>();
  e.is_deprecated = row[11].cast<bool>();
  e.metadata_json = row[12].cast<std::string>();
  e.created_at = row[13].cast<std::string>();
  e.updated_at = row[14].cast<std::string>();
  return e;
}

py::list entity_rows(const std::vector<MemoryEntityRecord>& records) {
  py::list out(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) out[i] = entity_row(records[i]);
  return out;
}

py::list hit_rows(const std::vector<memory::SearchHit>& hits) {
  py::list out(hits.size());
  for (std::size_t i = 0; i < hits.size(); ++i) {
    out[i] = py::make_tuple(hits[i].similarity, entity_row(hits[i].entity));
  }
  return out;
}

/// (id, content, entity_type, provenance, confidence, metadata_json, created_at) per entity.
std::vector<memory::EntitySpec> specs_from(const std::vector<py::tuple>& rows) {
  std::vector<memory::EntitySpec> specs;
  specs.reserve(rows.size());
  for (const auto& r : rows) {
    if (r.size() != 7) throw InvalidArgumentError("an entity spec has 7 fields");
    specs.push_back(memory::EntitySpec{r[0].cast<std::string>(), r[1].cast<std::string>(),
                                       r[2].cast<std::string>(), r[3].cast<std::string>(),
                                       r[4].cast<double>(), r[5].cast<std::string>(),
                                       r[6].cast<std::string>()});
  }
  return specs;
}

/// Rows × columns of a 1- or 2-dimensional float array (a vector is one row).
std::pair<std::size_t, std::size_t> shape_of(const Floats& array, const char* what) {
  if (array.ndim() == 1) return {1, static_cast<std::size_t>(array.shape(0))};
  if (array.ndim() == 2) {
    return {static_cast<std::size_t>(array.shape(0)), static_cast<std::size_t>(array.shape(1))};
  }
  throw InvalidArgumentError(std::string(what) + " must be a vector or a matrix (got " +
                             std::to_string(array.ndim()) + " dimensions)");
}

memory::SearchOptions search_options(std::size_t k, double min_similarity,
                                     std::optional<std::string> entity_type,
                                     std::string metadata_json,
                                     std::optional<std::string> provenance_prefix,
                                     bool record_use) {
  return memory::SearchOptions{k,
                               min_similarity,
                               std::move(entity_type),
                               std::move(metadata_json),
                               std::move(provenance_prefix),
                               record_use};
}

std::vector<MemoryEntityRecord> write(VectorMemory& m, const std::vector<py::tuple>& rows,
                                      const Floats& embeddings, bool replace) {
  auto specs = specs_from(rows);
  const auto [count, width] = shape_of(embeddings, "embeddings");
  if (width != static_cast<std::size_t>(m.dimension())) {
    throw InvalidArgumentError("the embeddings have " + std::to_string(width) +
                               " columns; memory '" + m.name() + "' holds " +
                               std::to_string(m.dimension()) + "-dimensional vectors");
  }
  const float* data = embeddings.data();
  py::gil_scoped_release release;
  return replace ? m.upsert_many(specs, data, count) : m.add_many(specs, data, count);
}

/// An Embedder written in Python: a subclass of aadap.Embedder passes its identity to
/// __init__ and overrides embed_batch(texts) to return a (len(texts), dimension) array.
class PythonEmbedder final : public Embedder {
 public:
  explicit PythonEmbedder(EmbedderIdentity identity) : identity_(std::move(identity)) {}

  EmbedderIdentity identity() const override { return identity_; }

  void embed_batch(const std::vector<std::string>& texts, float* out) const override {
    require_non_blank_texts(texts);
    py::gil_scoped_acquire gil;
    const py::function override =
        py::get_override(static_cast<const Embedder*>(this), "embed_batch");
    if (!override) {
      throw InvalidArgumentError("an aadap.Embedder subclass must define embed_batch(texts)");
    }
    const auto vectors = Floats::ensure(override(texts));
    const auto dim = static_cast<py::ssize_t>(identity_.dimension);
    if (!vectors || vectors.ndim() != 2 ||
        vectors.shape(0) != static_cast<py::ssize_t>(texts.size()) || vectors.shape(1) != dim) {
      throw InvalidArgumentError(identity_.provider + "/" + identity_.model +
                                 ": embed_batch must return a (" + std::to_string(texts.size()) +
                                 ", " + std::to_string(dim) + ") array of numbers");
    }
    std::copy_n(vectors.data(), texts.size() * static_cast<std::size_t>(dim), out);
  }

 private:
  EmbedderIdentity identity_;
};

}  // namespace

void bind_vector_memory(py::module_& m, EngineClass& engine) {
  py::class_<Embedder, PythonEmbedder, std::shared_ptr<Embedder>>(
      m, "Embedder",
      "Turns text into unit-length float32 vectors of a fixed dimension. Subclass it to plug "
      "in your own model: call super().__init__(provider=..., model=..., dimension=...) and "
      "define embed_batch(texts) returning a (len(texts), dimension) array.")
      .def(py::init([](std::string provider, std::string model, int dimension) {
             if (provider.empty() || model.empty()) {
               throw InvalidArgumentError("an embedder names its provider and model");
             }
             if (dimension < 1 || dimension > 8192) {
               throw InvalidArgumentError("the embedding dimension is from 1 to 8192 (got " +
                                          std::to_string(dimension) + ")");
             }
             return std::make_shared<PythonEmbedder>(
                 EmbedderIdentity{std::move(provider), std::move(model), dimension});
           }),
           py::kw_only(), py::arg("provider"), py::arg("model"), py::arg("dimension"))
      .def_property_readonly("provider", [](const Embedder& e) { return e.identity().provider; })
      .def_property_readonly("model", [](const Embedder& e) { return e.identity().model; })
      .def_property_readonly("dimension", &Embedder::dimension)
      .def(
          "embed_batch",
          [](const Embedder& e, const std::vector<std::string>& texts) {
            const auto dim = static_cast<py::ssize_t>(e.dimension());
            py::array_t<float> out({static_cast<py::ssize_t>(texts.size()), dim});
            float* data = out.mutable_data();
            {
              py::gil_scoped_release release;
              e.embed_batch(texts, data);
            }
            return out;
          },
          py::arg("texts"), "A (len(texts), dimension) float32 matrix, one row per text.");
  py::class_<memory::HashingEmbedder, Embedder, std::shared_ptr<memory::HashingEmbedder>>(
      m, "HashingEmbedderCore")
      .def(py::init<int>(), py::arg("dimension") = 1536);

  py::class_<VectorMemory, std::shared_ptr<VectorMemory>>(m, "VectorMemoryCore")
      .def_property_readonly("name", &VectorMemory::name)
      .def_property_readonly("dimension", &VectorMemory::dimension)
      .def(
          "add_many",
          [](VectorMemory& v, const std::vector<py::tuple>& specs, const Floats& embeddings) {
            return entity_rows(write(v, specs, embeddings, false));
          },
          py::arg("specs"), py::arg("embeddings"))
      .def(
          "upsert_many",
          [](VectorMemory& v, const std::vector<py::tuple>& specs, const Floats& embeddings) {
            return entity_rows(write(v, specs, embeddings, true));
          },
          py::arg("specs"), py::arg("embeddings"))
      .def(
          "get",
          [](const VectorMemory& v, const std::string& id) -> py::object {
            auto found = released([&] { return v.get(id); });
            if (!found) return py::none();
            return entity_row(*found);
          },
          py::arg("id"))
      .def(
          "remove",
          [](VectorMemory& v, const std::vector<std::string>& ids) {
            return released([&] { return v.remove(ids); });
          },
          py::arg("ids"))
      .def(
          "search_many",
          [](VectorMemory& v, const Floats& queries, std::size_t k, double min_similarity,
             std::optional<std::string> entity_type, std::string metadata_json,
             std::optional<std::string> provenance_prefix, bool record_use) {
            const auto [rows, width] = shape_of(queries, "the queries");
            if (width != static_cast<std::size_t>(v.dimension())) {
              throw InvalidArgumentError("the query has " + std::to_string(width) +
                                         " values; memory '" + v.name() + "' holds " +
                                         std::to_string(v.dimension()) + "-dimensional vectors");
            }
            const auto options =
                search_options(k, min_similarity, std::move(entity_type), std::move(metadata_json),
                               std::move(provenance_prefix), record_use);
            const float* data = queries.data();
            const auto results = released([&] { return v.search_many(data, rows, options); });
            py::list out(results.size());
            for (std::size_t i = 0; i < results.size(); ++i) out[i] = hit_rows(results[i]);
            return out;
          },
          py::arg("queries"), py::arg("k"), py::arg("min_similarity"), py::arg("entity_type"),
          py::arg("metadata_json"), py::arg("provenance_prefix"), py::arg("record_use"))
      .def(
          "update",
          [](VectorMemory& v, const std::string& id, std::optional<double> confidence,
             std::optional<double> validation_pass_rate,
             std::optional<std::int64_t> validation_failures,
             std::optional<std::string> critical_failure_at,
             std::optional<std::string> metadata_json) {
            const memory::EntityUpdate changes{confidence, validation_pass_rate,
                                               validation_failures, std::move(critical_failure_at),
                                               std::move(metadata_json)};
            return entity_row(released([&] { return v.update(id, changes); }));
          },
          py::arg("id"), py::arg("confidence"), py::arg("validation_pass_rate"),
          py::arg("validation_failures"), py::arg("critical_failure_at"), py::arg("metadata_json"))
      .def(
          "promote",
          [](VectorMemory& v, const std::string& id) {
            return entity_row(released([&] { return v.promote(id); }));
          },
          py::arg("id"))
      .def(
          "deprecate",
          [](VectorMemory& v, const std::string& id, const std::string& reason) {
            return entity_row(released([&] { return v.deprecate(id, reason); }));
          },
          py::arg("id"), py::arg("reason"))
      .def("refresh", [](VectorMemory& v) { return released([&] { return v.refresh(); }); })
      .def("snapshot", [](const VectorMemory& v) { return released([&] { return v.snapshot(); }); })
      .def("govern",
           [](VectorMemory& v) {
             const auto report = released([&] { return v.govern(); });
             return py::make_tuple(report.promoted, report.deprecated);
           })
      .def("stats", [](const VectorMemory& v) {
        const auto s = released([&] { return v.stats(); });
        py::dict out;
        out["name"] = s.name;
        out["dimension"] = s.dimension;
        out["embedder"] = s.embedder_provider + "/" + s.embedder_model;
        out["entities"] = s.entities;
        out["searchable"] = s.searchable;
        out["deprecated"] = s.deprecated;
        out["stale"] = s.stale;
        out["index"] = s.index;
        out["graph_nodes"] = s.graph_nodes;
        out["graph_from_snapshot"] = s.graph_from_snapshot;
        out["kernel"] = s.kernel;
        out["index_bytes"] = s.index_bytes;
        return out;
      });

  m.def(
      "memory_promotion_eligible",
      [](const py::tuple& row, const std::string& now) {
        const auto when = parse_utc_iso(now);
        if (!when) throw InvalidArgumentError("now must be an ISO-8601 UTC timestamp");
        return memory::promotion_eligible(entity_from_row(row), *when);
      },
      py::arg("row"), py::arg("now"));
  m.def(
      "memory_deprecation_required",
      [](const py::tuple& row) { return memory::deprecation_required(entity_from_row(row)); },
      py::arg("row"));

  engine.def(
      "vector_memory",
      [](engine::TaskEngine& e, const std::string& name, std::shared_ptr<Embedder> embedder,
         double min_similarity, int max_staleness_days, const std::string& index, int hnsw_m,
         int ef_construction, int ef_search, const std::string& snapshot_path) {
        memory::VectorMemoryOptions options;
        options.min_similarity = min_similarity;
        options.max_staleness_days = max_staleness_days;
        if (index == "hnsw") {
          options.index = memory::IndexKind::hnsw;
        } else if (index != "exact") {
          throw InvalidArgumentError("index is \"exact\" or \"hnsw\" (got '" + index.substr(0, 40) +
                                     "')");
        }
        options.hnsw = memory::HnswParameters{hnsw_m, ef_construction, ef_search};
        options.snapshot_path = snapshot_path;
        return released([&] {
          return std::make_shared<VectorMemory>(e.store(), name, std::move(embedder), options);
        });
      },
      py::arg("name"), py::arg("embedder"), py::arg("min_similarity"),
      py::arg("max_staleness_days"), py::arg("index"), py::arg("hnsw_m"),
      py::arg("ef_construction"), py::arg("ef_search"), py::arg("snapshot_path"));
}

}  // namespace aadap::bindings
