// SQL text and row reading for the PostgreSQL store: column lists, literal quoting (libpq's
// escaping; NUL bytes refused, PostgreSQL cannot store them) and record readers. Internal.
#pragma once

#include "aadap/store/records.hpp"

#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <string_view>

namespace aadap::store::pg {

/// `value`, when PostgreSQL can store it: InvalidArgumentError for a NUL byte (libpq would cut
/// a parameter there without a word).
const std::string& storable(const std::string& value);

/// Quotes values for SQL text with the connection's own escaping rules. (Written to the
/// libpqxx API that 6.4 and 7.x share: pqxx::connection, esc, exec, exec_prepared.)
class Quoter {
 public:
  explicit Quoter(pqxx::connection& connection) : connection_(connection) {}
  std::string text(std::string_view value) const;
  std::string text(const std::string& value) const { return text(std::string_view(value)); }
  std::string text(const std::optional<std::string>& value) const;  // NULL for nullopt
  std::string timestamp(std::string_view iso) const;                // ISO-8601 UTC → timestamptz
  std::string timestamp(const std::string& iso) const { return timestamp(std::string_view(iso)); }
  std::string timestamp(const std::optional<std::string>& iso) const;
  std::string json(std::string_view json) const;  // JSON text → jsonb
  static std::string number(std::int64_t value);
  static std::string number(const std::optional<std::int64_t>& value);
  static std::string number(double value);

 private:
  pqxx::connection& connection_;
};

extern const char* const kTaskColumns;
extern const char* const kTransitionColumns;
extern const char* const kAuditColumns;
extern const char* const kArtifactColumns;
extern const char* const kApprovalColumns;
extern const char* const kExecutionColumns;
extern const char* const kCostColumns;
extern const char* const kResourceColumns;
extern const char* const kTaskLogColumns;

/// A jsonb column (read as text) in the compact, key-sorted form the engine writes.
std::string canonical_json(const pqxx::field& field);

TaskRecord read_task(const pqxx::row& row);
TransitionRecord read_transition(const pqxx::row& row);
AuditRecord read_audit(const pqxx::row& row);
ArtifactRecord read_artifact(const pqxx::row& row);
ApprovalRecord read_approval(const pqxx::row& row);
ExecutionRecord read_execution(const pqxx::row& row);
CostRecord read_cost(const pqxx::row& row);
ResourceRecord read_resource(const pqxx::row& row);
TaskLogRecord read_task_log(const pqxx::row& row);

std::string insert_task(const Quoter& q, const TaskRecord& t);
/// Events and audit rows go in as multi-row INSERTs: the statement head and one row's values.
extern const char* const kInsertTransitions;
std::string transition_values(const Quoter& q, const TransitionRecord& e);
extern const char* const kInsertAudits;
/// One transition as one statement (prepared), with kTransitionsStatement's parameters as
/// scalars: a plan with the primary key lookup, where unnest's would guess at the row count.
/// Returns the count of updated rows; 0 (nothing written) means the row was not current.
extern const char* const kTransitionStatement;
/// The transitions of a transaction as one statement (prepared), its parameters arrays that
/// unnest into rows: the task rows' updates, each conditional on the version the row was read
/// at ($1 ids, $2 those versions, $3-$8 states, versions, retry_counts, updated_at, last_seq,
/// entry_counts), then the events ($9-$18) and the audit rows ($19-$28), written only when
/// every update was. When a row was not current it fails with SQLSTATE 40001 and writes
/// nothing.
extern const char* const kTransitionsStatement;

/// A PostgreSQL array literal ({"a",NULL,3}) for one array parameter of a statement
/// (kTransitionsStatement, the vector memory's upsert).
class ArrayLiteral {
 public:
  void add(const std::string& value);  // InvalidArgumentError for a NUL byte
  void add(const std::optional<std::string>& value);
  void add(std::int64_t value);
  void add(double value);  // shortest text that reads back as the same double
  std::string text() &&;   // the finished literal, moved out

 private:
  std::string text_ = "{";
};
std::string audit_values(const Quoter& q, const AuditRecord& a);
std::string insert_artifact(const Quoter& q, const ArtifactRecord& a);
std::string insert_approval(const Quoter& q, const ApprovalRecord& a);
std::string insert_execution(const Quoter& q, const ExecutionRecord& e);
std::string insert_cost(const Quoter& q, const CostRecord& c);
std::string insert_log(const Quoter& q, const TaskLogRecord& l);

}  // namespace aadap::store::pg
