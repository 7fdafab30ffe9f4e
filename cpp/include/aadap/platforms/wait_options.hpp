// How a client waits for remote work it started (a job run, a pipeline update, a notebook
// job): the caller's deadline, what happens at it, progress reports and cancellation.
#pragma once

#include "aadap/platforms/http.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>

namespace aadap::platforms {

struct WaitOptions {
  std::chrono::milliseconds timeout{3'600'000};
  bool cancel_on_timeout = false;  // cancel / stop the remote work at the deadline
  std::function<void(const nlohmann::json&)> progress;  // each state seen
  CancelCheck cancelled;  // cancellation cancels / stops the remote work
  std::string correlation_id;
};

}  // namespace aadap::platforms
