// The PostgreSQL store under the sanitizers: a fresh database on the server of
// AADAP_TEST_POSTGRES_URL (scripts/test.sh starts one), skipped without it. The Python
// conformance suite covers every operation on both backends.
#include "aadap/core/database_url.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/store/embedding_digest.hpp"
#include "aadap/store/postgres_store.hpp"
#include "aadap/store/sqlite_store.hpp"
#include "governed.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <thread>

using namespace aadap;
using namespace aadap::engine;
using namespace std::string_literals;
using aadap::testing::Governed;

namespace {

/// A new empty database on the test server; "" when there is no server.
std::string fresh_database() {
  const char* server = std::getenv("AADAP_TEST_POSTGRES_URL");
  if (server == nullptr || *server == '\0') return {};
  std::string name = "c_" + new_uuid4().substr(0, 8);
  {
    pqxx::connection admin(server);
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + name);
  }
  std::string url(server);
  return url.substr(0, url.rfind('/') + 1) + name;
}

/// Queues on `tx` what the engine writes for one transition of `task` (read through `tx`).
void queue_transition(store::StoreTransaction& tx, const store::TaskRecord& task,
                      const std::string& to) {
  const auto summary = tx.summarize_events(task.id, to);
  const std::string now = utc_now_iso();
  tx.insert_transition(store::TransitionRecord{new_uuid7(), task.id, summary.last_seq + 1,
                                               task.current_state, to, "stale", "", "{}",
                                               std::nullopt, now});
  tx.update_task_state(task.id, to, task.version + 1, task.retry_count, now);
  tx.insert_audit(store::AuditRecord{new_uuid7(), std::nullopt, task.id, "state.transition",
                                     "stale", task.current_state + " → " + to, "task", task.id,
                                     "{}", now});
}

std::shared_ptr<store::PostgresStore> open(const std::string& url) {
  store::PostgresStore::Options options;
  options.pool_size = 4;
  options.pool_overflow = 2;
  return std::make_shared<store::PostgresStore>(DatabaseUrl::parse(url), options);
}

}  // namespace

TEST(PostgresStore, GovernedPathAndRefusals) {
  const auto url = fresh_database();
  if (url.empty()) {
    if (std::getenv("AADAP_REQUIRE_POSTGRES")) FAIL() << "AADAP_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "AADAP_TEST_POSTGRES_URL is not set";
  }
  Governed g(open(url));
  const auto id = g.task();
  const auto code = g.validated(id);
  const auto request = g.request(id, "destructive", code.id);
  EXPECT_EQ(request.status, "PENDING");
  EXPECT_THROW(g.go(id, "DEPLOYING", code.id), InvalidTransitionError);
  g.engine.decide(request.id, true, "alice", "ok", "cid");
  g.go(id, "DEPLOYING", code.id);
  g.go(id, "DEPLOYED");
  g.go(id, "COMPLETED");
  EXPECT_TRUE(g.engine.verify(id).ok);
  EXPECT_EQ(g.count(id, "guard.violation"), 1u);
  EXPECT_EQ(g.engine.history(id).size(), 16u);
  const auto pruned = g.engine.prune(
      utc_iso(std::chrono::system_clock::now() + std::chrono::seconds(1)), "retention", "cid");
  EXPECT_EQ(pruned.size(), 1u);
  EXPECT_THROW(g.engine.get_task(id), NotFoundError);
}

