"""Executions, token charges, platform resources, task logs and retention on the engine.

Mixed into :class:`aadap.Engine`; see its documentation for the whole API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from aadap._convert import json_object
from aadap.correlation import current_correlation_id
from aadap.snapshots import CostRecord, Execution, PlatformResource, SnapshotList, TaskLog

if TYPE_CHECKING:
    from aadap import _core

__all__ = ["Operations"]


def _cutoff(older_than: datetime | timedelta | str) -> str:
    from aadap import _core

    if isinstance(older_than, str):
        return older_than
    if isinstance(older_than, timedelta):
        older_than = datetime.now(timezone.utc) - older_than
    if not isinstance(older_than, datetime):
        raise _core.InvalidTypeError(
            f"older_than is a datetime, timedelta or ISO-8601 string, not "
            f"{type(older_than).__name__}"
        )
    if older_than.tzinfo is None:
        raise _core.InvalidArgumentError("use an aware datetime (UTC), not a naive one")
    return older_than.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Operations:
    """Executions, tokens, resources, logs and prune; mixed into Engine."""

    _core: _core.EngineCore

    def start_execution(
        self,
        task_id: str,
        *,
        platform: str | None = None,
        code_artifact_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        actor: str = "engine",
    ) -> Execution:
        """A RUNNING execution of the task's code; its environment is the task's (INV-05)."""
        row = self._core.start_execution(
            task_id, platform, code_artifact_id, json_object(metadata, "metadata"),
            actor, current_correlation_id() or "",
        )  # fmt: skip
        return Execution(row)

    def finish_execution(
        self,
        execution_id: str,
        status: str,
        *,
        output: str | None = None,
        error: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        actor: str = "engine",
    ) -> Execution:
        """Record the end of an execution: SUCCESS, FAILED or CANCELLED, with its output or
        error; ``metadata`` (platform job or statement ids) is merged into the execution's."""
        row = self._core.finish_execution(
            execution_id, status, output, error, json_object(metadata, "metadata"),
            actor, current_correlation_id() or "",
        )  # fmt: skip
        return Execution(row)

    def executions(self, task_id: str) -> SnapshotList[Execution]:
        return SnapshotList.of(Execution, self._core.executions(task_id))

    def consume_tokens(
        self,
        task_id: str,
        tokens_in: int,
        tokens_out: int = 0,
        *,
        agent_type: str | None = None,
        actor: str = "llm",
    ) -> CostRecord:
        """Charge tokens to the task's budget (INV-04), atomically, with a cost record priced by
        AADAP_LLM_PRICE_INPUT_PER_1K / _OUTPUT_PER_1K. TokenBudgetExceededError (nothing
        charged, the refusal audited) when the charge would pass the budget; using exactly
        the budget is allowed."""
        row = self._core.consume_tokens(
            task_id, tokens_in, tokens_out, agent_type, actor, current_correlation_id() or ""
        )
        return CostRecord(row)

    def costs(self, task_id: str) -> SnapshotList[CostRecord]:
        return SnapshotList.of(CostRecord, self._core.costs(task_id))

    def record_resource(
        self,
        task_id: str,
        platform: str,
        resource_type: str,
        platform_resource_id: str,
        *,
        definition: Mapping[str, Any] | None = None,
        status: str = "CREATED",
        metadata: Mapping[str, Any] | None = None,
    ) -> PlatformResource:
        """Record (or update, keyed by platform and its id) a resource the task created."""
        row = self._core.record_resource(
            task_id, platform, resource_type, platform_resource_id,
            json_object(definition, "definition"), status,
            json_object(metadata, "metadata"),
        )  # fmt: skip
        return PlatformResource(row)

    def resources(self, task_id: str) -> SnapshotList[PlatformResource]:
        return SnapshotList.of(PlatformResource, self._core.resources(task_id))

    def log(
        self, task_id: str, message: str, *, level: str = "INFO", source: str | None = None
    ) -> TaskLog:
        """Keep a log line with the task (DEBUG, INFO, WARNING, ERROR, CRITICAL)."""
        row = self._core.log(task_id, level, message, source, current_correlation_id() or "")
        return TaskLog(row)

    def logs(self, task_id: str) -> SnapshotList[TaskLog]:
        return SnapshotList.of(TaskLog, self._core.logs(task_id))

    def prune(
        self, older_than: datetime | timedelta | str, *, actor: str = "retention"
    ) -> list[str]:
        """Remove COMPLETED and CANCELLED tasks last updated before ``older_than`` (a time, or an
        age such as ``timedelta(days=90)``) with their events, artifacts, approvals,
        executions, resources, logs and costs. Their audit events stay (task_id set to null)
        and one ``task.pruned`` event is written per task. Returns the pruned task ids."""
        return self._core.prune(_cutoff(older_than), actor, current_correlation_id() or "")
