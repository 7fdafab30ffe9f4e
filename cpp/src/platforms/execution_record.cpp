#include "aadap/platforms/execution_record.hpp"

#include "aadap/core/logging.hpp"

namespace aadap::platforms {

ExecutionRecord::ExecutionRecord(const std::shared_ptr<ResourceRecorder>& recorder,
                                 const std::string& task_id, const std::string& platform,
                                 const std::string& metadata_json, std::string correlation_id)
    : correlation_id_(std::move(correlation_id)) {
  if (!recorder || task_id.empty()) return;
  execution_id_ = recorder->start_execution(task_id, platform, metadata_json, correlation_id_);
  recorder_ = recorder.get();
}

ExecutionRecord::~ExecutionRecord() {
  if (recorder_ == nullptr) return;
  try {
    finish("FAILED", "", "ended by an error raised outside aadap", "{}");
  } catch (const std::exception& error) {
    // a destructor must not throw; the store's own error is logged
    static const log::Logger logger("aadap.platforms");
    logger.error("execution.finish_failed", correlation_id_, log::kv("execution_id", execution_id_),
                 log::kv("error", error.what()));
  }
}

void ExecutionRecord::succeed(const std::string& output_json, const std::string& metadata_json) {
  finish("SUCCESS", output_json, "", metadata_json);
}

void ExecutionRecord::fail(const std::string& error, bool cancelled,
                           const std::string& metadata_json) {
  finish(cancelled ? "CANCELLED" : "FAILED", "", error, metadata_json);
}

void ExecutionRecord::finish(const char* status, const std::string& output,
                             const std::string& error, const std::string& metadata_json) {
  if (recorder_ == nullptr) return;
  ResourceRecorder* recorder = recorder_;
  recorder_ = nullptr;  // finished once, whatever happens next
  recorder->finish_execution(execution_id_, status, output, error, metadata_json, correlation_id_);
}

}  // namespace aadap::platforms
