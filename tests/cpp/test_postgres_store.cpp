// The PostgreSQL store under the sanitizers: a fresh database on the server of
// AADAP_TEST_POSTGRES_URL (scripts/test.sh starts one), skipped without it. The Python
// conformance suite covers every operation on both backends.
#include "aadap/core/database_url.hpp"
#include "aadap/core/ids.hpp"
#include "aadap/store/postgres_store.hpp"
#include "governed.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

#include <atomic>
#include <cstdlib>
#include <thread>

using namespace aadap;
using namespace aadap::engine;
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

TEST(PostgresStore, UnreachableServerIsReportedWithoutThePassword) {
  try {
    open("postgresql://user:secret-pw-77@127.0.0.1:1/db");
    FAIL() << "connected to nothing";
  } catch (const StoreUnavailableError& error) {
    EXPECT_EQ(std::string(error.what()).find("secret-pw-77"), std::string::npos) << error.what();
  }
}
