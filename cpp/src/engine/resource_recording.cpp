#include "aadap/engine/resource_recording.hpp"

namespace aadap::engine {

std::string TaskResourceRecorder::start_execution(const std::string& task_id,
                                                  const std::string& platform,
                                                  const std::string& metadata_json,
                                                  const std::string& correlation_id) {
  return engine_
      .start_execution(ExecutionStart{task_id, platform, std::nullopt, metadata_json}, actor_,
                       correlation_id)
      .id;
}

void TaskResourceRecorder::finish_execution(const std::string& execution_id,
                                            const std::string& status, const std::string& output,
                                            const std::string& error,
                                            const std::string& metadata_json,
                                            const std::string& correlation_id) {
  engine_.finish_execution(
      ExecutionFinish{execution_id, status, output.empty() ? std::nullopt : std::optional(output),
                      error.empty() ? std::nullopt : std::optional(error), metadata_json},
      actor_, correlation_id);
}

void TaskResourceRecorder::record_resource(const std::string& task_id, const std::string& platform,
                                           const std::string& resource_type,
                                           const std::string& resource_id,
                                           const std::string& definition_json, const std::string&) {
  store::ResourceRecord resource;
  resource.task_id = task_id;
  resource.platform = platform;
  resource.resource_type = resource_type;
  resource.platform_resource_id = resource_id;
  resource.definition_json = definition_json;
  engine_.record_resource(resource);
}

}  // namespace aadap::engine
