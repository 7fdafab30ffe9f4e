// Reading fields of a service's JSON answer defensively: a field that is missing, null or of
// another type reads as absent, never as an exception from the JSON library.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace aadap::platforms {

/// The string at `key`, or `fallback` when `object` is not an object or the field is not a
/// string.
inline std::string string_field(const nlohmann::json& object, std::string_view key,
                                const std::string& fallback = {}) {
  if (!object.is_object()) return fallback;
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : fallback;
}

/// The object at `key`, or an empty object.
inline nlohmann::json object_field(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return nlohmann::json::object();
  const auto found = object.find(key);
  return found != object.end() && found->is_object() ? *found : nlohmann::json::object();
}

}  // namespace aadap::platforms
