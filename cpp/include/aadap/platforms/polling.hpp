// Waiting for remote work by polling its state (job runs, pipeline updates, Fabric jobs and
// long-running operations): a schedule that doubles up to a cap unless the service names the
// next delay, the caller's deadline, progress reports, and the remote work stopped when the
// caller gives up (cancellation, or the deadline when asked).
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/platforms/retry.hpp"
#include "aadap/platforms/wait_options.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace aadap::platforms {

/// What one poll saw.
struct PollAnswer {
  nlohmann::json answer;
  std::string state;
  std::optional<std::chrono::milliseconds> next_delay;  // the service's Retry-After
};

struct PollSchedule {
  std::chrono::milliseconds before_first{0};  // a wait before the first poll
  std::chrono::milliseconds first{1'000};     // then from this, doubling
  std::chrono::milliseconds cap{10'000};      // up to this, unless the service names a delay
};

/// Polls until the state is one of `terminal` and returns that answer. At the deadline:
/// `stop` when options.cancel_on_timeout, then PlatformTimeoutError naming `what` and carrying
/// `details`; when anything else ends the wait (cancellation, a failing poll, a progress
/// callback's error): `stop`, then that exception. A failure to stop is only logged.
nlohmann::json poll_until(const Clock& clock, Sleeper& sleeper, const std::string& what,
                          const std::function<PollAnswer()>& poll,
                          std::initializer_list<std::string_view> terminal,
                          const std::function<void()>& stop, const PollSchedule& schedule,
                          const WaitOptions& options,
                          nlohmann::json details = nlohmann::json::object());

}  // namespace aadap::platforms
