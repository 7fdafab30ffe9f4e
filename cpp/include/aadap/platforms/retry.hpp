// Retries of the platform clients as policy objects (platforms.md §1): which answers are
// retried, how long to wait (the server's Retry-After / retry-after-ms when it gives one,
// else exponential or linear backoff with jitter), how many times and within what overall
// deadline; a request that is not idempotent is never retried unless it carries an
// idempotency key. Time is injectable (Clock, Sleeper), so tests never sleep.
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/platforms/http.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace aadap::platforms {

enum class Backoff { exponential, linear };

/// Plain values; copy and change freely. The named constructors hold the defaults of each
/// service (platforms.md §1).
struct RetryPolicy {
  int max_retries = 2;  // attempts = max_retries + 1
  Backoff backoff = Backoff::exponential;
  // exponential: initial_delay · 2^k; linear: initial_delay · (k + 1); k = retries so far;
  // capped at max_delay, then shortened by up to `jitter` (a fraction) at random
  std::chrono::milliseconds initial_delay{500};
  std::chrono::milliseconds max_delay{8'000};
  double jitter = 0.25;
  std::vector<long> retry_statuses{408, 409, 429};
  bool retry_server_errors = true;      // every status >= 500
  bool retry_connection_errors = true;  // no connection, broken connection, timeout
  // A server delay (retry-after-ms / Retry-After) up to this is waited for; a longer one ends
  // the retries (the caller raises RateLimitError carrying it).
  std::chrono::milliseconds max_server_delay{120'000};
  // The delay used for a retried 429/503 that names none (0: the backoff).
  std::chrono::milliseconds default_server_delay{0};
  // Honour the service's `x-should-retry: true|false` (OpenAI's services send it).
  bool honour_should_retry_header = false;
  // An error answer whose body contains one of these is retried too (Databricks' transient
  // failures arrive as 400/500 with known messages).
  std::vector<std::string> retry_on_body;
  // Every attempt and wait together (0: no deadline beyond the attempts' own timeouts).
  std::chrono::milliseconds deadline{0};

  static RetryPolicy azure_openai();
  static RetryPolicy databricks();
  static RetryPolicy fabric();
  static RetryPolicy entra();

  /// The wait before retry number `retry` (0 for the first) when the server named none,
  /// `random` in [0, 1).
  std::chrono::milliseconds backoff_delay(int retry, double random) const;
  /// Throws InvalidArgumentError for negative counts or delays, jitter outside [0, 1].
  void validate() const;
};

/// The wait before poll `poll` (0 first) of a long operation: `first`, doubling up to `cap`,
/// then shortened by up to `jitter` (a fraction) times `random` in [0, 1). Retry backoff is
/// the same schedule.
std::chrono::milliseconds doubling_delay(int poll, std::chrono::milliseconds first,
                                         std::chrono::milliseconds cap, double jitter = 0.0,
                                         double random = 0.0);

/// The delay a response asks for: `retry-after-ms` (milliseconds), else `Retry-After`
/// (seconds, possibly fractional, or an HTTP date); nullopt when absent or unreadable.
/// Zero and negative values are nullopt (the backoff applies).
std::optional<std::chrono::milliseconds> server_delay(
    const HttpHeaders& headers,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

/// Waits; tests substitute one that moves a ManualClock instead.
class Sleeper {
 public:
  virtual ~Sleeper() = default;
  /// Waits `duration`, asking `cancelled` (else the thread's ScopedCancelCheck) every 50 ms
  /// (CancelledError when it says so).
  virtual void sleep(std::chrono::nanoseconds duration, const CancelCheck& cancelled) = 0;
};

/// Real time. Thread-safe.
class SystemSleeper final : public Sleeper {
 public:
  void sleep(std::chrono::nanoseconds duration, const CancelCheck& cancelled) override;
  static SystemSleeper& instance();
};

/// Time that passes only when slept through: a Clock and a Sleeper in one, recording every
/// sleep (tests of retry timing, offline tests of users' pipelines). Thread-safe.
class ManualTime final : public Clock, public Sleeper {
 public:
  Nanos now() const noexcept override { return now_.load(); }
  /// Moves time on by `duration` at once (CancelledError first when `cancelled` says so).
  void sleep(std::chrono::nanoseconds duration, const CancelCheck& cancelled) override;
  void advance(std::chrono::nanoseconds by) noexcept { now_ += by.count(); }
  /// Every sleep so far, in order.
  std::vector<std::chrono::nanoseconds> sleeps() const;

 private:
  std::atomic<Nanos> now_{1'000'000'000};
  mutable std::mutex mutex_;
  std::vector<std::chrono::nanoseconds> sleeps_;
};

/// What a retrying send did: the last response and how many attempts it took.
struct RetriedResponse {
  HttpResponse response;
  int attempts = 1;
  std::optional<std::chrono::milliseconds> refused_server_delay;  // > max_server_delay
};

/// A retrying open: the stream of a successful (< 300) response, its body unread; for any
/// other status `response` holds the whole answer and `stream` is empty.
struct RetriedStream {
  HttpResponse response;  // status and headers; the body only when `stream` is empty
  std::optional<HttpStream> stream;
  int attempts = 1;
  std::optional<std::chrono::milliseconds> refused_server_delay;
};

/// Sends one logical request under a policy. Thread-safe if its parts are.
class Retrier {
 public:
  Retrier(const HttpTransport& transport, RetryPolicy policy, const Clock& clock, Sleeper& sleeper,
          std::function<double()> random = {});

  /// Sends the request `prepare(attempt)` builds (asked again for each attempt, so headers
  /// such as a bearer token are current) and retries per the policy while `retriable`
  /// (idempotent, or carrying an idempotency key); a 429 is retried either way (the service
  /// refused the request unprocessed). Returns the last response, whatever its status;
  /// rethrows the last transport error when no response came.
  RetriedResponse send(const std::function<HttpRequest(int attempt)>& prepare, bool retriable,
                       const CancelCheck& cancelled = {}) const;
  /// As send(), but a successful response's body is left to be read from the stream (a
  /// failure while reading it is not retried).
  RetriedStream open(const std::function<HttpRequest(int attempt)>& prepare, bool retriable,
                     const CancelCheck& cancelled = {}) const;

  const RetryPolicy& policy() const noexcept { return policy_; }

 private:
  RetriedStream run(const std::function<HttpRequest(int attempt)>& prepare, bool retriable,
                    const CancelCheck& cancelled, bool whole_body) const;
  /// Whether the policy retries `status` (ignoring counts and deadlines).
  bool retries_status(long status) const;

  const HttpTransport& transport_;
  RetryPolicy policy_;
  const Clock& clock_;
  Sleeper& sleeper_;
  std::function<double()> random_;
};

}  // namespace aadap::platforms