TEST(PostgresStore, ConcurrentTransitionsHaveOneWinnerPerVersion) {
  const auto url = fresh_database();
  if (url.empty()) {
    if (std::getenv("AADAP_REQUIRE_POSTGRES")) FAIL() << "AADAP_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "AADAP_TEST_POSTGRES_URL is not set";
  }
  Governed g(open(url));
  const auto id = g.task();
  std::atomic<int> wins{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      try {
        g.engine.transition(TransitionRequest{id, "PARSING", "racer", "", "{}", 0, std::nullopt},
                            "cid");
        ++wins;
      } catch (const ConcurrencyError&) {
        ++conflicts;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wins.load(), 1);
  EXPECT_EQ(conflicts.load(), 5);
  EXPECT_EQ(g.engine.history(id).size(), 1u);
  EXPECT_TRUE(g.engine.verify(id).ok);
}

// A transaction that read tasks without locking them writes nothing when one of them changed
// before its commit, and says the conflict is retryable; alone (one statement in autocommit),
// in a batch, and after other queued writes (inside BEGIN).
TEST(PostgresStore, OptimisticCommitOfAChangedTaskWritesNothing) {
  const auto url = fresh_database();
  if (url.empty()) {
    if (std::getenv("AADAP_REQUIRE_POSTGRES")) FAIL() << "AADAP_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "AADAP_TEST_POSTGRES_URL is not set";
  }
  Governed g(open(url));
  const auto a = g.task();
  const auto b = g.task();
  const auto expect_conflict = [&](store::StoreTransaction& tx) {
    try {
      tx.commit();
      FAIL() << "a stale transaction committed";
    } catch (const ConcurrencyError& error) {
      EXPECT_TRUE(error.details().value("retryable", false)) << error.what();
    }
  };
  const auto stale_rows = [&] {
    std::size_t n = 0;
    for (const auto& id : {a, b}) {
      for (const auto& e : g.engine.history(id)) n += e.actor == "stale" ? 1 : 0;
      for (const auto& e : g.engine.audit(id)) n += e.actor == "stale" ? 1 : 0;
      n += g.engine.logs(id).size();
    }
    return n;
  };

  {  // one transition: the single-statement path
    auto tx = g.store->begin(store::ReadMode::optimistic);
    const auto task = tx->read_task(a);
    g.go(a, "PARSING");
    queue_transition(*tx, *task, "PARSING");
    expect_conflict(*tx);
  }
  {  // a batch where one of two changed
    auto tx = g.store->begin(store::ReadMode::optimistic);
    tx->read_tasks({a, b});
    const auto task_a = tx->read_task(a);
    const auto task_b = tx->read_task(b);
    g.go(b, "PARSING");
    queue_transition(*tx, *task_a, "PARSED");
    queue_transition(*tx, *task_b, "PARSING");
    expect_conflict(*tx);
  }
  {  // after another write, inside BEGIN
    auto tx = g.store->begin(store::ReadMode::optimistic);
    const auto task = tx->read_task(a);
    tx->insert_log(store::TaskLogRecord{new_uuid7(), a, "INFO", "stale", std::nullopt, std::nullopt,
                                        utc_now_iso()});
    g.go(a, "PARSED");
    queue_transition(*tx, *task, "PARSED");
    expect_conflict(*tx);
  }
  {  // locking a row read before confirms it is unchanged
    auto tx = g.store->begin(store::ReadMode::optimistic);
    tx->read_task(b);
    g.go(b, "PARSED");
    EXPECT_THROW(tx->lock_task(b), ConcurrencyError);
  }
  EXPECT_EQ(stale_rows(), 0u);
  EXPECT_EQ(g.engine.get_task(a).version, 2);
  EXPECT_EQ(g.engine.get_task(b).version, 2);

  {  // unchanged: the same paths commit
    auto tx = g.store->begin(store::ReadMode::optimistic);
    tx->read_tasks({a, b});
    queue_transition(*tx, *tx->read_task(a), "PLANNING");
    queue_transition(*tx, *tx->read_task(b), "PLANNING");
    tx->commit();
  }
  EXPECT_EQ(stale_rows(), 4u);
  EXPECT_TRUE(g.engine.verify(a).ok);
  EXPECT_TRUE(g.engine.verify(b).ok);
}

namespace {

/// A memory entity of memory "m" with every field set; `n` varies the values.
store::MemoryEntityRecord memory_entity(const std::string& id, int n) {
  store::MemoryEntityRecord e;
  e.id = id;
  e.memory_name = "m";
  e.content = "it's \"quoted\", a back\\slash, {braces}, a\nnewline, é → 世界 " + std::to_string(n);
  // Bytes that quoting could mangle (0x00, '\\', '"', '{'), a NaN payload, -0, the
  // smallest denormal and the largest float: every byte must come back as it was.
  e.embedding = {std::bit_cast<float>(0x7b225c00u),
                 std::bit_cast<float>(0x7fc12345u),
                 -0.0f,
                 std::numeric_limits<float>::denorm_min(),
                 std::numeric_limits<float>::max(),
                 static_cast<float>(n) + 0.1f};
  e.entity_type = n % 2 == 0 ? "pattern" : "error_resolution";
  e.provenance = "task:" + std::to_string(n);
  e.confidence = 0.1 + (n % 900) / 1000.0;
  e.use_count = (std::int64_t{1} << 40) + n;
  e.validation_pass_rate = 1.0 / 3.0;
  e.validation_failures = n;
  if (n % 2 == 0) e.critical_failure_at = "2026-01-02T03:04:05.006Z";
  e.is_deprecated = n % 3 == 0;
  e.metadata_json = R"({"note":"say \"hi\" \\ bye","unicode":"héllo → 世界 🎉"})";
  e.created_at = "2026-01-01T00:00:00.000Z";
  e.updated_at = "2026-02-01T00:00:00.00" + std::to_string(n % 10) + "Z";
  return e;
}

