// Store records cross into Python as plain tuples in the struct's field order: one object per
// value and no wrapper class, so a page of rows costs little to hand over. aadap.snapshots
// decodes the fields lazily (states, timestamps, JSON) when they are read.
#pragma once

#include "aadap/store/records.hpp"

#include <pybind11/pybind11.h>

#include <vector>

namespace aadap::bindings {

pybind11::tuple row(const store::TaskRecord& record);
pybind11::tuple row(const store::TransitionRecord& record);
pybind11::tuple row(const store::AuditRecord& record);
pybind11::tuple row(const store::ArtifactRecord& record);
pybind11::tuple row(const store::ApprovalRecord& record);
pybind11::tuple row(const store::ExecutionRecord& record);
pybind11::tuple row(const store::CostRecord& record);
pybind11::tuple row(const store::ResourceRecord& record);
pybind11::tuple row(const store::TaskLogRecord& record);

template <class Record>
pybind11::list rows(const std::vector<Record>& records) {
  pybind11::list out(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    out[i] = row(records[i]);
  }
  return out;
}

}  // namespace aadap::bindings
