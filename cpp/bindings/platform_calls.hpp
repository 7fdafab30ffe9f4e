// What the platform clients' bindings share: Ctrl-C as a cancel check, seconds from Python,
// waits of the calling thread, and the time a client runs on.
#pragma once

#include "aadap/core/clock.hpp"
#include "aadap/platforms/http.hpp"
#include "aadap/platforms/retry.hpp"
#include "aadap/platforms/wait_options.hpp"

#include <pybind11/pybind11.h>

#include <chrono>
#include <memory>
#include <string>

namespace aadap::bindings {

/// Asked while a call waits: a Ctrl-C pending in Python stops the call (the bound function
/// then raises the KeyboardInterrupt, see bind_errors.cpp), and so does the cancel event of
/// an asyncio caller's worker thread (aadap.cancellation).
platforms::CancelCheck interrupt_check();

/// Held for the length of a blocking call: the GIL released, and Ctrl-C cancelling every
/// request and wait inside the call that was given no cancel check of its own.
class InterruptibleCall {
 public:
  InterruptibleCall() : check_(interrupt_check()) {}

 private:
  platforms::ScopedCancelCheck check_;  // installed first, removed last (with the GIL held)
  pybind11::gil_scoped_release release_;
};

/// A positive number of seconds (at most 1e7) as milliseconds; InvalidArgumentError naming
/// `what` otherwise.
std::chrono::milliseconds milliseconds_of(double seconds, const char* what);

/// How a wait of the calling Python thread goes: Ctrl-C cancels it; `progress` (None, or a
/// callable taking the state's JSON text) is referenced, so it must outlive the options.
platforms::WaitOptions wait_options(double timeout, bool cancel_on_timeout,
                                    const pybind11::object& progress,
                                    const std::string& correlation_id);

/// Clock and sleeper of a client: a ManualTime when given (tests), else real time.
struct Time {
  std::shared_ptr<const Clock> clock;
  platforms::Sleeper* sleeper;
};
Time time_of(const std::shared_ptr<platforms::ManualTime>& manual);

}  // namespace aadap::bindings
