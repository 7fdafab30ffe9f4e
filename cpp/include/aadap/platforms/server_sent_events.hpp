// Server-sent events (text/event-stream) read incrementally: bytes in as they arrive, whole
// events out. Only what streaming APIs use: `data:` lines (joined by newlines), `event:`,
// comments and other fields ignored. Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aadap::platforms {

struct ServerSentEvent {
  std::string event;  // empty for the default "message"
  std::string data;
};

class ServerSentEvents {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  /// The next complete event, if one has arrived.
  std::optional<ServerSentEvent> next();
  /// Bytes received that do not yet end an event.
  std::size_t pending() const noexcept { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
};

}  // namespace aadap::platforms
