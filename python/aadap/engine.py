"""The task engine: create tasks and move them through the lifecycle, every step persisted as
an immutable event with its audit record (lifecycle.md §2-4).

    eng = aadap.Engine.open("sqlite:///tasks.db")       # or Engine.open() for the default
    t = eng.create_task("Load orders", environment="SANDBOX")
    t = eng.transition(t.id, aadap.TaskState.PARSING, actor="orchestrator",
                       expected_version=t.version)
    eng.history(t.id); eng.verify(t.id)

Embedded SQLite is available now (a file, or ``sqlite:///:memory:``); the PostgreSQL store
arrives next. The store work runs in C++ with the GIL released.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aadap import _core
from aadap._convert import json_object
from aadap.correlation import current_correlation_id
from aadap.governance import Governance
from aadap.lifecycle import TaskState
from aadap.operations import Operations
from aadap.snapshots import AuditEvent, SnapshotList, StateTransition, Task

if TYPE_CHECKING:
    from aadap.timeline import Timeline
    from aadap.vector_memory import VectorMemory

__all__ = ["AuditEvent", "Engine", "StateTransition", "Task", "VerifyReport"]

VerifyReport = _core.VerifyReport


def _strings(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _names(value: TaskState | str | Iterable[TaskState | str] | None) -> list[str]:
    return [TaskState(v).value for v in _strings(value)]


def _stamp(value: datetime | str | None) -> str | None:
    """A datetime as the store's ISO-8601 UTC text; naive datetimes are refused."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise _core.InvalidArgumentError(
            "use an aware datetime (e.g. datetime.now(timezone.utc)), not a naive one"
        )
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Engine(Governance, Operations):
    """The only way to change a task. Thread-safe; several engines (and processes) may share
    one database."""

    def __init__(self, core: _core.EngineCore, url: str, settings: _core.Settings) -> None:
        self._core = core
        self._url = url
        self._settings = settings

    @classmethod
    def open(
        cls,
        url: str | None = None,
        *,
        settings: _core.Settings | None = None,
        working_memory: _core.WorkingMemoryCore | None = None,
    ) -> Engine:
        """Open (creating and migrating when needed) the store at ``url``: ``sqlite:///rel.db``,
        ``sqlite:////abs.db``, ``sqlite:///:memory:`` or a file path. The default is
        AADAP_DATABASE_URL, else ``~/.local/share/aadap/aadap.db``. Checkpoints go to
        ``working_memory`` (a private one by default)."""
        if settings is None:
            from aadap.settings import get_settings

            settings = get_settings()
        if working_memory is None:
            from aadap.working_memory import WorkingMemory

            working_memory = WorkingMemory(settings=settings)
        target = settings.database_url.reveal() if url is None else url
        redacted = _core.DatabaseUrl(target).redacted
        return cls(_core.EngineCore(target, settings, working_memory), redacted, settings)

    def __repr__(self) -> str:
        return f"Engine({self._url!r})"

    def vector_memory(
        self,
        name: str = "default",
        *,
        dimension: int | None = None,
        embedder: _core.Embedder | None = None,
        index: str = "exact",
        hnsw_m: int = 16,
        ef_construction: int = 100,
        ef_search: int = 64,
        snapshot: str | os.PathLike[str] | None = None,
    ) -> VectorMemory:
        """The vector memory ``name`` of this engine's store (SQLite or PostgreSQL), created on
        first use with the embedder's identity and dimension; reopening it with another
        embedder or dimension is refused. The default embedder is the offline
        :class:`HashingEmbedder` of ``dimension`` (AADAP_EMBEDDING_DIMENSION, 1536). The index
        is built from the stored entities here.

        ``index="exact"`` scores every qualifying vector (the reference); ``index="hnsw"``
        walks a FAISS HNSW graph (degree ``hnsw_m``, ``ef_construction``, ``ef_search``) that
        skips disqualified entities during the walk, re-scores its candidates exactly, and
        scans exactly when the filters leave few entities. With ``snapshot`` (a file path)
        the graph is loaded from that file on open (nodes of entities deleted or changed
        since are retired, missing ones added) and written there when it had to be built;
        ``memory.snapshot()`` writes it again (atomically)."""
        from aadap.vector_memory import HashingEmbedder, VectorMemory

        if embedder is None:
            embedder = HashingEmbedder(dimension or self._settings.embedding_dimension)
        elif dimension is not None and dimension != embedder.dimension:
            raise _core.InvalidArgumentError(
                f"dimension {dimension} differs from the embedder's {embedder.dimension}"
            )
        core = self._core.vector_memory(
            name, embedder, self._settings.vector_min_similarity,
            self._settings.vector_max_staleness_days, index, hnsw_m, ef_construction, ef_search,
            "" if snapshot is None else os.fspath(snapshot),
        )  # fmt: skip
        return VectorMemory(core, embedder)

    def create_task(
        self,
        title: str,
        *,
        description: str = "",
        environment: str = "SANDBOX",
        priority: int = 0,
        platform: str | None = None,
        language: str | None = None,
        created_by: str | None = None,
        token_budget: int | None = None,
        metadata: dict[str, Any] | None = None,
        actor: str = "user",
    ) -> Task:
        """A new task in SUBMITTED (version 0), with its ``task.created`` audit event."""
        record = self._core.create_task(
            title, description, environment, priority, platform, language, created_by or actor,
            token_budget, json_object(metadata, "metadata"), actor, current_correlation_id() or "",
        )  # fmt: skip
        return Task(record)

    def transition(
        self,
        task_id: str,
        to_state: TaskState | str,
        *,
        actor: str,
        reason: str = "",
        metadata: dict[str, Any] | None = None,
        expected_version: int | None = None,
        artifact_id: str | None = None,
    ) -> Task:
        """Move a task to ``to_state`` from its stored state, persisted before returning.

        ``artifact_id`` names the code the step is about: required for DEPLOYING (it must be
        the newest version of its code, covered by the task's approved request and by a
        passing validation: INV-01/07); for VALIDATION_PASSED it defaults to the task's newest
        code artifact, which needs a passing validation record. APPROVAL_PENDING, IN_REVIEW,
        APPROVED and REJECTED are entered only through the approval calls.

        Raises InvalidTransitionError / LoopDetectedError / RetryLimitExceededError /
        ApprovalRequiredError (guard violations: nothing changes but one ``guard.violation``
        audit event), ConcurrencyError when ``expected_version`` is not the task's version,
        NotFoundError, InvalidStateError."""
        state = to_state.value if isinstance(to_state, TaskState) else to_state
        record = self._core.transition(
            task_id, state, actor, reason, json_object(metadata, "metadata"), expected_version,
            artifact_id, current_correlation_id() or "",
        )  # fmt: skip
        return Task(record)

    def transition_many(
        self,
        steps: Iterable[Mapping[str, Any] | tuple[str, TaskState | str]],
        *,
        actor: str,
        reason: str = "",
    ) -> SnapshotList[Task]:
        """Many transitions in one commit, all or nothing.

        Each step is ``(task_id, to_state)`` or a dict with ``task_id``, ``to_state`` and
        optionally ``actor``, ``reason``, ``metadata``, ``expected_version``, ``artifact_id``.
        Any refusal rolls back every step and raises as :meth:`transition` would."""
        rows: list[tuple[str, str, str, str, str, int | None, str | None]] = []
        for step in steps:
            spec: Mapping[str, Any] = (
                step if isinstance(step, Mapping) else {"task_id": step[0], "to_state": step[1]}
            )
            rows.append((
                str(spec["task_id"]), TaskState(spec["to_state"]).value,
                str(spec.get("actor", actor)), str(spec.get("reason", reason)),
                json_object(spec.get("metadata"), "metadata"), spec.get("expected_version"),
                spec.get("artifact_id"),
            ))  # fmt: skip
        records = self._core.transition_many(rows, current_correlation_id() or "")
        return SnapshotList.of(Task, records)

    def list_tasks(
        self,
        *,
        state: TaskState | str | Iterable[TaskState | str] | None = None,
        group: str | Iterable[str] | None = None,
        environment: str | None = None,
        platform: str | None = None,
        min_priority: int | None = None,
        max_priority: int | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        order_by: str = "created_at",
        descending: bool = True,
        limit: int = 50,
        offset: int = 0,
    ) -> SnapshotList[Task]:
        """Tasks matching every filter given, newest first by default.

        ``state`` (one or several) and ``group`` (terminal, failed, awaiting_human, working,
        active) combine as "any of"; ``created_after`` is inclusive, ``created_before``
        exclusive (aware datetimes, or ISO-8601 UTC strings); ``order_by`` is created_at,
        updated_at or priority; ``limit`` 1..1000 with ``offset`` for paging."""
        records = self._core.list_tasks(
            _names(state), _strings(group), environment, platform, min_priority, max_priority,
            _stamp(created_after), _stamp(created_before), order_by, descending, limit, offset,
        )  # fmt: skip
        return SnapshotList.of(Task, records)

    def get_task(self, task_id: str) -> Task:
        return Task(self._core.get_task(task_id))

    def history(self, task_id: str) -> SnapshotList[StateTransition]:
        """The task's events, ordered by seq."""
        return SnapshotList.of(StateTransition, self._core.history(task_id))

    def replay(self, task_id: str) -> TaskState:
        """The state the events lead to; StoreError if the chain is broken."""
        return TaskState(self._core.replay(task_id))

    def verify(self, task_id: str) -> _core.VerifyReport:
        """Every break of the event chain and any mismatch with the task row."""
        return self._core.verify(task_id)

    def audit(self, task_id: str | None = None) -> SnapshotList[AuditEvent]:
        """Audit events of one task (all when None), oldest first."""
        return SnapshotList.of(AuditEvent, self._core.audit(task_id or ""))

    def timeline(self, task_id: str) -> Timeline:
        """Everything that happened to a task, in order: events, approvals, artifacts,
        executions and token charges. Renders as a table in Jupyter; prints as text."""
        from aadap.timeline import Timeline

        return Timeline.of(self, task_id)

    def checkpoint(self, task_id: str) -> dict[str, Any]:
        """The task's latest checkpoint (never stale: rebuilt from the store when needed)."""
        result: dict[str, Any] = json.loads(self._core.checkpoint(task_id))
        return result
