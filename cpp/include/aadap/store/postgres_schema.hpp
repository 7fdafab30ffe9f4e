// The store's tables (lifecycle.md §3) on PostgreSQL 15+, as versioned migrations recorded in
// schema_migrations. Safe when several processes migrate at once: each migration runs under a
// transaction-scoped advisory lock and re-checks the version.
#pragma once

#include <pqxx/pqxx>

namespace aadap::store {

/// The newest schema version this library knows (PostgreSQL's own numbering: version 2
/// keeps each task's event summary on its row, which SQLite does not need).
int postgres_schema_version() noexcept;

/// Brings the database up to postgres_schema_version(); returns the version it is at.
/// StoreError for a database written by a newer aadap.
int apply_postgres_migrations(pqxx::connection& connection);

/// Prune's exemption from the append-only rules: a transaction-local setting the triggers
/// check (`SET LOCAL aadap.prune = 'on'`).
inline constexpr const char* kPostgresPruneExemption = "SET LOCAL aadap.prune = 'on'";

}  // namespace aadap::store
