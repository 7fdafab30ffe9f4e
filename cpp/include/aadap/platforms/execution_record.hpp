// One execution of a task's work on a platform, recorded through the core ResourceRecorder
// when the client has one and a task is named: started at construction, finished by
// succeed() or fail(); one that ends neither way (an exception from outside aadap, such as a
// user's progress callback) is finished FAILED when the record goes out of scope, so no
// execution is left RUNNING.
#pragma once

#include "aadap/core/resource_recorder.hpp"

#include <memory>
#include <string>

namespace aadap::platforms {

class ExecutionRecord {
 public:
  ExecutionRecord(const std::shared_ptr<ResourceRecorder>& recorder, const std::string& task_id,
                  const std::string& platform, const std::string& metadata_json,
                  std::string correlation_id);
  ExecutionRecord(const ExecutionRecord&) = delete;
  ExecutionRecord& operator=(const ExecutionRecord&) = delete;
  ~ExecutionRecord();

  void succeed(const std::string& output_json, const std::string& metadata_json = "{}");
  /// FAILED, or CANCELLED when `cancelled`, with why.
  void fail(const std::string& error, bool cancelled = false,
            const std::string& metadata_json = "{}");

 private:
  void finish(const char* status, const std::string& output, const std::string& error,
              const std::string& metadata_json);

  ResourceRecorder* recorder_ = nullptr;  // null: nothing is recorded
  std::string execution_id_;
  std::string correlation_id_;
};

}  // namespace aadap::platforms
