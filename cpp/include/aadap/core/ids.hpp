// Identifiers and timestamps shared by every component.
#pragma once

#include <string>

namespace aadap {

/// A random (version 4) UUID in canonical lower-case form. Thread-safe.
std::string new_uuid4();

/// The current UTC time as ISO-8601 with milliseconds and a Z: 2026-11-25T21:40:04.123Z.
std::string utc_now_iso();

}  // namespace aadap