void expect_same(const store::MemoryEntityRecord& got, const store::MemoryEntityRecord& want) {
  SCOPED_TRACE(want.id);
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.memory_name, want.memory_name);
  EXPECT_EQ(got.content, want.content);
  ASSERT_EQ(got.embedding.size(), want.embedding.size());
  EXPECT_EQ(std::memcmp(got.embedding.data(), want.embedding.data(),
                        want.embedding.size() * sizeof(float)),
            0);
  EXPECT_EQ(got.entity_type, want.entity_type);
  EXPECT_EQ(got.provenance, want.provenance);
  EXPECT_EQ(got.confidence, want.confidence);
  EXPECT_EQ(got.use_count, want.use_count);
  EXPECT_EQ(got.validation_pass_rate, want.validation_pass_rate);
  EXPECT_EQ(got.validation_failures, want.validation_failures);
  EXPECT_EQ(got.critical_failure_at, want.critical_failure_at);
  EXPECT_EQ(got.is_deprecated, want.is_deprecated);
  EXPECT_EQ(got.metadata_json, want.metadata_json);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.updated_at, want.updated_at);
  EXPECT_EQ(got.embedding_digest,
            store::embedding_digest(want.embedding.data(), want.embedding.size()));
}

std::vector<std::string> ids_of(const std::vector<store::MemoryEntityRecord>& entities) {
  std::vector<std::string> ids;
  for (const auto& e : entities) ids.push_back(e.id);
  return ids;
}

std::vector<std::string> sorted(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

/// The vector memory's rows on `s`, checked against what was written: what both stores must
/// do alike.
void check_memory_rows(store::Store& s) {
  const store::VectorMemoryRecord wanted{"m", 6, "test", "model", "2026-01-01T00:00:00.123Z"};
  const auto created = s.open_vector_memory(wanted);
  EXPECT_EQ(created.name, "m");
  EXPECT_EQ(created.dimension, 6);
  EXPECT_EQ(created.embedder_model, "model");
  EXPECT_EQ(created.created_at, "2026-01-01T00:00:00.123Z");
  // Reopened with another dimension and embedder: the stored record comes back, for the
  // caller to refuse the mismatch.
  const auto reopened = s.open_vector_memory(
      store::VectorMemoryRecord{"m", 12, "other", "bigger", "2026-03-01T00:00:00.000Z"});
  EXPECT_EQ(reopened.dimension, 6);
  EXPECT_EQ(reopened.embedder_provider, "test");
  EXPECT_EQ(reopened.embedder_model, "model");
  EXPECT_EQ(reopened.created_at, "2026-01-01T00:00:00.123Z");
  s.open_vector_memory(store::VectorMemoryRecord{"other", 6, "test", "model", wanted.created_at});

  // 4500 entities: more than one statement of the PostgreSQL upsert, in one transaction.
  std::vector<store::MemoryEntityRecord> written;
  for (int n = 0; n < 4500; ++n) written.push_back(memory_entity("e" + std::to_string(n), n));
  s.put_memory_entities(written);
  auto stored = s.memory_entities("m", store::EmbeddingRead::included);
  ASSERT_EQ(stored.size(), written.size());
  for (std::size_t i = 0; i < written.size(); ++i) expect_same(stored[i], written[i]);
  EXPECT_TRUE(s.memory_entities("other", store::EmbeddingRead::included).empty());

  // Without the vectors: the same rows, each with the digest of the vector it holds.
  const auto rows = s.memory_entities("m", store::EmbeddingRead::omitted);
  ASSERT_EQ(rows.size(), written.size());
  for (std::size_t i = 0; i < written.size(); i += 499) {
    EXPECT_TRUE(rows[i].embedding.empty());
    auto row = rows[i];
    row.embedding = written[i].embedding;
    expect_same(row, written[i]);
  }
  // By id: those that exist, in write order, vectors included.
  const auto some = s.memory_entities_by_id("m", {"e3001", "missing", "e7"});
  ASSERT_EQ(ids_of(some), (std::vector<std::string>{"e7", "e3001"}));
  expect_same(some[1], written[3001]);
  EXPECT_TRUE(s.memory_entities_by_id("other", {"e7"}).empty());
  EXPECT_TRUE(s.memory_entities_by_id("m", {}).empty());

  // An id is scoped by its memory: the same id elsewhere is another entity.
  auto elsewhere = memory_entity("e5", 9005);
  elsewhere.memory_name = "other";
  s.put_memory_entities({elsewhere});
  expect_same(s.memory_entities_by_id("m", {"e5"}).at(0), written[5]);
  expect_same(s.memory_entities_by_id("other", {"e5"}).at(0), elsewhere);
  s.delete_memory_entities("other", {"e5"});

  // Replaced by id: new values, the same place in the write order. An id twice in one call:
  // the last write wins, as when written one after the other.
  auto replaced = memory_entity("e1", 7001);
  replaced.critical_failure_at.reset();
  replaced.metadata_json = "{}";
  replaced.updated_at = "2026-02-02T00:00:00.000Z";
  auto first = memory_entity("new", 1);
  auto second = memory_entity("new", 2);
  second.updated_at = "2026-02-02T00:00:00.000Z";
  s.put_memory_entities({replaced, first, second});
  stored = s.memory_entities("m", store::EmbeddingRead::included);
  ASSERT_EQ(stored.size(), written.size() + 1);
  expect_same(stored[1], replaced);
  expect_same(stored.back(), second);
  expect_same(stored[2], written[2]);

  // Changes since a time, inclusive, in write order; ids of every entity.
  auto changes = s.memory_changes("m", "2026-02-02T00:00:00.000Z");
  EXPECT_EQ(ids_of(changes.changed), (std::vector<std::string>{"e1", "new"}));
  expect_same(changes.changed[0], replaced);
  expect_same(changes.changed[1], second);
  EXPECT_EQ(sorted(changes.ids), sorted(ids_of(stored)));
  EXPECT_TRUE(s.memory_changes("m", "2026-02-02T00:00:00.001Z").changed.empty());
  EXPECT_EQ(s.memory_changes("m", "").changed.size(), stored.size());
  EXPECT_TRUE(s.memory_changes("other", "").ids.empty());

  // Deleted by id, in the memory named only; an id that is not there is no error.
  s.delete_memory_entities("other", {"e2"});
  s.delete_memory_entities("m", {"e2", "e4", "missing"});
  changes = s.memory_changes("m", "2026-02-02T00:00:00.000Z");
  EXPECT_EQ(changes.ids.size(), stored.size() - 2);
  EXPECT_EQ(std::count(changes.ids.begin(), changes.ids.end(), "e2"), 0);
  EXPECT_EQ(std::count(changes.ids.begin(), changes.ids.end(), "e3"), 1);
  stored = s.memory_entities("m", store::EmbeddingRead::included);
  EXPECT_EQ(ids_of(stored)[2], "e3");
}

}  // namespace

