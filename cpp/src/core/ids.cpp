#include "aadap/core/ids.hpp"

#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <random>

namespace aadap {

namespace {

std::mt19937_64& generator() {
  thread_local std::mt19937_64 instance{std::random_device{}()};
  return instance;
}

/// The canonical 8-4-4-4-12 lower-case form of a 128-bit value (snprintf is several times
/// slower, and ids are minted on every event).
std::string format_uuid(std::uint64_t high, std::uint64_t low) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  int position = 0;
  auto put = [&](std::uint64_t bits, int nibbles) {
    for (int shift = (nibbles - 1) * 4; shift >= 0; shift -= 4) {
      if (position == 8 || position == 13 || position == 18 || position == 23) ++position;
      out[static_cast<std::size_t>(position++)] = kHex[(bits >> shift) & 0xF];
    }
  };
  put(high, 16);
  put(low, 16);
  return out;
}

}  // namespace

std::string new_uuid4() {
  const std::uint64_t high = (generator()() & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  const std::uint64_t low = (generator()() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  return format_uuid(high, low);
}

std::string new_uuid7() {
  // RFC 9562 §5.7 with the 12-bit rand_a used as a counter (method 1 of §6.2), so the ids a
  // thread mints are strictly increasing even within one millisecond.
  thread_local std::uint64_t last_ms = 0;
  thread_local std::uint64_t counter = 0;
  auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count());
  if (ms > last_ms) {
    counter = generator()() & 0x7FF;  // a random start leaves room to count up
  } else {
    ms = last_ms;  // the clock stepped back or stood still: keep counting from where we were
    if (++counter > 0xFFF) {
      ++ms;
      counter = 0;
    }
  }
  last_ms = ms;
  const std::uint64_t high = ((ms & 0xFFFFFFFFFFFFULL) << 16) | 0x7000ULL | counter;
  const std::uint64_t low = (generator()() & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  return format_uuid(high, low);
}

std::string utc_iso(std::chrono::system_clock::time_point time) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch());
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buffer;
}

std::string utc_now_iso() {
  return utc_iso(std::chrono::system_clock::now());
}

std::optional<std::chrono::system_clock::time_point> parse_utc_iso(std::string_view text) {
  if (text.size() < 20 || text.size() > 40 || text.back() != 'Z') return std::nullopt;
  const std::string copy(text);
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  long long millis = 0;
  std::size_t position = 19;
  if (copy[position] == '.') {
    int digits = 0;
    for (++position;
         position < copy.size() && std::isdigit(static_cast<unsigned char>(copy[position]));
         ++position, ++digits) {
      if (digits < 3) millis = millis * 10 + (copy[position] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) millis *= 10;
  }
  if (position != copy.size() - 1) return std::nullopt;
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t seconds = timegm(&tm);
  return std::chrono::system_clock::from_time_t(seconds) + std::chrono::milliseconds(millis);
}

}  // namespace aadap
