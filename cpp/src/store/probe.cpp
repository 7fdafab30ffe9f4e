#include "aadap/store/probe.hpp"

#include "aadap/core/logging.hpp"
#include "aadap/core/redaction.hpp"

#include <sqlite3.h>
#include <unistd.h>
#include <pqxx/pqxx>

#include <filesystem>
#include <memory>

namespace aadap::store {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("aadap.store");
  return instance;
}

struct SqliteCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};

void probe_sqlite(const DatabaseUrl& url, ProbeResult& result) {
  result.server_version = sqlite3_libversion();
  namespace fs = std::filesystem;
  const std::string& path = url.sqlite_path();
  std::error_code ec;
  if (!url.in_memory() && !fs::exists(path, ec)) {
    // Nothing to open yet: the store will create the file. Walk up to the first existing
    // directory and check that it can be written.
    fs::path dir = fs::absolute(path, ec).parent_path();
    while (!dir.empty() && !fs::exists(dir, ec)) dir = dir.parent_path();
    if (!dir.empty() && fs::is_directory(dir, ec) && ::access(dir.c_str(), W_OK | X_OK) == 0) {
      result.reachable = true;
      result.detail =
          "no database file yet; it will be created at " + fs::absolute(path, ec).string();
    } else {
      result.detail = "no database file at " + path + " and " + dir.string() +
                      " is not writable, so it cannot be created";
    }
    return;
  }
  sqlite3* raw = nullptr;
  const int flags =
      url.in_memory() ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY : SQLITE_OPEN_READONLY;
  const int rc = sqlite3_open_v2(url.in_memory() ? ":memory:" : path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<sqlite3, SqliteCloser> db(raw);
  if (rc != SQLITE_OK) {
    result.detail = std::string("cannot open: ") + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    return;
  }
  sqlite3_busy_timeout(db.get(), 2000);
  char* error = nullptr;
  int tables = 0;
  const int query = sqlite3_exec(
      db.get(), "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
      [](void* out, int, char** values, char**) {
        *static_cast<int*>(out) = values[0] ? std::atoi(values[0]) : 0;
        return 0;
      },
      &tables, &error);
  if (query != SQLITE_OK) {
    result.detail = std::string("not a readable SQLite database: ") + (error ? error : "");
    sqlite3_free(error);
    return;
  }
  result.reachable = true;
  result.detail = url.in_memory() ? "in-memory database"
                                  : "existing database with " + std::to_string(tables) + " tables";
}

void probe_postgresql(const DatabaseUrl& url, std::chrono::seconds timeout, ProbeResult& result) {
  std::string conninfo = url.normalized();
  if (conninfo.find("connect_timeout=") == std::string::npos) {
    conninfo += (conninfo.find('?') == std::string::npos ? "?" : "&");
    conninfo += "connect_timeout=" + std::to_string(std::max<long long>(1, timeout.count()));
  }
  try {
    pqxx::connection connection(conninfo);
    pqxx::nontransaction tx(connection);
    result.server_version = tx.exec("SHOW server_version").at(0).at(0).as<std::string>();
    result.reachable = true;
    result.detail = "connected to database " + std::string(connection.dbname()) + " as " +
                    connection.username();
  } catch (const std::exception& e) {
    std::string message = e.what();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    result.detail = redact(message);
  }
}

}  // namespace

ProbeResult probe(const DatabaseUrl& url, std::string_view correlation_id,
                  std::chrono::seconds timeout) {
  ProbeResult result;
  result.backend = std::string(backend_name(url.backend()));
  result.url = url.redacted();
  const auto start = std::chrono::steady_clock::now();
  if (url.backend() == DatabaseBackend::sqlite) {
    probe_sqlite(url, result);
  } else {
    probe_postgresql(url, timeout, result);
  }
  result.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  logger().log(result.reachable ? log::Level::info : log::Level::warning, "store.probed",
               correlation_id, log::kv("backend", result.backend), log::kv("url", result.url),
               log::kv("reachable", result.reachable), log::kv("detail", result.detail),
               log::kv("latency_ms", result.latency_ms));
  return result;
}

}  // namespace aadap::store
