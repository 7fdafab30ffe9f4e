// Risk levels NONE < LOW < MEDIUM < HIGH < CRITICAL (lifecycle.md §8), compared by ordinal.
#pragma once

#include <cstdint>
#include <string_view>

namespace aadap::lifecycle {

enum class RiskLevel : std::uint8_t { NONE, LOW, MEDIUM, HIGH, CRITICAL };

std::string_view risk_name(RiskLevel level) noexcept;
/// Exact upper-case name; InvalidArgumentError naming the five levels otherwise.
RiskLevel parse_risk(std::string_view name);
/// A safety gate passes iff its risk is below HIGH.
inline bool passes_gate(RiskLevel level) noexcept {
  return level < RiskLevel::HIGH;
}

}  // namespace aadap::lifecycle
