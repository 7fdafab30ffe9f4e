// Standard base64 (RFC 4648 §4, padded), as the Databricks workspace API and Fabric item
// definitions carry file content.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aadap::platforms {

std::string base64_encode(std::string_view bytes);

/// The bytes, or nullopt when `text` is not base64 (a wrong alphabet, length or padding).
/// Line breaks and other whitespace, which MIME-style encoders insert, are skipped.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace aadap::platforms
