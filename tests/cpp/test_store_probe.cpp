#include "aadap/core/logging.hpp"
#include "aadap/store/probe.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace aadap;

namespace {

// The PostgreSQL server started by the test runner (scripts/check.sh) or the pytest fixture.
std::string postgres_url() {
  const char* url = std::getenv("AADAP_TEST_POSTGRES_URL");
  return url ? url : "";
}

}  // namespace

TEST(StoreProbe, InMemorySqlite) {
  const auto result = store::probe(DatabaseUrl::parse("sqlite://"), "cid");
  EXPECT_TRUE(result.reachable);
  EXPECT_EQ(result.backend, "sqlite");
  EXPECT_EQ(result.server_version, sqlite3_libversion());
}

TEST(StoreProbe, MissingFileInWritableDirectoryWillBeCreated) {
  const auto dir = std::filesystem::temp_directory_path() / "aadap_probe_test" / "nested";
  std::filesystem::remove_all(dir.parent_path());
  const auto result = store::probe(DatabaseUrl::parse((dir / "x.db").string()), "cid");
  EXPECT_TRUE(result.reachable) << result.detail;
  EXPECT_FALSE(std::filesystem::exists(dir)) << "the probe must not create anything";
}

TEST(StoreProbe, ExistingFileIsReadWithoutChange) {
  const auto path = std::filesystem::temp_directory_path() / "aadap_probe_existing.db";
  std::filesystem::remove(path);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  const auto result = store::probe(DatabaseUrl::parse(path.string()), "cid");
  EXPECT_TRUE(result.reachable) << result.detail;
  EXPECT_NE(result.detail.find("1 tables"), std::string::npos) << result.detail;
  std::filesystem::remove(path);
}

TEST(StoreProbe, GarbageFileIsNotADatabase) {
  const auto path = std::filesystem::temp_directory_path() / "aadap_probe_garbage.db";
  std::ofstream(path) << "this is not sqlite, not at all, definitely not a database header";
  const auto result = store::probe(DatabaseUrl::parse(path.string()), "cid");
  EXPECT_FALSE(result.reachable);
  std::filesystem::remove(path);
}

TEST(StoreProbe, UnreachablePostgresSaysWhyWithoutThePassword) {
  // Port 1 on loopback: nothing listens there.
  const auto result =
      store::probe(DatabaseUrl::parse("postgresql://u:probe-pw-4242@127.0.0.1:1/db"), "cid",
                   std::chrono::seconds(2));
  EXPECT_FALSE(result.reachable);
  EXPECT_FALSE(result.detail.empty());
  EXPECT_EQ(result.detail.find("probe-pw-4242"), std::string::npos);
  EXPECT_EQ(result.url, "postgresql://u:**********@127.0.0.1:1/db");
}

TEST(StoreProbe, RealPostgresServer) {
  const auto url = postgres_url();
  if (url.empty()) {
    if (std::getenv("AADAP_REQUIRE_POSTGRES")) FAIL() << "AADAP_TEST_POSTGRES_URL is not set";
    GTEST_SKIP() << "no PostgreSQL server (run through scripts/test.sh)";
  }
  const auto result = store::probe(DatabaseUrl::parse(url), "cid");
  EXPECT_TRUE(result.reachable) << result.detail;
  EXPECT_EQ(result.backend, "postgresql");
  EXPECT_FALSE(result.server_version.empty());
}
