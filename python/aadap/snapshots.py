"""Immutable snapshots of stored rows: Task, StateTransition, AuditEvent.

A snapshot keeps the row exactly as the store returned it (a tuple of str/int/None) and
decodes a field only when it is read: states become :class:`~aadap.TaskState`, timestamps
aware UTC datetimes, JSON columns fresh dicts. Handing back a page of rows therefore costs one
small object per row, and reading a field costs what decoding it costs, once per read.

Snapshots compare and hash by their row, pickle, and convert with ``to_dict()``; a list of
them (:class:`SnapshotList`) renders as a table in Jupyter and converts with ``to_pandas()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

from aadap.lifecycle import ApprovalStatus, RiskLevel, TaskState

if TYPE_CHECKING:
    import pandas

__all__ = [
    "ApprovalRequest", "Artifact", "AuditEvent", "CostRecord", "Execution", "PlatformResource",
    "SnapshotList", "StateTransition", "Task", "TaskLog",
]  # fmt: skip

T = TypeVar("T")
S = TypeVar("S", bound="Snapshot")

_STATES: dict[str, TaskState] = {s.value: s for s in TaskState}


def _state(text: str) -> TaskState:
    return _STATES[text]


def _time(text: str) -> datetime:
    # The store writes 2026-11-25T21:40:04.123Z; fromisoformat takes "Z" only from 3.11 on.
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=timezone.utc)


def _json(text: str) -> dict[str, Any]:
    value: dict[str, Any] = {} if text == "{}" else json.loads(text)
    return value


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


class _Column(Generic[T]):
    """One field of a snapshot: position in the row and how to decode it."""

    __slots__ = ("decode", "index", "name")

    def __init__(self, index: int, decode: Callable[[Any], T] | None = None) -> None:
        self.index = index
        self.decode = decode
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, snapshot: None, owner: type) -> _Column[T]: ...
    @overload
    def __get__(self, snapshot: Snapshot, owner: type) -> T: ...
    def __get__(self, snapshot: Snapshot | None, owner: type) -> T | _Column[T]:
        if snapshot is None:
            return self
        value = snapshot._row[self.index]
        return value if self.decode is None else self.decode(value)


class Snapshot:
    """Base of the immutable, lazily decoded snapshots."""

    __slots__ = ("_row",)
    _row: tuple[Any, ...]
    _fields: ClassVar[tuple[str, ...]] = ()
    _summary: ClassVar[tuple[str, ...]] = ()  # the columns of a table of many

    def __init__(self, row: tuple[Any, ...]) -> None:
        object.__setattr__(self, "_row", row)

    def __init_subclass__(cls) -> None:
        cls._fields = tuple(n for n, v in vars(cls).items() if isinstance(v, _Column))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is an immutable snapshot")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is an immutable snapshot")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Snapshot)
        return self._row == other._row

    def __hash__(self) -> int:
        return hash(self._row)

    def __reduce__(self) -> tuple[type, tuple[tuple[Any, ...]]]:
        return type(self), (self._row,)

    def to_dict(self) -> dict[str, Any]:
        """Every field, decoded."""
        return {name: getattr(self, name) for name in self._fields}

    def _repr_html_(self) -> str:
        from aadap.notebook import snapshot_html

        return snapshot_html(self)


class Task(Snapshot):
    """An immutable snapshot of a task."""

    __slots__ = ()
    _summary = ("id", "title", "state", "version", "environment", "priority", "updated_at")
    id = _Column[str](0)
    title = _Column[str](1)
    description = _Column[str](2)
    state = _Column(3, _state)
    priority = _Column[int](4)
    environment = _Column[str](5)
    platform = _Column[str | None](6)
    language = _Column[str | None](7)
    created_by = _Column[str](8)
    token_budget = _Column[int](9)
    tokens_used = _Column[int](10)
    retry_count = _Column[int](11)
    version = _Column[int](12)
    metadata = _Column(13, _json)
    created_at = _Column(14, _time)
    updated_at = _Column(15, _time)

    def __repr__(self) -> str:
        return f"Task({self.id[:8]}…, {self.title!r}, {self.state.value}, v{self.version})"


class StateTransition(Snapshot):
    """One immutable event of a task's history."""

    __slots__ = ()
    _summary = ("seq", "from_state", "to_state", "actor", "reason", "created_at")
    id = _Column[str](0)
    task_id = _Column[str](1)
    seq = _Column[int](2)
    from_state = _Column(3, _state)
    to_state = _Column(4, _state)
    actor = _Column[str](5)
    reason = _Column[str](6)
    metadata = _Column(7, _json)
    correlation_id = _Column[str | None](8)
    created_at = _Column(9, _time)

    def __repr__(self) -> str:
        return f"StateTransition(#{self.seq} {self.from_state.value} → {self.to_state.value})"


class AuditEvent(Snapshot):
    """One audit record."""

    __slots__ = ()
    _summary = ("created_at", "event_type", "actor", "action", "task_id")
    id = _Column[str](0)
    correlation_id = _Column[str | None](1)
    task_id = _Column[str | None](2)
    event_type = _Column[str](3)
    actor = _Column[str](4)
    action = _Column[str](5)
    resource_type = _Column[str | None](6)
    resource_id = _Column[str | None](7)
    details = _Column(8, _json)
    created_at = _Column(9, _time)

    def __repr__(self) -> str:
        return f"AuditEvent({self.event_type}, {self.actor!r}, {self.action!r})"


