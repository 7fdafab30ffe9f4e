"""The task lifecycle (lifecycle.md §1, §5, §8): 25 states, the 44-edge whitelist, the loop
guard, risk levels and the autonomy policy matrix. The rules live in the C++ core; this module
gives them Python types.

    aadap.TaskState.PARSING == "PARSING"                    # str-valued enum
    aadap.lifecycle.allowed_transitions("SUBMITTED")        # frozenset({CANCELLED, PARSING})
    aadap.lifecycle.validate_transition("SUBMITTED", "COMPLETED")  # InvalidTransitionError
    aadap.lifecycle.to_mermaid()                            # renders in Jupyter

Every function accepts a member or its plain string.
"""

from __future__ import annotations

import functools
from enum import Enum
from typing import Any

from aadap import _core

__all__ = [
    "ACTIVE",
    "AWAITING_HUMAN",
    "FAILED",
    "MAX_ENTRIES_PER_STATE",
    "TERMINAL",
    "WORKING",
    "ApprovalPolicy",
    "ApprovalStatus",
    "AuditEventType",
    "MermaidDiagram",
    "OperationType",
    "RiskLevel",
    "TaskState",
    "allowed_transitions",
    "approval_policy",
    "check_entry_limit",
    "is_allowed",
    "is_terminal",
    "phase",
    "to_mermaid",
    "validate_transition",
]

ApprovalPolicy = _core.ApprovalPolicy
MAX_ENTRIES_PER_STATE: int = _core.MAX_ENTRIES_PER_STATE


class _StrEnum(str, Enum):
    """A str-valued enum whose members print as their value (3.10 has no enum.StrEnum)."""

    def __str__(self) -> str:
        return str(self.value)


class TaskState(_StrEnum):
    """The 25 task states; a member equals its name (``TaskState.PARSING == "PARSING"``).

    ``TaskState("BOGUS")`` raises :class:`aadap.InvalidStateError` (a ``ValueError``)."""

    SUBMITTED = "SUBMITTED"
    PARSING = "PARSING"
    PARSED = "PARSED"
    PARSE_FAILED = "PARSE_FAILED"
    PLANNING = "PLANNING"
    PLANNED = "PLANNED"
    AGENT_ASSIGNMENT = "AGENT_ASSIGNMENT"
    AGENT_ASSIGNED = "AGENT_ASSIGNED"
    IN_DEVELOPMENT = "IN_DEVELOPMENT"
    CODE_GENERATED = "CODE_GENERATED"
    DEV_FAILED = "DEV_FAILED"
    IN_VALIDATION = "IN_VALIDATION"
    VALIDATION_PASSED = "VALIDATION_PASSED"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    OPTIMIZATION_PENDING = "OPTIMIZATION_PENDING"
    IN_OPTIMIZATION = "IN_OPTIMIZATION"
    OPTIMIZED = "OPTIMIZED"
    APPROVAL_PENDING = "APPROVAL_PENDING"
    IN_REVIEW = "IN_REVIEW"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    DEPLOYING = "DEPLOYING"
    DEPLOYED = "DEPLOYED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"

    @classmethod
    def _missing_(cls, value: object) -> TaskState:
        if not isinstance(value, str):
            raise _core.InvalidTypeError(f"a task state is a str, not {type(value).__name__}")
        _core.parse_state(value)  # raises InvalidStateError with the accepted form
        raise AssertionError("unreachable: the core accepted a name the enum lacks")

    @property
    def ordinal(self) -> int:
        """Position in the spec's order, 1 (SUBMITTED) to 25 (CANCELLED)."""
        return int(_info(self.value)["ordinal"])

    @property
    def phase(self) -> str:
        """UI phase: Planning, Development, Validation, Optimization, Approval, Deployment."""
        return str(_info(self.value)["phase"])

    @property
    def is_terminal(self) -> bool:
        return bool(_info(self.value)["terminal"])


@functools.cache
def _info(name: str) -> dict[str, Any]:
    info: dict[str, Any] = _core.state_info(name)
    return info


def _state(value: TaskState | str) -> TaskState:
    return value if isinstance(value, TaskState) else TaskState(value)


def _group(flag: str) -> frozenset[TaskState]:
    return frozenset(s for s in TaskState if _info(s.value)[flag])


TERMINAL: frozenset[TaskState] = _group("terminal")
FAILED: frozenset[TaskState] = _group("failed")
AWAITING_HUMAN: frozenset[TaskState] = _group("awaiting_human")
WORKING: frozenset[TaskState] = _group("working")
ACTIVE: frozenset[TaskState] = frozenset(TaskState) - TERMINAL


@functools.cache
def _targets(name: str) -> frozenset[TaskState]:
    return frozenset(TaskState(t) for t in _core.allowed_targets(name))


def allowed_transitions(state: TaskState | str) -> frozenset[TaskState]:
    """The states reachable from ``state`` in one step (empty for terminal states)."""
    return _targets(_state(state).value)


def is_allowed(from_state: TaskState | str, to_state: TaskState | str) -> bool:
    return _state(to_state) in allowed_transitions(from_state)


