#include "aadap/platforms/polling.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/logging.hpp"

#include <algorithm>

namespace aadap::platforms {

namespace {

const log::Logger& logger() {
  static const log::Logger instance("aadap.platforms");
  return instance;
}

/// Stops the remote work of a wait that ends without its result: a failure to stop is only
/// logged, the timeout or interruption is what the caller hears about.
void stop_quietly(const std::function<void()>& stop, const std::string& what,
                  const WaitOptions& options) {
  try {
    stop();
  } catch (const std::exception& error) {
    logger().warning("platforms.stop_failed", options.correlation_id, log::kv("what", what),
                     log::kv("error", error.what()));
  }
}

}  // namespace

nlohmann::json poll_until(const Clock& clock, Sleeper& sleeper, const std::string& what,
                          const std::function<PollAnswer()>& poll,
                          std::initializer_list<std::string_view> terminal,
                          const std::function<void()>& stop, const PollSchedule& schedule,
                          const WaitOptions& options, nlohmann::json details) {
  const Nanos deadline = clock.now() + std::chrono::nanoseconds(options.timeout).count();
  const auto wait = [&](std::chrono::nanoseconds delay) {
    const std::chrono::nanoseconds left(std::max<Nanos>(0, deadline - clock.now()));
    sleeper.sleep(std::min(delay, left), options.cancelled);
  };
  std::string last_state;
  try {
    if (schedule.before_first.count() > 0) wait(schedule.before_first);
    for (int k = 0;; ++k) {
      PollAnswer seen = poll();
      if (options.progress) options.progress(seen.answer);
      if (std::find(terminal.begin(), terminal.end(), seen.state) != terminal.end()) {
        return std::move(seen.answer);
      }
      if (clock.now() >= deadline) {
        last_state = std::move(seen.state);
        break;
      }
      wait(seen.next_delay
               ? std::chrono::nanoseconds(*seen.next_delay)
               : std::chrono::nanoseconds(doubling_delay(k, schedule.first, schedule.cap)));
    }
  } catch (...) {
    // Ctrl-C, or anything else that ends the wait early (a failing poll, a progress callback's
    // own error): the remote work is not left running unwatched
    stop_quietly(stop, what, options);
    throw;
  }
  if (options.cancel_on_timeout) stop_quietly(stop, what, options);
  details["timeout_s"] = static_cast<double>(options.timeout.count()) / 1000.0;
  throw PlatformTimeoutError(
      what + " was still " + last_state + " after " +
          std::to_string(options.timeout.count() / 1000) + " s" +
          (options.cancel_on_timeout ? ": it was cancelled" : " (it goes on running)"),
      std::move(details));
}

}  // namespace aadap::platforms
