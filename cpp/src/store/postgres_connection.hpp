// A pooled connection of the PostgreSQL store and the mapping of libpqxx errors to the
// store's, shared by the store's source files (postgres_store.cpp, postgres_memory.cpp).
// Internal.
#pragma once

#include "aadap/store/postgres_store.hpp"

#include <pqxx/pqxx>

#include <memory>
#include <set>
#include <string>

namespace aadap::store {

class PostgresStore::Connection {
 public:
  explicit Connection(const std::string& conninfo)
      : connection(std::make_unique<pqxx::connection>(conninfo)) {}

  /// Prepares `sql` under `name` the first time this connection sees it.
  const std::string& prepared(const std::string& name, const std::string& sql) {
    if (names.insert(name).second) connection->prepare(name, sql);
    return name;
  }

  std::unique_ptr<pqxx::connection> connection;
  std::set<std::string> names;
  bool broken = false;
};

namespace pg {

/// A server or libpq message fit for users: trailing newlines gone, passwords redacted.
std::string clean(std::string message);

/// Maps the pqxx error being handled (call it from a catch block; broken connections are
/// handled before) to the store's errors. Constraint names stay; values are not echoed.
[[noreturn]] void server_failed();

}  // namespace pg

}  // namespace aadap::store
