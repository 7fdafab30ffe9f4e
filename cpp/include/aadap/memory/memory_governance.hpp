// The governance predicates of vector memory entities (memory.md §2): pure functions of an
// entity and the time, so they can be checked, exposed and tested apart from any memory.
#pragma once

#include "aadap/store/records.hpp"

#include <chrono>

namespace aadap::memory {

inline constexpr std::int64_t kPromotionMinUses = 3;
inline constexpr double kPromotionMinPassRate = 0.90;
inline constexpr std::chrono::hours kCriticalFailureWindow{24 * 30};
inline constexpr std::int64_t kDeprecationFailures = 2;
inline constexpr double kDeprecationConfidenceBelow = 0.6;

/// Successful uses >= 3, validation pass rate >= 0.90 and no critical failure in the last 30
/// days (a failure exactly 30 days old still counts); never for a deprecated entity.
bool promotion_eligible(const store::MemoryEntityRecord& entity,
                        std::chrono::system_clock::time_point now);

/// Validation failures >= 2, or confidence < 0.6, or flagged outdated (metadata
/// "outdated": true, for a schema or API that changed).
bool deprecation_required(const store::MemoryEntityRecord& entity);

}  // namespace aadap::memory
