#include "aadap/store/sqlite_database.hpp"

#include "aadap/core/errors.hpp"

#include <sqlite3.h>

#include <filesystem>

namespace aadap::store {

namespace {

[[noreturn]] void fail(sqlite3* db, int rc, std::string_view what) {
  const std::string message =
      std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  const nlohmann::json details = {{"sqlite_code", rc}};
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_CANTOPEN ||
      primary == SQLITE_FULL || primary == SQLITE_IOERR) {
    throw StoreUnavailableError(message, details);
  }
  throw StoreError(message, details);
}

}  // namespace

SqliteStatement::SqliteStatement(sqlite3* db, std::string_view sql) : db_(db) {
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) fail(db, rc, "preparing a statement failed");
}

SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(stmt_);
}

SqliteStatement& SqliteStatement::bind(int index, std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    // Refused as on PostgreSQL, which cannot store NUL: both stores take the same text.
    throw InvalidArgumentError("text values cannot contain NUL bytes: remove the \\0");
  }
  const int rc =
      sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "binding a parameter failed");
  return *this;
}

SqliteStatement& SqliteStatement::bind_blob(int index, const void* data, std::size_t size) {
  const int rc = sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(db_, rc, "binding a parameter failed");
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "binding a parameter failed");
  return *this;
}

SqliteStatement& SqliteStatement::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) fail(db_, rc, "binding a parameter failed");
  return *this;
}

SqliteStatement& SqliteStatement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(db_, rc, "binding a parameter failed");
  return *this;
}

bool SqliteStatement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, rc, "a statement failed");
}

void SqliteStatement::run() {
  while (step()) {
  }
}

void SqliteStatement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

SqliteStatement& SqliteStatement::bind_optional(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

SqliteStatement& SqliteStatement::bind_optional(int index,
                                                const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

std::optional<std::int64_t> SqliteStatement::optional_integer(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_int64(stmt_, column);
}

double SqliteStatement::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::int64_t SqliteStatement::integer(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string_view SqliteStatement::blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column));
  return data == nullptr ? std::string_view()
                         : std::string_view(static_cast<const char*>(data), size);
}

std::optional<std::string> SqliteStatement::text(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)));
}

SqliteDatabase::SqliteDatabase(const std::string& path, SqliteSynchronous synchronous)
    : path_(path) {
  const bool memory = path == ":memory:";
  if (!memory) {
    std::error_code ec;
    const auto directory = std::filesystem::absolute(path, ec).parent_path();
    if (!directory.empty()) std::filesystem::create_directories(directory, ec);
  }
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = "cannot open the SQLite database " + path + ": " +
                                (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreUnavailableError(message, {{"path", path}, {"sqlite_code", rc}});
  }
  sqlite3_busy_timeout(db_, 10'000);
  sqlite3_extended_result_codes(db_, 1);
  try {
    if (!memory) exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA foreign_keys = ON");
    // 32 MiB of page cache (the default is 2 MiB): the task and event indexes of a busy store
    // stay in memory instead of being re-read from the OS on every transaction.
    exec("PRAGMA cache_size = -32768");
    // Reads through a memory map instead of one read() per page: rebuilding a vector memory's
    // index reads every embedding (600 MB for 100k x 1536), and a system call per 4 KiB page
    // cost most of that time. Address space only; the OS pages the file in and out.
    if (!memory) exec("PRAGMA mmap_size = 4294967296");
    exec(synchronous == SqliteSynchronous::full ? "PRAGMA synchronous = FULL"
                                                : "PRAGMA synchronous = NORMAL");
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

SqliteDatabase::~SqliteDatabase() {
  cache_.clear();  // finalize the statements before the connection
  sqlite3_close_v2(db_);
}

StatementLease SqliteDatabase::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(sql, std::make_unique<SqliteStatement>(db_, sql)).first;
  }
  return StatementLease(*it->second);
}

void SqliteDatabase::exec(std::string_view sql) {
  char* error = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
  if (rc != SQLITE_OK) {
    sqlite3_free(error);
    fail(db_, rc, "SQL failed");
  }
}

std::int64_t SqliteDatabase::scalar(std::string_view sql) {
  auto statement = prepare(sql);
  if (!statement.step()) throw StoreError("query returned no row: " + std::string(sql));
  return statement.integer(0);
}

std::int64_t SqliteDatabase::changes() const {
  return sqlite3_changes64(db_);
}

SqliteTransaction::SqliteTransaction(SqliteDatabase& db) : db_(db) {
  db_.exec("BEGIN IMMEDIATE");
}

SqliteTransaction::~SqliteTransaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTransaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace aadap::store
