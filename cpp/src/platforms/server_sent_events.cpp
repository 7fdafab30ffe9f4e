#include "aadap/platforms/server_sent_events.hpp"

namespace aadap::platforms {

std::optional<ServerSentEvent> ServerSentEvents::next() {
  for (;;) {
    // an event ends with a blank line; lines end with \n, \r\n or \r
    std::size_t end = std::string::npos;
    std::size_t after = 0;
    for (std::size_t i = consumed_; i < buffer_.size(); ++i) {
      if (buffer_[i] != '\n' && buffer_[i] != '\r') continue;
      std::size_t next_line = i + 1;
      if (buffer_[i] == '\r') {
        if (next_line == buffer_.size()) break;  // \r\n may still be arriving
        if (buffer_[next_line] == '\n') ++next_line;
      }
      if (next_line < buffer_.size() &&
          (buffer_[next_line] == '\n' || buffer_[next_line] == '\r')) {
        end = i;
        after = next_line + 1;
        if (buffer_[next_line] == '\r' && after < buffer_.size() && buffer_[after] == '\n') ++after;
        break;
      }
    }
    if (end == std::string::npos) {
      if (consumed_ > 0 && consumed_ * 2 > buffer_.size()) {  // keep the buffer small
        buffer_.erase(0, consumed_);
        consumed_ = 0;
      }
      return std::nullopt;
    }
    ServerSentEvent event;
    bool has_data = false;
    std::string_view block(buffer_.data() + consumed_, end - consumed_);
    consumed_ = after;
    while (!block.empty()) {
      const auto line_end = block.find_first_of("\r\n");
      const std::string_view line = block.substr(0, line_end);
      if (line_end == std::string_view::npos) {
        block = {};
      } else {
        const bool crlf =
            block[line_end] == '\r' && line_end + 1 < block.size() && block[line_end + 1] == '\n';
        block.remove_prefix(line_end + (crlf ? 2 : 1));
      }
      if (line.empty() || line.front() == ':') continue;  // comment
      const auto colon = line.find(':');
      const std::string_view field = line.substr(0, colon);
      std::string_view value =
          colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      if (field == "data") {
        if (has_data) event.data += '\n';
        event.data.append(value);
        has_data = true;
      } else if (field == "event") {
        event.event = std::string(value);
      }
    }
    if (has_data) return event;  // an event without data is not dispatched
  }
}

}  // namespace aadap::platforms
