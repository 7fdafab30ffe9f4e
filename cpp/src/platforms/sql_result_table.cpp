#include "aadap/platforms/sql_result_table.hpp"

#include "aadap/core/errors.hpp"

#include <charconv>
#include <cstring>
#include <limits>

namespace aadap::platforms {

namespace {

[[noreturn]] void malformed(const std::string& what, std::string_view json, std::size_t at,
                            const std::string& expected) {
  const std::size_t from = at > 20 ? at - 20 : 0;
  throw RemoteError("the rows of " + what + " are not a JSON array of rows: expected " + expected +
                        " at byte " + std::to_string(at) + " (near '" +
                        std::string(json.substr(from, 40)) + "')",
                    {{"code", "malformed_response"}});
}

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void put_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

/// Reads the JSON string starting at s[i] == '"' into `out`; i ends after the closing quote.
bool read_string(std::string_view s, std::size_t& i, std::string& out) {
  ++i;
  for (;;) {
    // copy the run up to the next quote or backslash in one go
    const std::size_t run = s.find_first_of("\"\\", i);
    if (run == std::string_view::npos) return false;
    out.append(s.data() + i, run - i);
    i = run;
    if (s[i] == '"') {
      ++i;
      return true;
    }
    if (i + 1 >= s.size()) return false;
    const char escape = s[i + 1];
    i += 2;
    switch (escape) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        const auto quad = [&](std::size_t at, std::uint32_t& code) {
          if (at + 4 > s.size()) return false;
          code = 0;
          for (std::size_t k = 0; k < 4; ++k) {
            const int v = hex_value(s[at + k]);
            if (v < 0) return false;
            code = code * 16 + static_cast<std::uint32_t>(v);
          }
          return true;
        };
        std::uint32_t code = 0;
        if (!quad(i, code)) return false;
        i += 4;
        if (code >= 0xD800 && code < 0xDC00 && i + 6 <= s.size() && s[i] == '\\' &&
            s[i + 1] == 'u') {
          std::uint32_t low = 0;
          if (quad(i + 2, low) && low >= 0xDC00 && low < 0xE000) {
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
          }
        }
        put_utf8(out, code);
        break;
      }
      default: return false;
    }
  }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t count, int& value) {
  if (at + count > s.size()) return false;
  value = 0;
  for (std::size_t k = 0; k < count; ++k) {
    const char c = s[at + k];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

/// "YYYY-MM-DD" at the start of `s`.
bool read_date(std::string_view s, std::int64_t& days) {
  int y = 0;
  int m = 0;
  int d = 0;
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, m) || s[7] != '-' ||
      !digits(s, 8, 2, d) || m < 1 || m > 12 || d < 1 || d > 31) {
    return false;
  }
  days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  return true;
}

}  // namespace

SqlResultTable::SqlResultTable(std::vector<ResultColumn> columns)
    : columns_(std::move(columns)),
      text_(columns_.size()),
      ends_(columns_.size()),
      nulls_(columns_.size()) {}

std::string_view SqlResultTable::text(std::size_t column, std::size_t row) const {
  const std::uint64_t begin = row == 0 ? 0 : ends_[column][row - 1];
  return std::string_view(text_[column]).substr(begin, ends_[column][row] - begin);
}

void SqlResultTable::append_json_rows(std::string_view s, const std::string& what) {
  const std::size_t width = columns_.size();
  // Appended tentatively; undone if the chunk turns out malformed.
  std::vector<std::size_t> text_sizes(width);
  for (std::size_t c = 0; c < width; ++c) text_sizes[c] = text_[c].size();
  const std::size_t rows_before = rows_;
  try {
    std::size_t i = 0;
    skip_space(s, i);
    if (i >= s.size() || s[i] != '[') malformed(what, s, i, "'['");
    ++i;
    skip_space(s, i);
    if (i < s.size() && s[i] == ']') return;
    for (;;) {
      skip_space(s, i);
      if (i >= s.size() || s[i] != '[') malformed(what, s, i, "a row '['");
      ++i;
      for (std::size_t c = 0;; ++c) {
        skip_space(s, i);
        if (c == width) {
          if (i >= s.size() || s[i] != ']')
            malformed(what, s, i, std::to_string(width) + " values");
          ++i;
          break;
        }
        if (c > 0) {
          if (i >= s.size() || s[i] != ',') malformed(what, s, i, "','");
          ++i;
          skip_space(s, i);
        }
        if (i >= s.size()) malformed(what, s, i, "a value");
        if (s[i] == '"') {
          if (!read_string(s, i, text_[c])) malformed(what, s, i, "a complete string");
          nulls_[c].push_back(0);
        } else if (s.compare(i, 4, "null") == 0) {
          i += 4;
          nulls_[c].push_back(1);
        } else {  // a bare number or boolean: not what the API sends, but its text is the value
          const std::size_t end = s.find_first_of(",] \n\r\t", i);
          if (end == std::string_view::npos || end == i || s[i] == '[' || s[i] == '{') {
            malformed(what, s, i, "a string or null");
          }
          text_[c].append(s.data() + i, end - i);
          i = end;
          nulls_[c].push_back(0);
        }
        ends_[c].push_back(text_[c].size());
      }
      ++rows_;
      skip_space(s, i);
      if (i < s.size() && s[i] == ',') {
        ++i;
        continue;
      }
      if (i < s.size() && s[i] == ']') {
        ++i;
        skip_space(s, i);
        if (i != s.size()) malformed(what, s, i, "the end");
        return;
      }
      malformed(what, s, i, "',' or ']'");
    }
  } catch (...) {
    rows_ = rows_before;
    for (std::size_t c = 0; c < width; ++c) {
      text_[c].resize(text_sizes[c]);
      ends_[c].resize(rows_before);
      nulls_[c].resize(rows_before);
    }
    throw;
  }
}

