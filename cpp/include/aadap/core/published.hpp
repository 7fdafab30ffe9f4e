// Published<T>: a value that is replaced rarely (configuration) and read very often (every log
// line). Readers take one acquire load and never lock or touch a reference count; writers
// serialise on a mutex and publish a new immutable copy. Every version ever published is kept
// until the object is destroyed, so a reader's pointer stays valid however long it holds it;
// use it only where the number of updates is small (settings, registered secrets).
// Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace aadap {

template <class T>
class Published {
 public:
  explicit Published(T initial = T{}) { publish(std::make_unique<const T>(std::move(initial))); }
  Published(const Published&) = delete;
  Published& operator=(const Published&) = delete;

  /// The current version; valid for the lifetime of this object.
  const T& get() const noexcept { return *current_.load(std::memory_order_acquire); }

  /// Replaces the value with change(copy of the current value).
  template <class Change>
  void update(Change change) {
    std::lock_guard lock(writer_);
    auto next = std::make_unique<T>(*current_.load(std::memory_order_relaxed));
    change(*next);
    publish(std::move(next));
  }

 private:
  void publish(std::unique_ptr<const T> next) {
    current_.store(next.get(), std::memory_order_release);
    versions_.push_back(std::move(next));
  }

  std::mutex writer_;
  std::vector<std::unique_ptr<const T>> versions_;
  std::atomic<const T*> current_{nullptr};
};

}  // namespace aadap
