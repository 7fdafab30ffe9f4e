// Monotonic time, injectable: components that expire or time things take a Clock so tests can
// move time by hand instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace aadap {

/// Nanoseconds on a monotonic timeline (the origin is arbitrary).
using Nanos = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Nanos now() const noexcept = 0;
};

/// std::chrono::steady_clock. Thread-safe.
class SteadyClock final : public Clock {
 public:
  Nanos now() const noexcept override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};

/// A clock that moves only when told to (tests). Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Nanos start = 1'000'000'000) : now_(start) {}
  Nanos now() const noexcept override { return now_.load(std::memory_order_acquire); }
  void advance(std::chrono::nanoseconds by) noexcept {
    now_.fetch_add(by.count(), std::memory_order_acq_rel);
  }

 private:
  std::atomic<Nanos> now_;
};

}  // namespace aadap
