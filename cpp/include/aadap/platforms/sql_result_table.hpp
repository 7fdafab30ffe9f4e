// The rows of a SQL result held column by column as the service sent them (JSON_ARRAY: every
// value a string or null), with typed views computed on request: a million rows become
// numpy columns without a Python object per cell. Not thread-safe for writes; const access is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aadap::platforms {

struct ResultColumn {
  std::string name;
  std::string type_name;  // INT, LONG, DOUBLE, DECIMAL, STRING, DATE, TIMESTAMP, ARRAY, ...
  std::string type_text;  // as declared: DECIMAL(10,2), ARRAY<INT>, ...
  int precision = 0;
  int scale = 0;
};

class SqlResultTable {
 public:
  explicit SqlResultTable(std::vector<ResultColumn> columns);

  const std::vector<ResultColumn>& columns() const noexcept { return columns_; }
  std::size_t row_count() const noexcept { return rows_; }

  /// Appends the rows of a JSON_ARRAY chunk (`[["1","a",null],...]`). Throws RemoteError
  /// (nothing appended) for malformed JSON or a row of another width.
  void append_json_rows(std::string_view json, const std::string& what);

  bool is_null(std::size_t column, std::size_t row) const { return nulls_[column][row] != 0; }
  /// The text the service sent for a cell (empty for null).
  std::string_view text(std::size_t column, std::size_t row) const;

  // Typed views of a whole column; `mask[row]` is 1 for null (value then 0). A value that does
  // not read as the type is a RemoteError naming the column, row and text.
  void integers(std::size_t column, std::int64_t* values, std::uint8_t* mask) const;
  void doubles(std::size_t column, double* values, std::uint8_t* mask) const;
  void booleans(std::size_t column, std::uint8_t* values, std::uint8_t* mask) const;
  /// DATE as days since 1970-01-01.
  void dates(std::size_t column, std::int64_t* days, std::uint8_t* mask) const;
  /// TIMESTAMP (ISO-8601, optional fraction and offset) as microseconds since the epoch, UTC.
  void timestamps(std::size_t column, std::int64_t* micros, std::uint8_t* mask) const;

 private:
  std::vector<ResultColumn> columns_;
  std::size_t rows_ = 0;
  // per column: the cells' text end to end, where each ends, and which are null
  std::vector<std::string> text_;
  std::vector<std::vector<std::uint64_t>> ends_;
  std::vector<std::vector<std::uint8_t>> nulls_;
};

}  // namespace aadap::platforms
