#include "aadap/lifecycle/autonomy_policy.hpp"
#include "aadap/lifecycle/guards.hpp"
#include "aadap/lifecycle/transitions.hpp"
#include "bindings.hpp"

#include <pybind11/stl.h>

namespace py = pybind11;

namespace aadap::bindings {

namespace {

using namespace lifecycle;

std::vector<std::string> names(std::span<const TaskState> states) {
  std::vector<std::string> out;
  for (const TaskState s : states) out.emplace_back(state_name(s));
  return out;
}

}  // namespace

void bind_lifecycle(py::module_& m) {
  m.def(
      "lifecycle_states", [] { return names(all_states()); },
      "The 25 state names in ordinal order.");
  m.def(
      "parse_state",
      [](std::string_view name) { return std::string(state_name(parse_state(name))); },
      py::arg("name"), "The name itself if it is a state; InvalidStateError otherwise.");
  m.def(
      "allowed_targets",
      [](std::string_view from) { return names(allowed_targets(parse_state(from))); },
      py::arg("state"));
  m.def(
      "is_allowed",
      [](std::string_view from, std::string_view to) {
        return is_allowed(parse_state(from), parse_state(to));
      },
      py::arg("from_state"), py::arg("to_state"));
  m.def(
      "validate_transition",
      [](std::string_view from, std::string_view to) {
        validate_transition(parse_state(from), parse_state(to));
      },
      py::arg("from_state"), py::arg("to_state"));
  m.def(
      "state_info",
      [](std::string_view name) {
        const TaskState s = parse_state(name);
        py::dict info;
        info["ordinal"] = ordinal(s);
        info["phase"] = std::string(phase(s));
        info["terminal"] = is_terminal(s);
        info["failed"] = is_failed(s);
        info["awaiting_human"] = is_awaiting_human(s);
        info["working"] = is_working(s);
        return info;
      },
      py::arg("state"), "Ordinal, phase and group membership of a state.");
  m.def(
      "check_entry_limit",
      [](std::string_view to, int previous_entries) {
        check_entry_limit(parse_state(to), previous_entries);
      },
      py::arg("state"), py::arg("previous_entries"));
  m.attr("MAX_ENTRIES_PER_STATE") = kMaxEntriesPerState;

  py::class_<ApprovalPolicy>(m, "ApprovalPolicy", "What the autonomy matrix decided.")
      .def_readonly("approval_required", &ApprovalPolicy::approval_required)
      .def_readonly("reason", &ApprovalPolicy::reason)
      .def_readonly("route", &ApprovalPolicy::route)
      .def_readonly("escalate", &ApprovalPolicy::escalate)
      .def("__repr__", [](const ApprovalPolicy& p) {
        return std::string("ApprovalPolicy(approval_required=") +
               (p.approval_required ? "True" : "False") + ", reason='" + p.reason + "')";
      });
  m.def(
      "approval_policy",
      [](std::string_view environment, std::string_view operation_type, std::string_view risk) {
        return approval_policy(parse_task_environment(environment), operation_type,
                               parse_risk(risk));
      },
      py::arg("environment"), py::arg("operation_type"), py::arg("risk") = "NONE");
}

}  // namespace aadap::bindings
