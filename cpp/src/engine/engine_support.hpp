// Helpers shared by the TaskEngine's source files: input checks, lookups that raise
// NotFoundError, and guard refusals. Internal to the engine.
#pragma once

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"
#include "aadap/engine/task_engine.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

namespace aadap::engine::support {

const log::Logger& logger();

/// An empty correlation id is stored as NULL (no correlation), not as ''.
std::optional<std::string> correlation(std::string_view id);

std::size_t utf8_length(std::string_view text);

/// `json` parsed; InvalidArgumentError naming `what` unless it is a JSON object.
nlohmann::json parse_object(std::string_view json, std::string_view what);
/// `json` parsed; InvalidArgumentError naming `what` unless it is a JSON array.
nlohmann::json parse_array(std::string_view json, std::string_view what);

/// InvalidArgumentError listing `allowed` unless `value` is one of them.
template <class Range>
void check_one_of(std::string_view value, const Range& allowed, std::string_view what) {
  if (std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) return;
  std::string list;
  for (std::string_view a : allowed) list.append(list.empty() ? "" : ", ").append(a);
  throw InvalidArgumentError("unknown " + std::string(what) + " '" +
                             std::string(value.substr(0, 40)) + "': use " + list);
}

[[noreturn]] void not_found(std::string_view what, std::string_view id);
store::TaskRecord find_task(store::Store& store, std::string_view task_id);
store::TaskRecord lock_task(store::StoreTransaction& tx, std::string_view task_id);

/// Inserts `artifact` with its artifact.created audit event (INV-06).
void insert_artifact_audited(store::StoreTransaction& tx, const store::ArtifactRecord& artifact,
                             std::string_view actor, std::string_view correlation_id);

/// Records `violation` (guard name, message and error class added to its details) in `slot`
/// for the caller's guarded() and throws `ErrorType`.
template <class ErrorType>
[[noreturn]] void refuse(std::optional<GuardViolation>& slot, GuardViolation violation,
                         std::string_view guard, const std::string& message) {
  violation.details["guard"] = std::string(guard);
  violation.details["message"] = message;
  ErrorType error(message, violation.details);
  violation.details["error"] = std::string(error_class_name(error.code()));
  slot = std::move(violation);
  throw error;
}

}  // namespace aadap::engine::support