class Artifact(Snapshot):
    """An immutable artifact: code, a validation report, a decision explanation, ...

    ``content_hash`` is the SHA-256 of the UTF-8 content; an edit is a new artifact with
    ``parent_id`` set and the next ``version`` of its lineage."""

    __slots__ = ()
    _summary = ("artifact_type", "name", "version", "content_hash", "created_at")
    id = _Column[str](0)
    task_id = _Column[str](1)
    artifact_type = _Column[str](2)
    name = _Column[str](3)
    content = _Column[str](4)
    content_hash = _Column[str](5)
    storage_uri = _Column[str | None](6)
    version = _Column[int](7)
    parent_id = _Column[str | None](8)
    edit_message = _Column[str | None](9)
    metadata = _Column(10, _json)
    created_at = _Column(11, _time)

    def json(self) -> Any:
        """The content parsed as JSON (validation reports, decision explanations)."""
        return json.loads(self.content)

    def __repr__(self) -> str:
        kind, name, short = self.artifact_type, self.name, self.content_hash[:12]
        return f"Artifact({kind} {name!r} v{self.version}, {short}…)"


class ApprovalRequest(Snapshot):
    """An approval request and its decision (lifecycle.md §5)."""

    __slots__ = ()
    _summary = (
        "operation_type",
        "status",
        "risk_level",
        "requested_by",
        "decided_by",
        "expires_at",
    )
    id = _Column[str](0)
    task_id = _Column[str](1)
    operation_type = _Column[str](2)
    environment = _Column[str](3)
    status = _Column(4, ApprovalStatus)
    requested_by = _Column[str](5)
    decided_by = _Column[str | None](6)
    decision_reason = _Column[str | None](7)
    risk_level = _Column(8, RiskLevel)
    artifact_id = _Column[str | None](9)
    artifact_hash = _Column[str | None](10)
    explanation_artifact_id = _Column[str | None](11)
    metadata = _Column(12, _json)
    created_at = _Column(13, _time)
    decided_at = _Column(14, _optional_time)
    expires_at = _Column(15, _optional_time)

    @property
    def route(self) -> list[str]:
        """Who should decide: team_lead, security_admin, platform_admin (by risk)."""
        route: list[str] = self.metadata.get("route", [])
        return route

    def __repr__(self) -> str:
        by = f" by {self.decided_by}" if self.decided_by else ""
        return f"ApprovalRequest({self.operation_type}, {self.status}{by})"


class Execution(Snapshot):
    """One run of a task's code on a platform."""

    __slots__ = ()
    _summary = ("platform", "status", "environment", "duration_ms", "started_at")
    id = _Column[str](0)
    task_id = _Column[str](1)
    environment = _Column[str](2)
    platform = _Column[str | None](3)
    status = _Column[str](4)
    code_artifact_id = _Column[str | None](5)
    output = _Column[str | None](6)
    error = _Column[str | None](7)
    duration_ms = _Column[int | None](8)
    metadata = _Column(9, _json)
    started_at = _Column(10, _optional_time)
    completed_at = _Column(11, _optional_time)
    created_at = _Column(12, _time)

    def __repr__(self) -> str:
        return f"Execution({self.platform}, {self.status}, {self.environment})"


class CostRecord(Snapshot):
    """One token charge of a task (INV-04)."""

    __slots__ = ()
    _summary = ("agent_type", "tokens_in", "tokens_out", "cost_usd", "created_at")
    id = _Column[str](0)
    task_id = _Column[str](1)
    agent_type = _Column[str | None](2)
    tokens_in = _Column[int](3)
    tokens_out = _Column[int](4)
    cost_usd = _Column[float](5)
    created_at = _Column(6, _time)

    def __repr__(self) -> str:
        return f"CostRecord({self.tokens_in} in, {self.tokens_out} out, ${self.cost_usd:.4f})"


class PlatformResource(Snapshot):
    """A resource a task created on a platform (a job, a notebook, a table, ...)."""

    __slots__ = ()
    _summary = ("platform", "resource_type", "platform_resource_id", "status", "updated_at")
    id = _Column[str](0)
    task_id = _Column[str](1)
    platform = _Column[str](2)
    resource_type = _Column[str](3)
    platform_resource_id = _Column[str](4)
    definition = _Column(5, _json)
    status = _Column[str](6)
    metadata = _Column(7, _json)
    created_at = _Column(8, _time)
    updated_at = _Column(9, _time)

    def __repr__(self) -> str:
        what = f"{self.platform} {self.resource_type} {self.platform_resource_id}"
        return f"PlatformResource({what}, {self.status})"


class TaskLog(Snapshot):
    """One log line kept with a task."""

    __slots__ = ()
    _summary = ("created_at", "level", "source", "message")
    id = _Column[str](0)
    task_id = _Column[str](1)
    level = _Column[str](2)
    message = _Column[str](3)
    correlation_id = _Column[str | None](4)
    source = _Column[str | None](5)
    created_at = _Column(6, _time)

    def __repr__(self) -> str:
        return f"TaskLog({self.level}: {self.message[:60]!r})"


class SnapshotList(list[S]):
    """A list of snapshots that renders as a table in Jupyter and converts to pandas."""

    @classmethod
    def of(cls, kind: type[S], rows: Iterable[tuple[Any, ...]]) -> SnapshotList[S]:
        return cls(map(kind, rows))

    def to_pandas(self) -> pandas.DataFrame:
        """One row per snapshot, one column per field (pandas must be installed)."""
        import pandas

        frame: pandas.DataFrame = pandas.DataFrame([s.to_dict() for s in self])
        return frame

    def _repr_html_(self) -> str:
        from aadap.notebook import snapshots_html

        return snapshots_html(self)
