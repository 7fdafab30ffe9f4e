// Identifiers and timestamps shared by every component.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aadap {

/// A random (version 4) UUID in canonical lower-case form. Thread-safe.
std::string new_uuid4();

/// A time-ordered (version 7) UUID: a millisecond timestamp, then a per-thread counter, then
/// random bits. Used for stored rows, so new rows land at the end of the primary-key index
/// instead of on random pages. Strictly increasing within a thread. Thread-safe.
std::string new_uuid7();

/// The current UTC time as ISO-8601 with milliseconds and a Z: 2026-11-25T21:40:04.123Z.
std::string utc_now_iso();
/// `time` in the same form.
std::string utc_iso(std::chrono::system_clock::time_point time);
/// Parses that form (fractional seconds optional); nullopt when `text` is not in it.
std::optional<std::chrono::system_clock::time_point> parse_utc_iso(std::string_view text);

}  // namespace aadap
