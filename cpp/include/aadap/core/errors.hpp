// The aadap error hierarchy. Every exception the core throws derives from aadap::Error and
// carries an ErrorCode; the Python bindings map each code to the Python exception of the same
// name through one table (cpp/bindings/bind_errors.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aadap {

enum class ErrorCode {
  error,
  configuration,
  invalid_argument,
  invalid_type,
  invalid_state,
  invalid_transition,
  loop_detected,
  retry_limit_exceeded,
  concurrency,
  token_budget_exceeded,
  approval,
  approval_required,
  approval_rejected,
  approval_expired,
  not_found,
  store,
  store_unavailable,
  platform,
  authentication,
  rate_limit,
  platform_timeout,
  remote,
  platform_connection,
  content_filter,
  context_length,
  cancelled,
};

/// Name of the exception class for a code, identical in C++ and Python ("ConcurrencyError").
std::string_view error_class_name(ErrorCode code) noexcept;

/// Root of every aadap exception. Thread-safe to read from any thread once thrown.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, nlohmann::json details = nlohmann::json::object())
      : std::runtime_error(message), details_(std::move(details)) {}

  virtual ErrorCode code() const noexcept { return ErrorCode::error; }
  /// Structured facts about the failure (field -> value); the bindings expose each entry as an
  /// attribute of the Python exception. Never holds a secret.
  const nlohmann::json& details() const noexcept { return details_; }

 private:
  nlohmann::json details_;
};

/// Defines an exception type with its code under a parent type of the hierarchy.
template <ErrorCode Code, class Parent>
class ErrorOf : public Parent {
 public:
  using Parent::Parent;
  ErrorCode code() const noexcept override { return Code; }
};

using ConfigurationError = ErrorOf<ErrorCode::configuration, Error>;
using InvalidArgumentError = ErrorOf<ErrorCode::invalid_argument, Error>;
using InvalidTypeError = ErrorOf<ErrorCode::invalid_type, Error>;
using InvalidStateError = ErrorOf<ErrorCode::invalid_state, Error>;
using InvalidTransitionError = ErrorOf<ErrorCode::invalid_transition, Error>;
using LoopDetectedError = ErrorOf<ErrorCode::loop_detected, InvalidTransitionError>;
using RetryLimitExceededError = ErrorOf<ErrorCode::retry_limit_exceeded, LoopDetectedError>;
using ConcurrencyError = ErrorOf<ErrorCode::concurrency, Error>;
using TokenBudgetExceededError = ErrorOf<ErrorCode::token_budget_exceeded, Error>;
using ApprovalError = ErrorOf<ErrorCode::approval, Error>;
using ApprovalRequiredError = ErrorOf<ErrorCode::approval_required, ApprovalError>;
using ApprovalRejectedError = ErrorOf<ErrorCode::approval_rejected, ApprovalError>;
using ApprovalExpiredError = ErrorOf<ErrorCode::approval_expired, ApprovalError>;
using NotFoundError = ErrorOf<ErrorCode::not_found, Error>;
using StoreError = ErrorOf<ErrorCode::store, Error>;
using StoreUnavailableError = ErrorOf<ErrorCode::store_unavailable, StoreError>;
using PlatformError = ErrorOf<ErrorCode::platform, Error>;
using AuthenticationError = ErrorOf<ErrorCode::authentication, PlatformError>;
using RateLimitError = ErrorOf<ErrorCode::rate_limit, PlatformError>;
using PlatformTimeoutError = ErrorOf<ErrorCode::platform_timeout, PlatformError>;
using RemoteError = ErrorOf<ErrorCode::remote, PlatformError>;
using PlatformConnectionError = ErrorOf<ErrorCode::platform_connection, PlatformError>;
using ContentFilterError = ErrorOf<ErrorCode::content_filter, RemoteError>;
using ContextLengthError = ErrorOf<ErrorCode::context_length, RemoteError>;
/// A blocking call stopped because its caller asked (a cancel check said so); in Python the
/// pending KeyboardInterrupt is raised instead.
using CancelledError = ErrorOf<ErrorCode::cancelled, Error>;

/// Every code, in declaration order (parents before children).
const std::vector<ErrorCode>& all_error_codes();

/// Throws the exception type that belongs to `code`. Used where a code is chosen at run time
/// (e.g. re-raising an error recorded by another process).
[[noreturn]] void throw_error(ErrorCode code, const std::string& message,
                              nlohmann::json details = nlohmann::json::object());

}  // namespace aadap