TEST(PostgresStore, VectorMemoryRowsRoundTripAsOnSqlite) {
  const auto url = fresh_database();
  if (url.empty()) {
    if (std::getenv("AADAP_REQUIRE_POSTGRES")) FAIL() << "AADAP_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "AADAP_TEST_POSTGRES_URL is not set";
  }
  {
    SCOPED_TRACE("postgres");
    check_memory_rows(*open(url));
  }
  {
    SCOPED_TRACE("sqlite");
    store::SqliteStore sqlite(":memory:", SqliteSynchronous::normal);
    check_memory_rows(sqlite);
  }
}

TEST(PostgresStore, VectorMemoryRefusesNulBytesAndWritesNothing) {
  const auto url = fresh_database();
  if (url.empty()) {
    if (std::getenv("AADAP_REQUIRE_POSTGRES")) FAIL() << "AADAP_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "AADAP_TEST_POSTGRES_URL is not set";
  }
  const auto s = open(url);
  s->open_vector_memory(store::VectorMemoryRecord{"m", 6, "test", "model", utc_now_iso()});
  std::vector<store::MemoryEntityRecord> entities;
  for (int n = 0; n < 2500; ++n) entities.push_back(memory_entity("e" + std::to_string(n), n));
  entities.back().content = "nul \0 inside"s;
  EXPECT_THROW(s->put_memory_entities(entities), InvalidArgumentError);
  entities.back().content = "fine";
  entities.back().metadata_json = "{\"k\":\"\0\"}"s;
  EXPECT_THROW(s->put_memory_entities(entities), InvalidArgumentError);
  EXPECT_TRUE(s->memory_entities("m", store::EmbeddingRead::included).empty());
  EXPECT_THROW(s->delete_memory_entities("m", {"a\0b"s}), InvalidArgumentError);
  // A row the database refuses (provenance blank) rolls back the rows written before it.
  entities.back().metadata_json = "{}";
  entities.back().provenance = "  ";
  EXPECT_THROW(s->put_memory_entities(entities), StoreError);
  EXPECT_TRUE(s->memory_entities("m", store::EmbeddingRead::included).empty());
  // The pool's connections are fine after the failures.
  entities.back().provenance = "task:1";
  s->put_memory_entities(entities);
  EXPECT_EQ(s->memory_entities("m", store::EmbeddingRead::included).size(), entities.size());
}

TEST(PostgresStore, UnreachableServerIsReportedWithoutThePassword) {
  try {
    open("postgresql://user:secret-pw-77@127.0.0.1:1/db");
    FAIL() << "connected to nothing";
  } catch (const StoreUnavailableError& error) {
    EXPECT_EQ(std::string(error.what()).find("secret-pw-77"), std::string::npos) << error.what();
  }
}
