#include "aadap/memory/hnsw_index.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/memory/dot_kernel.hpp"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/DistanceComputer.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace aadap::memory {

namespace {

/// Asks the memory during the graph walk (FAISS calls it for every node it meets).
struct Qualifying final : faiss::IDSelector {
  explicit Qualifying(const std::function<bool(std::int64_t)>& test) : test_(test) {}
  bool is_member(faiss::Index::idx_t id) const override { return test_(id); }
  const std::function<bool(std::int64_t)>& test_;
};

/// Inner products through aadap's kernel (AVX2/AVX-512 at run time) instead of the generic
/// x86-64 code of a distribution's libfaiss: graph building and walking are nothing but these.
struct KernelDistance final : faiss::FlatCodesDistanceComputer {
  KernelDistance(const faiss::IndexFlat& storage)
      : faiss::FlatCodesDistanceComputer(storage.codes.data(), storage.code_size),
        dimension(static_cast<std::size_t>(storage.d)) {}
  void set_query(const float* x) override { query = x; }
  float distance_to_code(const std::uint8_t* code) override {
    float out = 0;
    dot_rows(reinterpret_cast<const float*>(code), 1, dimension, query, &out);
    return out;
  }
  float symmetric_dis(idx_t i, idx_t j) override {
    float out = 0;
    dot_rows(reinterpret_cast<const float*>(codes + i * code_size), 1, dimension,
             reinterpret_cast<const float*>(codes + j * code_size), &out);
    return out;
  }
  std::size_t dimension;
  const float* query = nullptr;
};

/// The graph's vector storage: FAISS's flat inner-product index with KernelDistance.
struct KernelFlatIP final : faiss::IndexFlatIP {
  explicit KernelFlatIP(int dimension) : faiss::IndexFlatIP(dimension) {}
  faiss::FlatCodesDistanceComputer* get_FlatCodesDistanceComputer() const override {
    return new KernelDistance(*this);
  }
};

/// Gives `index` KernelFlatIP storage holding what its storage held (FAISS writes it, and
/// reads it back, as a plain flat index).
void use_kernel_storage(faiss::IndexHNSWFlat& index) {
  auto storage = std::make_unique<KernelFlatIP>(static_cast<int>(index.d));
  if (auto* flat = dynamic_cast<faiss::IndexFlat*>(index.storage)) {
    storage->codes = std::move(flat->codes);
    storage->ntotal = flat->ntotal;
  }
  if (index.own_fields) delete index.storage;
  index.storage = storage.release();
  index.own_fields = true;
}

const HnswParameters& checked(const HnswParameters& parameters) {
  if (parameters.m < 4 || parameters.m > 256) {
    throw InvalidArgumentError("hnsw_m is from 4 to 256 (got " + std::to_string(parameters.m) +
                               ")");
  }
  if (parameters.ef_construction < 8 || parameters.ef_search < 1) {
    throw InvalidArgumentError("ef_construction is at least 8 and ef_search at least 1");
  }
  return parameters;
}

constexpr char kMagic[8] = {'A', 'A', 'D', 'A', 'P', 'H', 'N', '1'};

/// Closes the FILE* it owns (FAISS reads and writes through C stdio).
struct File {
  explicit File(std::FILE* f) : f(f) {}
  ~File() {
    if (f != nullptr) std::fclose(f);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  std::FILE* f;
};

/// Makes a rename in `directory` durable.
void sync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// Removes the temporary files that writers of `target` killed mid-write left behind (named
/// `<target>.tmp-<pid>`, the pid no longer running); a live writer's file is left alone.
void remove_abandoned_temporaries(const std::filesystem::path& target) {
  const std::string prefix = target.filename().string() + ".tmp-";
  std::error_code error;
  const auto directory = target.has_parent_path() ? target.parent_path() : ".";
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        digits.size() > 9) {
      continue;
    }
    const auto pid = static_cast<pid_t>(std::stol(digits));
    if (::kill(pid, 0) != 0 && errno == ESRCH) std::filesystem::remove(entry.path(), error);
  }
}

}  // namespace

