// Store URLs in SQLAlchemy's spelling: sqlite:///relative.db, sqlite:////absolute.db,
// sqlite:// or sqlite:///:memory:, postgresql://user@host/db (also postgres://,
// postgresql+asyncpg:// and postgresql+psycopg://, normalised to postgresql://). A bare
// filesystem path means a SQLite file.
#pragma once

#include <string>
#include <string_view>

namespace aadap {

enum class DatabaseBackend { sqlite, postgresql };

class DatabaseUrl {
 public:
  /// Throws InvalidArgumentError naming the accepted forms (the URL itself is redacted).
  static DatabaseUrl parse(std::string_view url);

  DatabaseBackend backend() const noexcept { return backend_; }
  /// The URL with the driver suffix removed (postgresql+asyncpg:// -> postgresql://).
  const std::string& normalized() const noexcept { return normalized_; }
  /// The normalized URL with any password masked: safe to print.
  std::string redacted() const;
  /// SQLite only: the file path, or ":memory:".
  const std::string& sqlite_path() const noexcept { return sqlite_path_; }
  /// PostgreSQL only: the password in the URL's userinfo or `password=` parameter, or "".
  std::string password() const;
  bool in_memory() const noexcept {
    return backend_ == DatabaseBackend::sqlite && sqlite_path_ == ":memory:";
  }

 private:
  DatabaseBackend backend_ = DatabaseBackend::sqlite;
  std::string normalized_;
  std::string sqlite_path_;
};

std::string_view backend_name(DatabaseBackend backend) noexcept;

}  // namespace aadap