def validate_transition(from_state: TaskState | str, to_state: TaskState | str) -> None:
    """Raise :class:`aadap.InvalidTransitionError` (with ``from_state``, ``to_state`` and the
    sorted ``allowed`` targets) unless the edge is whitelisted."""
    _core.validate_transition(_state(from_state).value, _state(to_state).value)


def is_terminal(state: TaskState | str) -> bool:
    return _state(state) in TERMINAL


def phase(state: TaskState | str) -> str:
    return _state(state).phase


def check_entry_limit(state: TaskState | str, previous_entries: int) -> None:
    """INV-03: raise :class:`aadap.LoopDetectedError` (``RetryLimitExceededError`` for
    IN_DEVELOPMENT) if entering ``state`` again would exceed three entries. Failed states and
    CANCELLED are exempt."""
    _core.check_entry_limit(_state(state).value, previous_entries)


class RiskLevel(_StrEnum):
    """NONE < LOW < MEDIUM < HIGH < CRITICAL, compared by ordinal (not alphabetically)."""

    NONE = "NONE"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def ordinal(self) -> int:
        return _RISK_ORDER[self.value]

    def _compare(self, other: object) -> int | None:
        if isinstance(other, str):
            return self.ordinal - RiskLevel(other).ordinal
        return None

    def __lt__(self, other: object) -> bool:
        diff = self._compare(other)
        return NotImplemented if diff is None else diff < 0

    def __le__(self, other: object) -> bool:
        diff = self._compare(other)
        return NotImplemented if diff is None else diff <= 0

    def __gt__(self, other: object) -> bool:
        diff = self._compare(other)
        return NotImplemented if diff is None else diff > 0

    def __ge__(self, other: object) -> bool:
        diff = self._compare(other)
        return NotImplemented if diff is None else diff >= 0

    @property
    def passes_gate(self) -> bool:
        """A safety gate passes iff its risk is below HIGH."""
        return self < RiskLevel.HIGH


_RISK_ORDER = {level.value: i for i, level in enumerate(RiskLevel)}


class OperationType(_StrEnum):
    """Operation types of the autonomy matrix; any other string requires approval."""

    READ_ONLY = "read_only"
    WRITE = "write"
    DESTRUCTIVE = "destructive"
    SCHEMA_CHANGE = "schema_change"
    PERMISSION_CHANGE = "permission_change"


class ApprovalStatus(_StrEnum):
    """Where an approval request stands; only PENDING can be decided."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    ESCALATED = "ESCALATED"


class AuditEventType(_StrEnum):
    """The audit event types of lifecycle.md §7."""

    TASK_CREATED = "task.created"
    STATE_TRANSITION = "state.transition"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_AUTO_APPROVED = "approval.auto_approved"
    APPROVAL_APPROVED = "approval.approved"
    APPROVAL_REJECTED = "approval.rejected"
    APPROVAL_EXPIRED = "approval.expired"
    APPROVAL_ESCALATED = "approval.escalated"
    ARTIFACT_CREATED = "artifact.created"
    EXECUTION_STARTED = "execution.started"
    EXECUTION_FINISHED = "execution.finished"
    TOKENS_CONSUMED = "tokens.consumed"
    GUARD_VIOLATION = "guard.violation"
    TASK_PRUNED = "task.pruned"


def approval_policy(
    environment: str,
    operation_type: OperationType | str,
    risk: RiskLevel | str = RiskLevel.NONE,
) -> _core.ApprovalPolicy:
    """Does this operation need a human? The matrix of lifecycle.md §5 (SANDBOX/PRODUCTION by
    operation type; unknown types fail closed), raised to "required" by HIGH or CRITICAL risk,
    with the routing hint (``route``, ``escalate``)."""
    return _core.approval_policy(str(environment), str(operation_type), str(RiskLevel(risk)))


class MermaidDiagram:
    """Mermaid source of a diagram; renders in Jupyter (text/vnd.mermaid, Markdown fence) and
    prints as its source."""

    def __init__(self, source: str) -> None:
        self.source = source

    def __str__(self) -> str:
        return self.source

    def __repr__(self) -> str:
        return f"MermaidDiagram({len(self.source.splitlines())} lines)"

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.source}\n```"

    def _repr_html_(self) -> str:
        from html import escape

        return f'<pre class="mermaid">{escape(self.source)}</pre>'

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, str]:
        return {
            "text/vnd.mermaid": self.source,
            "text/markdown": self._repr_markdown_(),
            "text/plain": self.source,
        }


def to_mermaid() -> MermaidDiagram:
    """The state machine as a Mermaid state diagram (every whitelisted edge)."""
    lines = ["stateDiagram-v2", "    [*] --> SUBMITTED"]
    for state in TaskState:
        lines += [f"    {state.value} --> {t.value}" for t in sorted(allowed_transitions(state))]
    lines += [f"    {state.value} --> [*]" for state in sorted(TERMINAL)]
    return MermaidDiagram("\n".join(lines))
