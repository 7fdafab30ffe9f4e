#include "aadap/core/errors.hpp"

#include <array>
#include <utility>

namespace aadap {

namespace {

struct Entry {
  ErrorCode code;
  std::string_view name;
};

constexpr std::array kEntries{
    Entry{ErrorCode::error, "AadapError"},
    Entry{ErrorCode::configuration, "ConfigurationError"},
    Entry{ErrorCode::invalid_argument, "InvalidArgumentError"},
    Entry{ErrorCode::invalid_type, "InvalidTypeError"},
    Entry{ErrorCode::invalid_state, "InvalidStateError"},
    Entry{ErrorCode::invalid_transition, "InvalidTransitionError"},
    Entry{ErrorCode::loop_detected, "LoopDetectedError"},
    Entry{ErrorCode::retry_limit_exceeded, "RetryLimitExceededError"},
    Entry{ErrorCode::concurrency, "ConcurrencyError"},
    Entry{ErrorCode::token_budget_exceeded, "TokenBudgetExceededError"},
    Entry{ErrorCode::approval, "ApprovalError"},
    Entry{ErrorCode::approval_required, "ApprovalRequiredError"},
    Entry{ErrorCode::approval_rejected, "ApprovalRejectedError"},
    Entry{ErrorCode::approval_expired, "ApprovalExpiredError"},
    Entry{ErrorCode::not_found, "NotFoundError"},
    Entry{ErrorCode::store, "StoreError"},
    Entry{ErrorCode::store_unavailable, "StoreUnavailableError"},
    Entry{ErrorCode::platform, "PlatformError"},
    Entry{ErrorCode::authentication, "AuthenticationError"},
    Entry{ErrorCode::rate_limit, "RateLimitError"},
    Entry{ErrorCode::platform_timeout, "PlatformTimeoutError"},
    Entry{ErrorCode::remote, "RemoteError"},
    Entry{ErrorCode::platform_connection, "PlatformConnectionError"},
    Entry{ErrorCode::content_filter, "ContentFilterError"},
    Entry{ErrorCode::context_length, "ContextLengthError"},
    Entry{ErrorCode::cancelled, "CancelledError"},
};

template <class E>
[[noreturn]] void raise(const std::string& message, nlohmann::json details) {
  throw E(message, std::move(details));
}

}  // namespace

std::string_view error_class_name(ErrorCode code) noexcept {
  for (const auto& entry : kEntries) {
    if (entry.code == code) return entry.name;
  }
  return "AadapError";
}

const std::vector<ErrorCode>& all_error_codes() {
  static const std::vector<ErrorCode> codes = [] {
    std::vector<ErrorCode> out;
    for (const auto& entry : kEntries) out.push_back(entry.code);
    return out;
  }();
  return codes;
}

void throw_error(ErrorCode code, const std::string& message, nlohmann::json details) {
  switch (code) {
    case ErrorCode::error: raise<Error>(message, std::move(details));
    case ErrorCode::configuration: raise<ConfigurationError>(message, std::move(details));
    case ErrorCode::invalid_argument: raise<InvalidArgumentError>(message, std::move(details));
    case ErrorCode::invalid_type: raise<InvalidTypeError>(message, std::move(details));
    case ErrorCode::invalid_state: raise<InvalidStateError>(message, std::move(details));
    case ErrorCode::invalid_transition: raise<InvalidTransitionError>(message, std::move(details));
    case ErrorCode::loop_detected: raise<LoopDetectedError>(message, std::move(details));
    case ErrorCode::retry_limit_exceeded:
      raise<RetryLimitExceededError>(message, std::move(details));
    case ErrorCode::concurrency: raise<ConcurrencyError>(message, std::move(details));
    case ErrorCode::token_budget_exceeded:
      raise<TokenBudgetExceededError>(message, std::move(details));
    case ErrorCode::approval: raise<ApprovalError>(message, std::move(details));
    case ErrorCode::approval_required: raise<ApprovalRequiredError>(message, std::move(details));
    case ErrorCode::approval_rejected: raise<ApprovalRejectedError>(message, std::move(details));
    case ErrorCode::approval_expired: raise<ApprovalExpiredError>(message, std::move(details));
    case ErrorCode::not_found: raise<NotFoundError>(message, std::move(details));
    case ErrorCode::store: raise<StoreError>(message, std::move(details));
    case ErrorCode::store_unavailable: raise<StoreUnavailableError>(message, std::move(details));
    case ErrorCode::platform: raise<PlatformError>(message, std::move(details));
    case ErrorCode::authentication: raise<AuthenticationError>(message, std::move(details));
    case ErrorCode::rate_limit: raise<RateLimitError>(message, std::move(details));
    case ErrorCode::platform_timeout: raise<PlatformTimeoutError>(message, std::move(details));
    case ErrorCode::remote: raise<RemoteError>(message, std::move(details));
    case ErrorCode::platform_connection:
      raise<PlatformConnectionError>(message, std::move(details));
    case ErrorCode::content_filter: raise<ContentFilterError>(message, std::move(details));
    case ErrorCode::context_length: raise<ContextLengthError>(message, std::move(details));
    case ErrorCode::cancelled: raise<CancelledError>(message, std::move(details));
  }
  raise<Error>(message, std::move(details));
}

}  // namespace aadap
