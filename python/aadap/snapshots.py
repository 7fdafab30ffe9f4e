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

from aadap.lifecycle import TaskState

if TYPE_CHECKING:
    import pandas

__all__ = ["AuditEvent", "SnapshotList", "StateTransition", "Task"]

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


class SnapshotList(list[S]):
    """A list of snapshots that renders as a table in Jupyter and converts to pandas."""

    @classmethod
    def of(cls, kind: type[S], rows: Iterable[tuple[Any, ...]]) -> SnapshotList[S]:
        return cls(map(kind, rows))

    def to_pandas(self) -> pandas.DataFrame:
        """One row per snapshot, one column per field (pandas must be installed)."""
        import pandas

        columns = type(self[0])._fields if self else ()
        frame: pandas.DataFrame = pandas.DataFrame(
            [s.to_dict() for s in self], columns=list(columns)
        )
        return frame

    def _repr_html_(self) -> str:
        from aadap.notebook import snapshots_html

        return snapshots_html(self)