namespace {

[[noreturn]] void not_a(const ResultColumn& column, std::size_t row, std::string_view text,
                        const char* type) {
  throw RemoteError("column '" + column.name + "' (" + column.type_text + ") row " +
                        std::to_string(row) + " holds '" + std::string(text.substr(0, 40)) +
                        "', which is not " + type,
                    {{"code", "malformed_response"}});
}

}  // namespace

void SqlResultTable::integers(std::size_t column, std::int64_t* values, std::uint8_t* mask) const {
  for (std::size_t r = 0; r < rows_; ++r) {
    mask[r] = nulls_[column][r];
    values[r] = 0;
    if (mask[r] != 0) continue;
    const auto t = text(column, r);
    const auto parsed = std::from_chars(t.data(), t.data() + t.size(), values[r]);
    if (parsed.ec != std::errc() || parsed.ptr != t.data() + t.size()) {
      not_a(columns_[column], r, t, "an integer");
    }
  }
}

void SqlResultTable::doubles(std::size_t column, double* values, std::uint8_t* mask) const {
  for (std::size_t r = 0; r < rows_; ++r) {
    mask[r] = nulls_[column][r];
    values[r] = 0;
    if (mask[r] != 0) continue;
    const auto t = text(column, r);
    const auto parsed = std::from_chars(t.data(), t.data() + t.size(), values[r]);
    if (parsed.ec != std::errc() || parsed.ptr != t.data() + t.size()) {
      // Spark writes the special values as NaN, Infinity and -Infinity
      if (t == "NaN") {
        values[r] = std::numeric_limits<double>::quiet_NaN();
      } else if (t == "Infinity") {
        values[r] = std::numeric_limits<double>::infinity();
      } else if (t == "-Infinity") {
        values[r] = -std::numeric_limits<double>::infinity();
      } else {
        not_a(columns_[column], r, t, "a number");
      }
    }
  }
}

void SqlResultTable::booleans(std::size_t column, std::uint8_t* values, std::uint8_t* mask) const {
  for (std::size_t r = 0; r < rows_; ++r) {
    mask[r] = nulls_[column][r];
    values[r] = 0;
    if (mask[r] != 0) continue;
    const auto t = text(column, r);
    if (t == "true") {
      values[r] = 1;
    } else if (t != "false") {
      not_a(columns_[column], r, t, "true or false");
    }
  }
}

void SqlResultTable::dates(std::size_t column, std::int64_t* days, std::uint8_t* mask) const {
  for (std::size_t r = 0; r < rows_; ++r) {
    mask[r] = nulls_[column][r];
    days[r] = 0;
    if (mask[r] != 0) continue;
    const auto t = text(column, r);
    if (t.size() != 10 || !read_date(t, days[r])) not_a(columns_[column], r, t, "a date");
  }
}

void SqlResultTable::timestamps(std::size_t column, std::int64_t* micros,
                                std::uint8_t* mask) const {
  for (std::size_t r = 0; r < rows_; ++r) {
    mask[r] = nulls_[column][r];
    micros[r] = 0;
    if (mask[r] != 0) continue;
    const auto t = text(column, r);
    std::int64_t days = 0;
    int h = 0;
    int m = 0;
    int s = 0;
    if (!read_date(t, days) || t.size() < 19 || (t[10] != 'T' && t[10] != ' ') ||
        !digits(t, 11, 2, h) || t[13] != ':' || !digits(t, 14, 2, m) || t[16] != ':' ||
        !digits(t, 17, 2, s)) {
      not_a(columns_[column], r, t, "a timestamp");
    }
    std::int64_t fraction = 0;
    std::size_t i = 19;
    if (i < t.size() && t[i] == '.') {
      std::int64_t scale = 100000;
      for (++i; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i) {
        fraction += (t[i] - '0') * scale;  // digits beyond microseconds are dropped
        scale /= 10;
      }
    }
    std::int64_t offset = 0;
    if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
      ++i;
    } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
      int oh = 0;
      int om = 0;
      if (!digits(t, i + 1, 2, oh) || t.size() < i + 6 || t[i + 3] != ':' ||
          !digits(t, i + 4, 2, om)) {
        not_a(columns_[column], r, t, "a timestamp");
      }
      offset = (t[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      i += 6;
    }
    if (i != t.size()) not_a(columns_[column], r, t, "a timestamp");
    micros[r] = ((days * 86400 + h * 3600 + m * 60 + s - offset) * 1'000'000) + fraction;
  }
}

}  // namespace aadap::platforms
