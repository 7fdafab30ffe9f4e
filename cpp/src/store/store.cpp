#include "aadap/store/store.hpp"

#include <thread>

namespace aadap::store {

void Store::await_decision(std::string_view request_id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto request = get_approval(request_id);
    if (!request || request->status != "PENDING") return;
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::milliseconds(0)) return;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(50)));
  }
}

}  // namespace aadap::store
