// Identifiers and timestamps shared by every component.
#pragma once

#include <string>

namespace aadap {

/// A random (version 4) UUID in canonical lower-case form. Thread-safe.
std::string new_uuid4();

/// A time-ordered (version 7) UUID: a millisecond timestamp, then a per-thread counter, then
/// random bits. Used for stored rows, so new rows land at the end of the primary-key index
/// instead of on random pages. Strictly increasing within a thread. Thread-safe.
std::string new_uuid7();

/// The current UTC time as ISO-8601 with milliseconds and a Z: 2026-11-25T21:40:04.123Z.
std::string utc_now_iso();

}  // namespace aadap
