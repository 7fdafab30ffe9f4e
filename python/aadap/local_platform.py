"""The ``local`` platform (platforms.md §8): an offline SANDBOX target that runs SQL in a
SQLite database on this machine, so a task can be deployed for real without any cloud.

    local = aadap.LocalPlatform(engine)                  # a throwaway database per task
    execution, result = local.deploy(task.id, code.id)   # DEPLOYING → run → DEPLOYED
    local.sql("SELECT count(*) FROM orders", task_id=task.id).to_pandas()

Deployment goes through the engine's gates (INV-01/07: the approved, validated, newest code)
and records an execution; a PRODUCTION task is refused before anything happens (INV-05).
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from aadap import _core
from aadap.engine import Engine
from aadap.lifecycle import TaskState
from aadap.results import SqlResult
from aadap.snapshots import Execution

__all__ = ["LocalPlatform"]


class LocalPlatform:
    """SQL on SQLite, one database per task under ``directory`` (a temporary directory that
    lives as long as this object, by default), or one shared ``database`` file."""

    def __init__(
        self,
        engine: Engine,
        *,
        directory: str | Path | None = None,
        database: str | Path | None = None,
        max_rows: int = 10_000,
    ) -> None:
        if max_rows < 1:
            raise _core.InvalidArgumentError("max_rows must be at least 1")
        self._engine = engine
        self._max_rows = max_rows
        self._database = Path(database) if database is not None else None
        self._tmp = (
            tempfile.TemporaryDirectory(prefix="aadap-local-") if directory is None else None
        )
        self._directory = Path(self._tmp.name if self._tmp is not None else str(directory))

    def __repr__(self) -> str:
        where = self._database or self._directory
        return f"LocalPlatform({str(where)!r})"

    def database_path(self, task_id: str | None = None) -> Path:
        """Where the SQL of ``task_id`` runs."""
        if self._database is not None:
            return self._database
        if task_id is None:
            return self._directory / "scratch.db"
        if not re.fullmatch(r"[0-9A-Za-z-]{1,64}", task_id):
            raise _core.InvalidArgumentError(f"not a task id: {task_id[:80]!r}")
        return self._directory / f"task-{task_id}.db"

    def sql(self, script: str, *, task_id: str | None = None) -> SqlResult:
        """Run a SQL script (statements separated by ``;``, all or nothing) and return the rows
        of its last query. PlatformError carries SQLite's message and the statement number."""
        if not isinstance(script, str) or not script.strip():
            raise _core.InvalidArgumentError("the SQL script is empty")
        out = _core.run_local_sql(str(self.database_path(task_id)), script, self._max_rows)
        return SqlResult(
            columns=out["columns"], rows=out["rows"], column_types=out["column_types"],
            truncated=out["truncated"], rows_changed=out["rows_changed"], platform="local",
        )  # fmt: skip

    def deploy(
        self, task_id: str, artifact_id: str, *, actor: str = "deployer"
    ) -> tuple[Execution, SqlResult | None]:
        """Deploy an approved SQL artifact: APPROVED → DEPLOYING (the engine's gates), run it
        in the task's database recording an execution, then → DEPLOYED, or → DEV_FAILED
        with the error when the SQL fails. Returns the execution and the result (None when
        it failed)."""
        task = self._engine.get_task(task_id)
        if task.environment != "SANDBOX":
            raise _core.PlatformError(
                f"task {task_id} is {task.environment}: the local platform is a SANDBOX-only "
                "target and never runs PRODUCTION tasks (INV-05)"
            )
        if task.language not in (None, "sql"):
            raise _core.PlatformError(
                f"the local platform runs SQL; task {task_id} is written in {task.language}"
            )
        code = self._engine.get_artifact(artifact_id)
        self._engine.transition(task_id, TaskState.DEPLOYING, actor=actor, artifact_id=code.id)
        execution = self._engine.start_execution(
            task_id, platform="local", code_artifact_id=code.id, actor=actor,
            metadata={"database": str(self.database_path(task_id))},
        )  # fmt: skip
        try:
            result = self.sql(code.content, task_id=task_id)
        except _core.PlatformError as error:
            execution = self._engine.finish_execution(
                execution.id, "FAILED", error=str(error), actor=actor
            )
            self._engine.transition(task_id, TaskState.DEV_FAILED, actor=actor, reason=str(error))
            return execution, None
        summary = f"{len(result)} rows, {result.rows_changed} rows changed"
        execution = self._engine.finish_execution(
            execution.id, "SUCCESS", output=summary, actor=actor,
            metadata={"columns": result.columns, "truncated": result.truncated},
        )  # fmt: skip
        self._engine.transition(task_id, TaskState.DEPLOYED, actor=actor, reason=summary)
        return execution, result
