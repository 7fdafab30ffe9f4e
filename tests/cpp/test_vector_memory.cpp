// The vector memory's index bookkeeping under the sanitizers: adds, replacements, removals
// (the last slot moving into the hole), searches while writing, and a rebuild from the
// store. The Python suite checks search results against a numpy brute-force scan.
#include "aadap/core/errors.hpp"
#include "aadap/memory/hashing_embedder.hpp"
#include "aadap/memory/vector_memory.hpp"
#include "aadap/store/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

using namespace aadap;
using memory::EntitySpec;
using memory::SearchOptions;
using memory::VectorMemory;

namespace {

constexpr int kDim = 32;

SearchOptions top(std::size_t k) {
  SearchOptions options;
  options.k = k;
  return options;
}

std::shared_ptr<VectorMemory> open_memory(std::shared_ptr<store::Store> store) {
  return std::make_shared<VectorMemory>(std::move(store), "m",
                                        std::make_shared<memory::HashingEmbedder>(kDim));
}

std::vector<float> random_rows(std::size_t rows, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> out(rows * kDim);
  for (auto& v : out) v = normal(rng);
  return out;
}

std::vector<EntitySpec> specs(std::size_t count, const std::string& prefix) {
  std::vector<EntitySpec> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    out[i].id = prefix + std::to_string(i);
    out[i].content = "content " + out[i].id;
    out[i].provenance = "task:" + prefix;
  }
  return out;
}

}  // namespace

TEST(VectorMemory, RemovalsKeepEveryOtherEntityFindableAndSurviveAReopen) {
  const auto path = std::filesystem::temp_directory_path() / "aadap_vector_memory_test.db";
  std::filesystem::remove(path);
  auto store = std::make_shared<store::SqliteStore>(path.string(), SqliteSynchronous::normal);
  auto memory = open_memory(store);
  std::mt19937 rng(11);
  const auto rows = random_rows(200, rng);
  memory->add_many(specs(200, "e"), rows.data(), 200);

  std::vector<std::string> gone;
  for (int i = 0; i < 200; i += 3) gone.push_back("e" + std::to_string(i));
  gone.push_back("absent");
  EXPECT_EQ(memory->remove(gone), gone.size() - 1);

  const auto check = [&](VectorMemory& m) {
    EXPECT_EQ(m.stats().entities, 200 - (gone.size() - 1));
    for (int i = 0; i < 200; ++i) {
      const std::string id = "e" + std::to_string(i);
      const auto hits = m.search(rows.data() + static_cast<std::size_t>(i) * kDim, kDim, top(1));
      if (i % 3 == 0) {
        EXPECT_FALSE(m.get(id)) << id;
        EXPECT_TRUE(hits.empty() || hits[0].entity.id != id) << id;
      } else {
        ASSERT_EQ(hits.size(), 1u) << id;
        EXPECT_EQ(hits[0].entity.id, id);
        EXPECT_NEAR(hits[0].similarity, 1.0, 1e-5);
      }
    }
  };
  check(*memory);
  memory.reset();
  auto reopened = open_memory(store);
  check(*reopened);
  std::filesystem::remove(path);
}

TEST(VectorMemory, ConcurrentSearchesAndWritesStayConsistent) {
  auto store = std::make_shared<store::SqliteStore>(":memory:", SqliteSynchronous::normal);
  auto memory = open_memory(store);
  std::mt19937 rng(5);
  const auto base = random_rows(100, rng);
  memory->add_many(specs(100, "base"), base.data(), 100);
  std::atomic<bool> done{false};
  std::atomic<int> found{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      while (!done) {
        const std::size_t row = static_cast<std::size_t>((t * 37) % 100);
        const auto hits = memory->search(base.data() + row * kDim, kDim, top(3));
        if (!hits.empty() && hits[0].entity.id == "base" + std::to_string(row)) ++found;
      }
    });
  }
  std::mt19937 writer_rng(9);
  for (int round = 0; round < 20; ++round) {
    const auto extra = random_rows(10, writer_rng);
    const std::string prefix = "r" + std::to_string(round) + "_";
    memory->add_many(specs(10, prefix), extra.data(), 10);
    memory->upsert_many(specs(10, prefix), extra.data(), 10);
    std::vector<std::string> ids;
    for (int i = 0; i < 10; i += 2) ids.push_back(prefix + std::to_string(i));
    memory->remove(ids);
  }
  done = true;
  for (auto& reader : readers) reader.join();
  EXPECT_GT(found.load(), 0);
  EXPECT_EQ(memory->stats().entities, 100u + 20u * 5u);
}

TEST(VectorMemory, InvalidVectorsAreRefusedBeforeAnythingIsWritten) {
  auto store = std::make_shared<store::SqliteStore>(":memory:", SqliteSynchronous::normal);
  auto memory = open_memory(store);
  std::vector<float> rows(2 * kDim, 1.0f);
  rows[kDim + 3] = std::nanf("");
  EXPECT_THROW(memory->add_many(specs(2, "x"), rows.data(), 2), InvalidArgumentError);
  rows[kDim + 3] = 0.0f;
  std::fill(rows.begin() + kDim, rows.end(), 0.0f);
  EXPECT_THROW(memory->add_many(specs(2, "x"), rows.data(), 2), InvalidArgumentError);
  EXPECT_THROW(memory->add_many(specs(2, "x"), rows.data(), 1), InvalidArgumentError);
  EXPECT_EQ(memory->stats().entities, 0u);
  EXPECT_TRUE(store->memory_entities("m", store::EmbeddingRead::included).empty());
}
