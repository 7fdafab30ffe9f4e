#include "aadap/core/errors.hpp"
#include "aadap/store/sqlite_schema.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

using namespace aadap;
using namespace aadap::store;

namespace {

class TempDatabase {
 public:
  TempDatabase()
      : dir_(std::filesystem::temp_directory_path() /
             ("aadap_schema_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++))) {
    std::filesystem::remove_all(dir_);
  }
  ~TempDatabase() { std::filesystem::remove_all(dir_); }
  std::string path() const { return (dir_ / "nested" / "store.db").string(); }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
};

void expect_refused(SqliteDatabase& db, const std::string& sql, const std::string& needle) {
  try {
    db.exec(sql);
    FAIL() << "accepted: " << sql;
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const char* kTask =
    "INSERT INTO tasks (id, title) VALUES ('t1', 'Load orders');"
    "INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor) "
    "VALUES ('e1', 't1', 1, 'SUBMITTED', 'PARSING', 'tester');"
    "INSERT INTO audit_events (id, task_id, event_type, actor) VALUES ('a1', 't1', "
    "'task.created', 'tester');"
    "INSERT INTO artifacts (id, task_id, artifact_type, name, content, content_hash) VALUES "
    "('r1', 't1', 'generated_code', 'load.sql', 'SELECT 1', "
    "'e004ebd5b5532a4b85984a62f8ad48a81aa3460c1ca07701f386135d72cdecf5');";

}  // namespace

TEST(SqliteSchema, FreshDatabaseGetsEveryTableOnceAndSettings) {
  TempDatabase temp;
  SqliteDatabase db(temp.path(), SqliteSynchronous::full);
  EXPECT_EQ(apply_sqlite_migrations(db), sqlite_schema_version());
  EXPECT_EQ(apply_sqlite_migrations(db), sqlite_schema_version()) << "idempotent";
  for (const char* table :
       {"tasks", "state_transitions", "artifacts", "approval_requests", "executions",
        "audit_events", "platform_resources", "task_logs", "cost_records", "vector_memories",
        "memory_entities", "schema_migrations"}) {
    auto count = db.prepare("SELECT count(*) FROM sqlite_master WHERE type='table' AND name=?1");
    count.bind(1, table);
    ASSERT_TRUE(count.step());
    EXPECT_EQ(count.integer(0), 1) << table;
  }
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_migrations"), sqlite_schema_version());
  EXPECT_EQ(db.scalar("PRAGMA foreign_keys"), 1);
  EXPECT_EQ(db.scalar("PRAGMA synchronous"), 2);  // FULL
  auto mode = db.prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.step());
  EXPECT_EQ(mode.text(0), "wal");
  SqliteDatabase normal(temp.path(), SqliteSynchronous::normal);
  EXPECT_EQ(normal.scalar("PRAGMA synchronous"), 1);
}

TEST(SqliteSchema, EventTablesAreAppendOnlyInTheDatabase) {
  SqliteDatabase db(":memory:", SqliteSynchronous::full);
  apply_sqlite_migrations(db);
  db.exec(kTask);
  expect_refused(db, "UPDATE state_transitions SET actor = 'forger'", "append-only");
  expect_refused(db, "DELETE FROM state_transitions", "append-only");
  expect_refused(db, "UPDATE audit_events SET actor = 'forger'", "append-only");
  expect_refused(db, "DELETE FROM audit_events", "append-only");
  expect_refused(db, "UPDATE artifacts SET content = 'DROP TABLE x'", "immutable");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM state_transitions"), 1);
}

TEST(SqliteSchema, ConstraintsRefuseBadRows) {
  SqliteDatabase db(":memory:", SqliteSynchronous::full);
  apply_sqlite_migrations(db);
  db.exec(kTask);
  expect_refused(db, "INSERT INTO tasks (id, title) VALUES ('t2', '')", "CHECK");
  expect_refused(db, "INSERT INTO tasks (id, title, priority) VALUES ('t2', 'x', 11)", "CHECK");
  expect_refused(db, "INSERT INTO tasks (id, title, current_state) VALUES ('t2', 'x', 'BOGUS')",
                 "CHECK");
  expect_refused(db, "UPDATE tasks SET current_state = 'PARSING|PARSED'", "CHECK");
  expect_refused(db, "UPDATE tasks SET current_state = ''", "CHECK");
  expect_refused(db, "UPDATE tasks SET current_state = 'parsing'", "CHECK");
  EXPECT_NO_THROW(db.exec("UPDATE tasks SET current_state = 'CANCELLED'"));
  EXPECT_NO_THROW(db.exec("UPDATE tasks SET current_state = 'SUBMITTED'"));
  expect_refused(db, "INSERT INTO tasks (id, title, environment) VALUES ('t2', 'x', 'STAGING')",
                 "CHECK");
  expect_refused(db, "INSERT INTO tasks (id, title, metadata) VALUES ('t2', 'x', '[1]')", "CHECK");
  expect_refused(db, "INSERT INTO tasks (id, title, metadata) VALUES ('t2', 'x', 'not json')",
                 "CHECK");
  expect_refused(db,
                 "INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor) "
                 "VALUES ('e2', 'missing', 1, 'SUBMITTED', 'PARSING', 'x')",
                 "FOREIGN KEY");
  expect_refused(db,
                 "INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor) "
                 "VALUES ('e3', 't1', 1, 'PARSING', 'PARSED', 'x')",
                 "UNIQUE");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM tasks"), 1);
}

TEST(SqliteSchema, ConcurrentMigrationsFromSeveralConnections) {
  TempDatabase temp;
  { SqliteDatabase create(temp.path(), SqliteSynchronous::full); }
  std::vector<std::thread> threads;
  std::vector<int> versions(4, -1);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      SqliteDatabase db(temp.path(), SqliteSynchronous::full);
      versions[t] = apply_sqlite_migrations(db);
    });
  }
  for (auto& thread : threads) thread.join();
  for (int version : versions) EXPECT_EQ(version, sqlite_schema_version());
  SqliteDatabase db(temp.path(), SqliteSynchronous::full);
  EXPECT_EQ(db.scalar("SELECT count(*) FROM schema_migrations"), sqlite_schema_version());
}

