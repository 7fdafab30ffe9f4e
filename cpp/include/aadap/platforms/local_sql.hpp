// The `local` platform's SQL runner (platforms.md §8): a SQL script executed in a SQLite
// database on this machine, for notebooks, demos and tests with no cloud.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace aadap::platforms {

/// NULL, INTEGER, REAL, TEXT or BLOB, as SQLite returns them.
using SqlValue =
    std::variant<std::monostate, std::int64_t, double, std::string, std::vector<std::uint8_t>>;

struct SqlResultSet {
  std::vector<std::string> columns;
  std::vector<std::string> column_types;  // declared types ("" for expressions)
  std::vector<std::vector<SqlValue>> rows;
  bool truncated = false;         // more than max_rows rows were produced
  std::int64_t rows_changed = 0;  // by INSERT/UPDATE/DELETE statements of the script
  int statements = 0;
};

/// Runs every statement of `script` in order in the SQLite database at `database_path`
/// (created when missing) inside one transaction: all or nothing. The result holds the rows
/// of the last statement that returned columns (at most `max_rows`). A failing statement
/// raises PlatformError with SQLite's message and the statement's number; nothing of the
/// script stays applied.
SqlResultSet run_local_sql(const std::string& database_path, std::string_view script,
                           std::size_t max_rows = 10'000);

}  // namespace aadap::platforms
