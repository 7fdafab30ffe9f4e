// A value that must never be printed: settings such as API keys, client secrets and database
// URLs (which may carry a password) are held as Secret. Its text form is always the mask; only
// reveal() returns the value. Constructing one registers the value with the redactor so it is
// masked even where it leaks into other text (an error body, a URL). Immutable, thread-safe.
#pragma once

#include "aadap/core/redaction.hpp"

#include <nlohmann/json.hpp>

#include <ostream>
#include <string>
#include <string_view>

namespace aadap {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) { register_secret_value(value_); }
  /// A value of which only `sensitive` must be hidden elsewhere (the password of a database
  /// URL): text containing the rest of the value stays readable.
  Secret(std::string value, std::string_view sensitive) : value_(std::move(value)) {
    register_secret_value(sensitive);
  }

  const std::string& reveal() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  bool operator==(const Secret& other) const noexcept = default;

 private:
  std::string value_;
};

inline std::ostream& operator<<(std::ostream& out, const Secret&) {
  return out << kMask;
}
inline void to_json(nlohmann::json& out, const Secret&) {
  out = std::string(kMask);
}

}  // namespace aadap
