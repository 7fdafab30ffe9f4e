// The store's tables (lifecycle.md §3, memory.md §2) on SQLite, as versioned migrations
// recorded in schema_migrations. Applying them is idempotent and safe from several processes
// at once (each migration runs in a BEGIN IMMEDIATE transaction that re-checks the version).
#pragma once

#include "aadap/store/sqlite_database.hpp"

namespace aadap::store {

/// Prune's exemption from the append-only rules (lifecycle.md §3): `lift` drops the two
/// triggers it must pass, `restore` re-creates them; both run inside prune's own transaction.
struct PruneExemption {
  const char* lift;
  const char* restore;
};
PruneExemption prune_exemption_sql();

/// The newest schema version this library knows.
int sqlite_schema_version() noexcept;

/// Brings the database up to sqlite_schema_version(); returns the version it is at. Refuses
/// (StoreError) a database written by a newer aadap.
int apply_sqlite_migrations(SqliteDatabase& db);

}  // namespace aadap::store
