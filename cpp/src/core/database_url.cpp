#include "aadap/core/database_url.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/redaction.hpp"

#include <array>

namespace aadap {

namespace {

constexpr std::string_view kAccepted =
    "use sqlite:///relative/path.db, sqlite:////absolute/path.db, sqlite:///:memory:, "
    "postgresql://user@host:5432/dbname or a plain file path";

constexpr std::array<std::string_view, 6> kPostgresSchemes{
    "postgresql",          "postgres",         "postgresql+asyncpg", "postgresql+psycopg",
    "postgresql+psycopg2", "postgresql+pg8000"};

[[noreturn]] void reject(std::string_view url, std::string_view why) {
  throw InvalidArgumentError("invalid database URL '" + redact(url) + "': " + std::string(why) +
                                 "; " + std::string(kAccepted),
                             {{"url", redact(url)}});
}

}  // namespace

DatabaseUrl DatabaseUrl::parse(std::string_view url) {
  DatabaseUrl out;
  if (url.empty()) reject(url, "it is empty");
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) {  // a bare path
    out.sqlite_path_ = std::string(url);
    out.normalized_ = "sqlite:///" + std::string(url);
    return out;
  }
  const std::string_view scheme = url.substr(0, sep);
  const std::string_view rest = url.substr(sep + 3);
  if (scheme == "sqlite") {
    // sqlite://<host>/<path>: SQLAlchemy has no host, so the part after the third slash is the
    // path (relative) and a fourth slash makes it absolute.
    std::string_view path;
    if (rest.empty()) {
      path = ":memory:";
    } else if (rest.front() != '/') {
      reject(url, "a SQLite URL has three slashes before a relative path (sqlite:///file.db)");
    } else {
      path = rest.substr(1);
    }
    const auto query = path.find('?');
    if (query != std::string_view::npos) path = path.substr(0, query);
    if (path.empty()) path = ":memory:";
    out.sqlite_path_ = std::string(path);
    out.normalized_ = "sqlite:///" + out.sqlite_path_;
    return out;
  }
  for (auto candidate : kPostgresSchemes) {
    if (scheme == candidate) {
      if (rest.empty()) reject(url, "it names no server or database");
      out.backend_ = DatabaseBackend::postgresql;
      out.normalized_ = "postgresql://" + std::string(rest);
      return out;
    }
  }
  reject(url, "the scheme '" + std::string(scheme) + "' is not supported");
}

std::string DatabaseUrl::password() const {
  if (backend_ != DatabaseBackend::postgresql) return {};
  const std::string_view url = normalized_;
  const std::size_t authority = url.find("://") + 3;
  const std::size_t at = url.find('@', authority);
  const std::size_t slash = url.find_first_of("/?", authority);
  if (at != std::string_view::npos && (slash == std::string_view::npos || at < slash)) {
    const std::string_view userinfo = url.substr(authority, at - authority);
    const std::size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) return std::string(userinfo.substr(colon + 1));
  }
  const std::size_t param = url.find("password=");
  if (param != std::string_view::npos && param > 0 &&
      (url[param - 1] == '?' || url[param - 1] == '&')) {
    const std::size_t begin = param + 9;
    return std::string(url.substr(begin, url.find('&', begin) - begin));
  }
  return {};
}

std::string DatabaseUrl::redacted() const {
  return redact(normalized_);
}

std::string_view backend_name(DatabaseBackend backend) noexcept {
  return backend == DatabaseBackend::sqlite ? "sqlite" : "postgresql";
}

}  // namespace aadap
