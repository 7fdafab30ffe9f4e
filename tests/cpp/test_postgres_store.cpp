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

TEST(PostgresStore, UnreachableServerIsReportedWithoutThePassword) {
  try {
    open("postgresql://user:secret-pw-77@127.0.0.1:1/db");
    FAIL() << "connected to nothing";
  } catch (const StoreUnavailableError& error) {
    EXPECT_EQ(std::string(error.what()).find("secret-pw-77"), std::string::npos) << error.what();
  }
}