HnswIndex::HnswIndex(int dimension, HnswParameters parameters)
    : index_(std::make_unique<faiss::IndexHNSWFlat>(dimension, checked(parameters).m,
                                                    faiss::METRIC_INNER_PRODUCT)),
      parameters_(parameters) {
  use_kernel_storage(*index_);
  index_->hnsw.efConstruction = parameters.ef_construction;
  index_->hnsw.efSearch = parameters.ef_search;
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::add(const float* vectors, std::size_t rows) {
  if (rows > 0) index_->add(static_cast<faiss::Index::idx_t>(rows), vectors);
}

std::size_t HnswIndex::size() const noexcept {
  return static_cast<std::size_t>(index_->ntotal);
}

std::vector<std::pair<std::int64_t, float>> HnswIndex::search(
    const float* query, std::size_t k, const std::function<bool(std::int64_t)>& qualifies) const {
  std::vector<std::pair<std::int64_t, float>> out;
  if (k == 0 || index_->ntotal == 0) return out;
  Qualifying selector(qualifies);
  faiss::SearchParametersHNSW params;
  params.sel = &selector;
  params.efSearch = std::max(parameters_.ef_search, static_cast<int>(k));
  std::vector<float> distances(k);
  std::vector<faiss::Index::idx_t> labels(k);
  index_->search(1, query, static_cast<faiss::Index::idx_t>(k), distances.data(), labels.data(),
                 &params);
  for (std::size_t i = 0; i < k; ++i) {
    if (labels[i] >= 0) out.emplace_back(labels[i], distances[i]);
  }
  return out;
}

HnswIndex::HnswIndex(std::unique_ptr<faiss::IndexHNSWFlat> index, HnswParameters parameters)
    : index_(std::move(index)), parameters_(parameters) {
  use_kernel_storage(*index_);
  index_->hnsw.efConstruction = parameters.ef_construction;
  index_->hnsw.efSearch = parameters.ef_search;
}

const float* HnswIndex::vector(std::int64_t node) const {
  const auto& codes = static_cast<const faiss::IndexFlat*>(index_->storage)->codes;
  return reinterpret_cast<const float*>(codes.data()) + node * index_->d;
}

void HnswIndex::save(const std::string& path, const std::string& header) const {
  const std::filesystem::path target(path);
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path());
  remove_abandoned_temporaries(target);
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  bool ok = false;
  {
    File file(std::fopen(temporary.c_str(), "wb"));
    if (file.f == nullptr) {
      throw StoreError("cannot write the index snapshot " + temporary + ": " +
                       std::strerror(errno));
    }
    const auto length = static_cast<std::uint64_t>(header.size());
    ok = std::fwrite(kMagic, sizeof(kMagic), 1, file.f) == 1 &&
         std::fwrite(&length, sizeof(length), 1, file.f) == 1 &&
         std::fwrite(header.data(), 1, header.size(), file.f) == header.size();
    try {
      if (ok) faiss::write_index(index_.get(), file.f);
    } catch (const std::exception&) {
      ok = false;
    }
    ok = ok && std::fflush(file.f) == 0 && ::fsync(::fileno(file.f)) == 0;
  }
  if (!ok) {
    const int error = errno;
    std::filesystem::remove(temporary);
    throw StoreError("writing the index snapshot " + path + " failed: " + std::strerror(error));
  }
  std::filesystem::rename(temporary, target);
  sync_directory(target.parent_path());
}

std::unique_ptr<HnswIndex> HnswIndex::load(const std::string& path, int dimension,
                                           HnswParameters parameters, std::string& header) {
  File file(std::fopen(path.c_str(), "rb"));
  if (file.f == nullptr) return nullptr;
  char magic[sizeof(kMagic)];
  std::uint64_t length = 0;
  if (std::fread(magic, sizeof(magic), 1, file.f) != 1 ||
      std::memcmp(magic, kMagic, sizeof(kMagic)) != 0 ||
      std::fread(&length, sizeof(length), 1, file.f) != 1 || length > (1ULL << 32)) {
    return nullptr;
  }
  header.resize(length);
  if (std::fread(header.data(), 1, length, file.f) != length) return nullptr;
  try {
    std::unique_ptr<faiss::Index> read(faiss::read_index(file.f));
    auto* hnsw = dynamic_cast<faiss::IndexHNSWFlat*>(read.get());
    if (hnsw == nullptr || hnsw->d != dimension ||
        hnsw->metric_type != faiss::METRIC_INNER_PRODUCT ||
        hnsw->hnsw.nb_neighbors(1) != parameters.m) {
      return nullptr;
    }
    read.release();
    return std::unique_ptr<HnswIndex>(
        new HnswIndex(std::unique_ptr<faiss::IndexHNSWFlat>(hnsw), parameters));
  } catch (const std::exception&) {
    return nullptr;  // truncated or foreign: the caller rebuilds
  }
}

}  // namespace aadap::memory
