#include "aadap/lifecycle/risk_level.hpp"

#include "aadap/core/errors.hpp"

#include <array>
#include <string>

namespace aadap::lifecycle {

namespace {
constexpr std::array<std::string_view, 5> kNames{"NONE", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
}  // namespace

std::string_view risk_name(RiskLevel level) noexcept {
  return kNames[static_cast<std::size_t>(level)];
}

RiskLevel parse_risk(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<RiskLevel>(i);
  }
  throw InvalidArgumentError("unknown risk level '" + std::string(name.substr(0, 80)) +
                             "': use NONE, LOW, MEDIUM, HIGH or CRITICAL");
}

}  // namespace aadap::lifecycle
