#include "aadap/platforms/retry.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <exception>
#include <random>
#include <thread>

namespace aadap::platforms {

namespace {

using std::chrono::milliseconds;

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms.retry");
  return instance;
}

double thread_random() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(generator);
}

/// A number of seconds or milliseconds as the header gives it; nullopt unless a finite
/// number makes up the whole value.
std::optional<double> number(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

/// An HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT"), as seconds since the epoch.
std::optional<std::time_t> http_date(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  return timegm(&tm);
}

}  // namespace

RetryPolicy RetryPolicy::azure_openai() {
  RetryPolicy p;
  p.honour_should_retry_header = true;
  return p;
}

RetryPolicy RetryPolicy::databricks() {
  RetryPolicy p;
  p.max_retries = 1000;  // bounded by the deadline
  p.backoff = Backoff::linear;
  p.initial_delay = milliseconds(1'000);
  p.max_delay = milliseconds(10'000);
  p.jitter = 0.25;
  p.retry_statuses = {429, 503};
  p.retry_server_errors = false;
  p.default_server_delay = milliseconds(1'000);
  p.deadline = milliseconds(300'000);
  p.retry_on_body = {"com.databricks.backend.manager.util.UnknownWorkerEnvironmentException",
                     "does not have any associated worker environments",
                     "There is no worker environment with id",
                     "Unknown worker environment",
                     "ClusterNotReadyException",
                     "Unexpected error",
                     "Please try again later or try a faster operation.",
                     "RPC token bucket limit has been exceeded"};
  return p;
}

RetryPolicy RetryPolicy::fabric() {
  RetryPolicy p;
  p.max_retries = 4;
  p.initial_delay = milliseconds(1'000);
  p.max_delay = milliseconds(30'000);
  p.retry_statuses = {429};
  p.default_server_delay = milliseconds(5'000);
  return p;
}

RetryPolicy RetryPolicy::entra() {
  RetryPolicy p;
  p.max_retries = 2;
  p.initial_delay = milliseconds(500);
  p.max_delay = milliseconds(8'000);
  p.retry_statuses = {429};
  return p;
}

milliseconds doubling_delay(int poll, milliseconds first, milliseconds cap, double jitter,
                            double random) {
  const double delay = std::min(static_cast<double>(first.count()) * std::pow(2.0, poll),
                                static_cast<double>(cap.count()));
  return milliseconds(static_cast<std::int64_t>(std::llround(delay * (1.0 - jitter * random))));
}

milliseconds RetryPolicy::backoff_delay(int retry, double random) const {
  if (backoff == Backoff::exponential) {
    return doubling_delay(retry, initial_delay, max_delay, jitter, random);
  }
  const double delay = std::min(static_cast<double>(initial_delay.count()) * (retry + 1),
                                static_cast<double>(max_delay.count()));
  return milliseconds(static_cast<std::int64_t>(std::llround(delay * (1.0 - jitter * random))));
}

void RetryPolicy::validate() const {
  const auto negative = [](milliseconds d) { return d.count() < 0; };
  if (max_retries < 0 || negative(initial_delay) || negative(max_delay) ||
      negative(max_server_delay) || negative(default_server_delay) || negative(deadline)) {
    throw InvalidArgumentError("a retry policy's counts and delays cannot be negative");
  }
  if (!(jitter >= 0.0 && jitter <= 1.0)) {
    throw InvalidArgumentError("a retry policy's jitter is a fraction from 0 to 1 (got " +
                               std::to_string(jitter) + ")");
  }
}

std::optional<milliseconds> server_delay(const HttpHeaders& headers,
                                         std::chrono::system_clock::time_point now) {
  std::optional<double> ms;
  if (const auto value = headers.get("retry-after-ms")) ms = number(*value);
  if (!ms) {
    if (const auto value = headers.get("retry-after")) {
      if (const auto seconds = number(*value)) {
        ms = *seconds * 1000.0;
      } else if (const auto date = http_date(*value)) {
        ms = static_cast<double>(*date - std::chrono::system_clock::to_time_t(now)) * 1000.0;
      }
    }
  }
  if (!ms || *ms <= 0.0) return std::nullopt;
  return milliseconds(static_cast<std::int64_t>(std::ceil(std::min(*ms, 1e15))));
}

void SystemSleeper::sleep(std::chrono::nanoseconds duration, const CancelCheck& given) {
  const CancelCheck& cancelled = ScopedCancelCheck::effective(given);
  const auto until = std::chrono::steady_clock::now() + duration;
  for (;;) {
    if (cancelled && cancelled()) throw CancelledError("a wait before a retry was cancelled");
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return;
    std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(left, milliseconds(50)));
  }
}

SystemSleeper& SystemSleeper::instance() {
  static SystemSleeper sleeper;
  return sleeper;
}

void ManualTime::sleep(std::chrono::nanoseconds duration, const CancelCheck& given) {
  const CancelCheck& cancelled = ScopedCancelCheck::effective(given);
  if (cancelled && cancelled()) throw CancelledError("a wait before a retry was cancelled");
  {
    std::lock_guard lock(mutex_);
    sleeps_.push_back(duration);
  }
  advance(duration);
}

std::vector<std::chrono::nanoseconds> ManualTime::sleeps() const {
  std::lock_guard lock(mutex_);
  return sleeps_;
}

Retrier::Retrier(const HttpTransport& transport, RetryPolicy policy, const Clock& clock,
                 Sleeper& sleeper, std::function<double()> random)
    : transport_(transport),
      policy_(std::move(policy)),
      clock_(clock),
      sleeper_(sleeper),
      random_(random ? std::move(random) : std::function<double()>(thread_random)) {
  policy_.validate();
}

bool Retrier::retries_status(long status) const {
  return (policy_.retry_server_errors && status >= 500) ||
         std::find(policy_.retry_statuses.begin(), policy_.retry_statuses.end(), status) !=
             policy_.retry_statuses.end();
}

RetriedResponse Retrier::send(const std::function<HttpRequest(int attempt)>& prepare,
                              bool retriable, const CancelCheck& cancelled) const {
  auto out = run(prepare, retriable, cancelled, true);
  return RetriedResponse{std::move(out.response), out.attempts, out.refused_server_delay};
}

RetriedStream Retrier::open(const std::function<HttpRequest(int attempt)>& prepare, bool retriable,
                            const CancelCheck& cancelled) const {
  return run(prepare, retriable, cancelled, false);
}

RetriedStream Retrier::run(const std::function<HttpRequest(int attempt)>& prepare, bool retriable,
                           const CancelCheck& cancelled, bool whole_body) const {
  const Nanos started = clock_.now();
  const auto deadline_left = [&]() -> std::optional<std::chrono::nanoseconds> {
    if (policy_.deadline.count() == 0) return std::nullopt;
    return std::chrono::nanoseconds(policy_.deadline) -
           std::chrono::nanoseconds(clock_.now() - started);
  };
  for (int attempt = 0;; ++attempt) {
    HttpRequest request = prepare(attempt);
    if (const auto left = deadline_left()) {  // no attempt outlives the deadline
      request.timeout =
          std::max(milliseconds(1),
                   std::min(request.timeout, std::chrono::duration_cast<milliseconds>(*left)));
    }
    const bool attempts_left = attempt < policy_.max_retries;
    const bool may_retry = retriable && attempts_left;
    std::optional<milliseconds> wait;
    std::string why;
    std::exception_ptr failure;  // the transport error of this attempt
    RetriedStream out;
    out.attempts = attempt + 1;
    try {
      HttpStream stream = transport_.open(request, cancelled);
      out.response.status = stream.status();
      out.response.headers = stream.headers();
      if (whole_body || out.response.status >= 300) {
        out.response.body = stream.read_all();
      } else {
        out.stream.emplace(std::move(stream));
      }
      const long status = out.response.status;
      const auto should = policy_.honour_should_retry_header
                              ? out.response.headers.get("x-should-retry")
                              : std::nullopt;
      const auto asked = server_delay(out.response.headers);
      if (asked && *asked > policy_.max_server_delay && status >= 300) {
        out.refused_server_delay = asked;  // too long to wait here: the caller reports it
        return out;
      }
      const bool transient = status >= 400 && !out.response.body.empty() &&
                             std::any_of(policy_.retry_on_body.begin(), policy_.retry_on_body.end(),
                                         [&](const std::string& m) {
                                           return out.response.body.find(m) != std::string::npos;
                                         });
      const bool wanted =
          status >= 300 && (should ? *should == "true" : retries_status(status) || transient);
      const bool unprocessed = status == 429 && retries_status(status);
      if (!(may_retry || (unprocessed && attempts_left)) || !wanted) return out;
      wait = asked;
      if (!wait && (status == 429 || status == 503) && policy_.default_server_delay.count() > 0) {
        wait = policy_.default_server_delay;
      }
      why = "HTTP " + std::to_string(status);
    } catch (const PlatformTimeoutError&) {
      if (!may_retry || !policy_.retry_connection_errors) throw;
      why = "timeout";
      failure = std::current_exception();
    } catch (const PlatformConnectionError&) {
      if (!may_retry || !policy_.retry_connection_errors) throw;
      why = "connection error";
      failure = std::current_exception();
    }
    const milliseconds delay = wait ? *wait : policy_.backoff_delay(attempt, random_());
    if (const auto left = deadline_left(); left && *left <= std::chrono::nanoseconds(delay)) {
      // the deadline would pass while waiting: give up now with what the attempt left
      if (failure) std::rethrow_exception(failure);
      return out;
    }
    logger().info("http.retry", request.correlation_id,
                  log::kv("url", url_for_display(request.url)), log::kv("attempt", attempt + 1),
                  log::kv("reason", why), log::kv("delay_ms", delay.count()));
    sleeper_.sleep(delay, cancelled);
  }
}

}  // namespace aadap::platforms
