// The engine's side of the resource recorder (core/resource_recorder.hpp): what a platform
// client runs for a task becomes an execution row of that task (RUNNING, then SUCCESS, FAILED
// or CANCELLED), audited like any other engine write.
//
// Thread-safe (as TaskEngine). The engine must outlive the recorder.
#pragma once

#include "aadap/core/resource_recorder.hpp"
#include "aadap/engine/task_engine.hpp"

namespace aadap::engine {

class TaskResourceRecorder final : public ResourceRecorder {
 public:
  TaskResourceRecorder(TaskEngine& engine, std::string actor)
      : engine_(engine), actor_(std::move(actor)) {}
  std::string start_execution(const std::string& task_id, const std::string& platform,
                              const std::string& metadata_json,
                              const std::string& correlation_id) override;
  void finish_execution(const std::string& execution_id, const std::string& status,
                        const std::string& output, const std::string& error,
                        const std::string& metadata_json,
                        const std::string& correlation_id) override;
  void record_resource(const std::string& task_id, const std::string& platform,
                       const std::string& resource_type, const std::string& resource_id,
                       const std::string& definition_json,
                       const std::string& correlation_id) override;

 private:
  TaskEngine& engine_;
  std::string actor_;
};

}  // namespace aadap::engine
