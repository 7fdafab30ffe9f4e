#include "aadap/core/correlation.hpp"

#include "aadap/core/errors.hpp"
#include "aadap/core/ids.hpp"

namespace aadap {

std::string new_correlation_id() {
  return new_uuid4();
}

void validate_correlation_id(std::string_view id) {
  const bool length_ok = !id.empty() && id.size() <= kMaxCorrelationIdLength;
  bool chars_ok = true;
  for (char c : id) chars_ok = chars_ok && c > 0x20 && c < 0x7F;
  if (length_ok && chars_ok) return;
  std::string shown(id.substr(0, 40));
  for (auto& c : shown) {
    if (c <= 0x20 || c >= 0x7F) c = '?';
  }
  throw InvalidArgumentError(
      "invalid correlation id '" + shown + (id.size() > 40 ? "...'" : "'") +
          ": use 1 to 128 printable ASCII characters without spaces (a uuid4 is generated when "
          "none is given)",
      {{"length", id.size()}});
}

}  // namespace aadap
