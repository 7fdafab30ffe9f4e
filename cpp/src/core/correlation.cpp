#include "aadap/core/correlation.hpp"

#include "aadap/core/errors.hpp"

#include <cstdint>
#include <cstdio>
#include <random>

namespace aadap {

std::string new_correlation_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  const std::uint64_t high = (generator() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  const std::uint64_t low = (generator() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buffer[37];
  std::snprintf(buffer, sizeof buffer, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(high >> 32), static_cast<unsigned>((high >> 16) & 0xFFFF),
                static_cast<unsigned>(high & 0xFFFF), static_cast<unsigned>(low >> 48),
                static_cast<unsigned long long>(low & 0xFFFFFFFFFFFFULL));
  return buffer;
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
