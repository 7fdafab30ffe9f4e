#include "aadap/memory/memory_governance.hpp"

#include "aadap/core/ids.hpp"

#include <nlohmann/json.hpp>

namespace aadap::memory {

bool promotion_eligible(const store::MemoryEntityRecord& entity,
                        std::chrono::system_clock::time_point now) {
  if (entity.is_deprecated || entity.use_count < kPromotionMinUses ||
      entity.validation_pass_rate < kPromotionMinPassRate) {
    return false;
  }
  if (!entity.critical_failure_at) return true;
  const auto failed = parse_utc_iso(*entity.critical_failure_at);
  return failed && now - *failed > kCriticalFailureWindow;
}

bool deprecation_required(const store::MemoryEntityRecord& entity) {
  if (entity.validation_failures >= kDeprecationFailures ||
      entity.confidence < kDeprecationConfidenceBelow) {
    return true;
  }
  const auto metadata = nlohmann::json::parse(entity.metadata_json, nullptr, false);
  return metadata.is_object() && metadata.value("outdated", false) == true;
}

}  // namespace aadap::memory
