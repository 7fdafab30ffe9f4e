#include "aadap/platforms/local_sql.hpp"

#include "aadap/core/errors.hpp"

#include <sqlite3.h>

#include <memory>

namespace aadap::platforms {

namespace {

struct CloseDb {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* statement) const noexcept { sqlite3_finalize(statement); }
};
using Db = std::unique_ptr<sqlite3, CloseDb>;
using Statement = std::unique_ptr<sqlite3_stmt, Finalize>;

[[noreturn]] void fail(sqlite3* db, int statement, std::string_view what) {
  throw PlatformError(
      "local SQL " + std::string(what) +
          (statement > 0 ? " in statement " + std::to_string(statement) : std::string()) + ": " +
          sqlite3_errmsg(db),
      {{"platform", "local"}, {"statement", statement}});
}

SqlValue column_value(sqlite3_stmt* s, int i) {
  switch (sqlite3_column_type(s, i)) {
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_column_int64(s, i));
    case SQLITE_FLOAT: return sqlite3_column_double(s, i);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i)),
                         static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
    case SQLITE_BLOB: {
      const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, i));
      return std::vector<std::uint8_t>(data, data + sqlite3_column_bytes(s, i));
    }
    default: return std::monostate{};
  }
}

}  // namespace

SqlResultSet run_local_sql(const std::string& database_path, std::string_view script,
                           std::size_t max_rows) {
  sqlite3* raw = nullptr;
  const int open_rc = sqlite3_open_v2(database_path.c_str(), &raw,
                                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  Db db(raw);
  if (open_rc != SQLITE_OK) fail(db.get(), 0, "cannot open " + database_path);
  sqlite3_busy_timeout(db.get(), 10'000);
  if (sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    fail(db.get(), 0, "cannot begin a transaction");
  }
  SqlResultSet result;
  const char* tail = script.data();
  const char* end = script.data() + script.size();
  while (tail < end) {
    sqlite3_stmt* prepared = nullptr;
    const int number = result.statements + 1;
    if (sqlite3_prepare_v2(db.get(), tail, static_cast<int>(end - tail), &prepared, &tail) !=
        SQLITE_OK) {
      fail(db.get(), number, "failed to compile");  // the unique_ptr rolls back by closing
    }
    if (prepared == nullptr) continue;  // whitespace or a comment
    Statement statement(prepared);
    result.statements = number;
    const int columns = sqlite3_column_count(prepared);
    if (columns > 0) {
      result.columns.clear();
      result.column_types.clear();
      result.rows.clear();
      result.truncated = false;
      for (int i = 0; i < columns; ++i) {
        result.columns.emplace_back(sqlite3_column_name(prepared, i));
        const char* declared = sqlite3_column_decltype(prepared, i);
        result.column_types.emplace_back(declared != nullptr ? declared : "");
      }
    }
    int rc;
    while ((rc = sqlite3_step(prepared)) == SQLITE_ROW) {
      if (result.rows.size() >= max_rows) {
        result.truncated = true;
        continue;
      }
      std::vector<SqlValue> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int i = 0; i < columns; ++i) row.push_back(column_value(prepared, i));
      result.rows.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) fail(db.get(), number, "failed");
    if (columns == 0) result.rows_changed += sqlite3_changes64(db.get());
  }
  if (sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    fail(db.get(), 0, "failed to commit");
  }
  return result;
}

}  // namespace aadap::platforms
