// How a platform client records what it runs and creates for a task (platforms.md §7) without
// knowing the engine: the engine implements this interface (executions and platform_resources
// rows, audited); clients accept it optionally and call it only when given a task.
#pragma once

#include <string>

namespace aadap {

/// Implementations are thread-safe.
class ResourceRecorder {
 public:
  virtual ~ResourceRecorder() = default;
  /// An execution of the task starts on `platform`; returns its id. `metadata_json` is a JSON
  /// object (statement ids, hosts: never secrets).
  virtual std::string start_execution(const std::string& task_id, const std::string& platform,
                                      const std::string& metadata_json,
                                      const std::string& correlation_id) = 0;
  /// The execution ended: SUCCESS, FAILED or CANCELLED, with what it produced or why it failed.
  virtual void finish_execution(const std::string& execution_id, const std::string& status,
                                const std::string& output, const std::string& error,
                                const std::string& metadata_json,
                                const std::string& correlation_id) = 0;
  /// A remote object the platform created for the task (a job run, a notebook, a pipeline
  /// update): `resource_type` is job, notebook, pipeline or table.
  virtual void record_resource(const std::string& task_id, const std::string& platform,
                               const std::string& resource_type, const std::string& resource_id,
                               const std::string& definition_json,
                               const std::string& correlation_id) = 0;
};

}  // namespace aadap