TEST(SqliteSchema, NewerDatabaseIsRefused) {
  SqliteDatabase db(":memory:", SqliteSynchronous::full);
  apply_sqlite_migrations(db);
  db.exec("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
  EXPECT_THROW(apply_sqlite_migrations(db), StoreError);
}

TEST(SqliteSchema, UnopenablePathIsStoreUnavailable) {
  EXPECT_THROW(SqliteDatabase("/proc/aadap/cannot/exist.db", SqliteSynchronous::full),
               StoreUnavailableError);
}

// A database of schema version 1 (entity ids unique across memories, no digests): migrating
// keeps every entity with its write order, and ids become scoped by memory.
TEST(SqliteSchema, VersionOneMemoryEntitiesSurviveTheirTableRebuild) {
  SqliteDatabase db(":memory:", SqliteSynchronous::full);
  apply_sqlite_migrations(db);
  db.exec(
      "DELETE FROM schema_migrations WHERE version > 1;"
      "DROP TABLE memory_entities;"
      "CREATE TABLE memory_entities (id TEXT PRIMARY KEY, memory_name TEXT NOT NULL REFERENCES "
      "vector_memories (name), content TEXT NOT NULL, embedding BLOB NOT NULL, entity_type TEXT "
      "NOT NULL, provenance TEXT NOT NULL, confidence REAL NOT NULL DEFAULT 1.0, use_count "
      "INTEGER NOT NULL DEFAULT 0, validation_pass_rate REAL NOT NULL DEFAULT 1.0, "
      "validation_failures INTEGER NOT NULL DEFAULT 0, critical_failure_at TEXT, is_deprecated "
      "INTEGER NOT NULL DEFAULT 0, metadata TEXT NOT NULL DEFAULT '{}', created_at TEXT NOT NULL "
      "DEFAULT '2026-01-01T00:00:00.000Z', updated_at TEXT NOT NULL DEFAULT "
      "'2026-01-01T00:00:00.000Z');"
      "INSERT INTO vector_memories (name, dimension, embedder_provider, embedder_model) VALUES "
      "('m', 2, 'p', 'x'), ('other', 2, 'p', 'x');"
      "INSERT INTO memory_entities (rowid, id, memory_name, content, embedding, entity_type, "
      "provenance, use_count) VALUES (7, 'z', 'm', 'first', x'0000803f00000000', 'pattern', "
      "'t', 3), (9, 'a', 'm', 'second', x'000000000000803f', 'pattern', 't', 0);");
  EXPECT_EQ(apply_sqlite_migrations(db), sqlite_schema_version());
  auto rows = db.prepare(
      "SELECT id, content, use_count, hex(embedding), embedding_digest IS NULL FROM "
      "memory_entities WHERE memory_name = 'm' ORDER BY rowid");
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(*rows.text(0), "z");
  EXPECT_EQ(*rows.text(1), "first");
  EXPECT_EQ(rows.integer(2), 3);
  EXPECT_EQ(*rows.text(3), "0000803F00000000");
  EXPECT_EQ(rows.integer(4), 1);
  ASSERT_TRUE(rows.step());
  EXPECT_EQ(*rows.text(0), "a");
  EXPECT_FALSE(rows.step());
  rows.reset();
  // The same id in another memory is another entity now.
  db.exec(
      "INSERT INTO memory_entities (id, memory_name, content, embedding, entity_type, "
      "provenance) VALUES ('z', 'other', 'elsewhere', x'0000803f00000000', 'pattern', 't')");
  EXPECT_EQ(db.scalar("SELECT count(*) FROM memory_entities WHERE id = 'z'"), 2);
}
