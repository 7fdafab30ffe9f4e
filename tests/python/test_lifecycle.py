"""aadap.TaskState and aadap.lifecycle: the C++ rules through the Python API."""

from __future__ import annotations

import pytest

import aadap
from aadap import _core
from aadap import lifecycle as lc
from aadap.lifecycle import RiskLevel, TaskState


def test_enum_matches_the_core_in_order() -> None:
    assert [s.value for s in TaskState] == _core.lifecycle_states()
    assert len(TaskState) == 25
    assert [s.ordinal for s in TaskState] == list(range(1, 26))


def test_members_are_their_names() -> None:
    assert TaskState.PARSING == "PARSING"
    assert TaskState("PARSING") is TaskState.PARSING
    assert str(TaskState.IN_REVIEW) == "IN_REVIEW"
    assert f"{TaskState.APPROVED}" == "APPROVED"
    by_state: dict[str, int] = {TaskState.PARSED: 1}
    assert by_state["PARSED"] == 1


def test_unknown_states_raise_invalid_state_error() -> None:
    for bad in ["BOGUS", "parsing", ""]:
        with pytest.raises(aadap.InvalidStateError) as info:
            TaskState(bad)
        assert isinstance(info.value, ValueError)
        assert info.value.state == bad
    with pytest.raises(TypeError):
        TaskState(3)
    with pytest.raises(aadap.InvalidStateError):
        lc.allowed_transitions("NOPE")


def test_allowed_transitions_and_validation() -> None:
    assert lc.allowed_transitions("SUBMITTED") == {TaskState.PARSING, TaskState.CANCELLED}
    assert lc.allowed_transitions(TaskState.COMPLETED) == frozenset()
    assert sum(len(lc.allowed_transitions(s)) for s in TaskState) == 44
    assert lc.is_allowed("DEPLOYING", "DEV_FAILED")
    assert not lc.is_allowed("PARSING", "PARSING")
    lc.validate_transition(TaskState.IN_REVIEW, "APPROVED")
    with pytest.raises(aadap.InvalidTransitionError) as info:
        lc.validate_transition("APPROVAL_PENDING", "APPROVED")
    error = info.value
    assert isinstance(error, ValueError)
    assert (error.from_state, error.to_state) == ("APPROVAL_PENDING", "APPROVED")
    assert error.allowed == ["IN_REVIEW"]
    assert "IN_REVIEW" in str(error)


def test_groups_and_phases() -> None:
    assert {TaskState.COMPLETED, TaskState.CANCELLED} == lc.TERMINAL
    assert {
        TaskState.PARSE_FAILED, TaskState.DEV_FAILED, TaskState.VALIDATION_FAILED,
        TaskState.REJECTED,
    } == lc.FAILED  # fmt: skip
    assert {TaskState.APPROVAL_PENDING, TaskState.IN_REVIEW} == lc.AWAITING_HUMAN
    assert len(lc.WORKING) == 7
    assert len(lc.ACTIVE) == 23
    assert lc.is_terminal("CANCELLED")
    assert TaskState.AGENT_ASSIGNED.phase == "Development"
    assert lc.phase("DEPLOYED") == "Deployment"


def test_loop_guard() -> None:
    lc.check_entry_limit("PARSING", 2)
    with pytest.raises(aadap.LoopDetectedError) as loop:
        lc.check_entry_limit("PARSING", 3)
    assert loop.value.guard == "loop"
    with pytest.raises(aadap.RetryLimitExceededError) as retry:
        lc.check_entry_limit(TaskState.IN_DEVELOPMENT, 3)
    assert isinstance(retry.value, aadap.LoopDetectedError)
    lc.check_entry_limit("CANCELLED", 50)
    assert lc.MAX_ENTRIES_PER_STATE == 3


def test_risk_levels_compare_by_ordinal() -> None:
    assert RiskLevel.HIGH > RiskLevel.MEDIUM  # alphabetically it would be smaller
    assert RiskLevel.LOW < "MEDIUM"
    assert RiskLevel.CRITICAL >= RiskLevel.CRITICAL
    assert max(RiskLevel) is RiskLevel.CRITICAL
    assert sorted([RiskLevel.HIGH, RiskLevel.NONE, RiskLevel.LOW]) == [
        RiskLevel.NONE, RiskLevel.LOW, RiskLevel.HIGH,
    ]  # fmt: skip
    assert RiskLevel.MEDIUM.passes_gate
    assert not RiskLevel.HIGH.passes_gate
    assert RiskLevel.HIGH == "HIGH"
    with pytest.raises(ValueError, match="SEVERE"):
        RiskLevel("SEVERE")


@pytest.mark.parametrize(
    ("environment", "operation", "required"),
    [
        ("SANDBOX", "read_only", False),
        ("SANDBOX", "write", False),
        ("SANDBOX", "destructive", True),
        ("PRODUCTION", "read_only", False),
        ("PRODUCTION", "write", True),
        ("PRODUCTION", "destructive", True),
        ("SANDBOX", "schema_change", True),
        ("PRODUCTION", "permission_change", True),
        ("SANDBOX", "vacuum_everything", True),
    ],
)
def test_autonomy_matrix(environment: str, operation: str, required: bool) -> None:
    policy = lc.approval_policy(environment, operation)
    assert policy.approval_required is required
    assert policy.reason


def test_autonomy_risk_override_and_routing() -> None:
    policy = lc.approval_policy("SANDBOX", lc.OperationType.READ_ONLY, RiskLevel.CRITICAL)
    assert policy.approval_required
    assert policy.escalate
    assert policy.route == ["team_lead", "security_admin", "platform_admin"]
    assert "fail closed" in lc.approval_policy("SANDBOX", "unknown_op").reason
    with pytest.raises(ValueError, match="SANDBOX or PRODUCTION"):
        lc.approval_policy("STAGING", "write")


def test_mermaid_diagram() -> None:
    diagram = lc.to_mermaid()
    source = str(diagram)
    assert source.startswith("stateDiagram-v2")
    assert source.count(" --> ") == 44 + 1 + 2  # edges, the start, two terminal ends
    bundle = diagram._repr_mimebundle_()
    assert bundle["text/vnd.mermaid"] == source
    assert bundle["text/markdown"].startswith("```mermaid")
    assert "SUBMITTED --&gt; PARSING" in diagram._repr_html_()
