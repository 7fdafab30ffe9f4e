// A SQLite connection with the settings every aadap database uses (WAL, foreign keys, the
// synchronous mode of AADAP_SQLITE_SYNCHRONOUS, a busy timeout), RAII statements and
// transactions. Errors become StoreError / StoreUnavailableError with SQLite's message.
//
// Not thread-safe: one connection per thread (or a pool) — SQLite serialises writers itself.
#pragma once

#include "aadap/core/settings.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace aadap::store {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, std::string_view sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  SqliteStatement& bind(int index, std::string_view text);
  SqliteStatement& bind(int index, std::int64_t value);
  SqliteStatement& bind(int index, double value);
  SqliteStatement& bind_null(int index);
  /// The bytes as a BLOB (copied by SQLite).
  SqliteStatement& bind_blob(int index, const void* data, std::size_t size);
  /// NULL for nullopt.
  SqliteStatement& bind_optional(int index, const std::optional<std::string>& text);
  SqliteStatement& bind_optional(int index, const std::optional<std::int64_t>& value);
  /// True while a row is available.
  bool step();
  /// Runs to completion (statements without rows).
  void run();
  void reset();

  std::int64_t integer(int column) const;
  std::optional<std::int64_t> optional_integer(int column) const;
  double real(int column) const;
  std::optional<std::string> text(int column) const;
  /// A BLOB column's bytes, valid until the next step() or reset().
  std::string_view blob(int column) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// A cached statement borrowed for one use; resetting it on release ends its read (a statement
/// left mid-result would pin an old snapshot of the database).
class StatementLease {
 public:
  explicit StatementLease(SqliteStatement& statement) : statement_(statement) {}
  ~StatementLease() { statement_.reset(); }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  SqliteStatement& operator*() const noexcept { return statement_; }
  SqliteStatement* operator->() const noexcept { return &statement_; }

 private:
  SqliteStatement& statement_;
};

class SqliteDatabase {
 public:
  /// `path` is a file path or ":memory:". Opens (creating the file and its directory when
  /// needed) and applies the connection settings.
  SqliteDatabase(const std::string& path, SqliteSynchronous synchronous);
  ~SqliteDatabase();
  SqliteDatabase(const SqliteDatabase&) = delete;
  SqliteDatabase& operator=(const SqliteDatabase&) = delete;

  void exec(std::string_view sql);
  SqliteStatement prepare(std::string_view sql) { return SqliteStatement(db_, sql); }
  /// The statement for `sql`, prepared once per connection and reused (for fixed SQL text).
  StatementLease cached(const std::string& sql);
  std::int64_t scalar(std::string_view sql);
  /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  std::int64_t changes() const;
  sqlite3* handle() noexcept { return db_; }
  const std::string& path() const noexcept { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<SqliteStatement>> cache_;
};

/// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() is called. IMMEDIATE takes the
/// write lock up front, so two writers never deadlock upgrading read locks.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDatabase& db);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  void commit();

 private:
  SqliteDatabase& db_;
  bool done_ = false;
};

}  // namespace aadap::store
