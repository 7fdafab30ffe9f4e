"""``python -m aadap demo``: the governed lifecycle end to end, offline, in seconds.

On an embedded SQLite store it drives six tasks through the lifecycle: a read-only report
auto-approved and deployed on the ``local`` platform (the SQL really runs, in a throwaway
SQLite database); a destructive purge that stops at APPROVAL_PENDING until a human approves
it; a schema change rejected, reworked and approved; an LLM task refused by its token budget;
a parser stuck in a loop and stopped by the loop guard; and code edited after its approval,
refused at deployment. It prints each timeline, the audit trail and verify(), then one
summary line per task.
"""

from __future__ import annotations

import collections
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import aadap
from aadap.engine import Engine
from aadap.local_platform import LocalPlatform

__all__ = ["run_demo"]

TO_VALIDATION = [
    "PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT", "AGENT_ASSIGNED",
    "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION",
]  # fmt: skip

REPORT_SQL = """
WITH sales (day, region, amount) AS (VALUES
  ('2026-11-23', 'north', 120.0), ('2026-11-23', 'south', 80.5),
  ('2026-11-24', 'north', 95.0), ('2026-11-24', 'south', 130.25))
SELECT day, round(sum(amount), 2) AS revenue, count(*) AS orders
FROM sales GROUP BY day ORDER BY day
"""
PURGE_SQL = """
CREATE TABLE staging (id INTEGER PRIMARY KEY, loaded_at TEXT);
INSERT INTO staging (loaded_at) VALUES ('2025-12-30'), ('2026-02-01'), ('2026-11-20');
DELETE FROM staging WHERE loaded_at < '2026-01-01';
SELECT count(*) AS remaining FROM staging
"""
RENAME_V1 = "ALTER TABLE customers RENAME COLUMN nm TO name"
RENAME_V2 = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, nm TEXT);
INSERT INTO customers (nm) VALUES ('Ada'), ('Grace');
ALTER TABLE customers RENAME COLUMN nm TO name;
SELECT id, name FROM customers ORDER BY id
"""


class _Demo:
    def __init__(self, engine: Engine, local: LocalPlatform, out: TextIO) -> None:
        self.engine, self.local, self.out = engine, local, out
        self.tasks: list[str] = []

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def new(self, title: str, **kwargs: object) -> str:
        task = self.engine.create_task(title, platform="local", language="sql", **kwargs)  # type: ignore[arg-type]
        self.tasks.append(task.id)
        self.say(f"\n=== {title}")
        return task.id

    def walk(self, task_id: str, *states: str, actor: str = "orchestrator") -> None:
        for state in states:
            self.engine.transition(task_id, state, actor=actor)

    def code(self, task_id: str, sql: str, *, risk: str = "LOW") -> aadap.Artifact:
        """Generated code, validated, and the task moved to VALIDATION_PASSED."""
        self.walk(task_id, *TO_VALIDATION)
        artifact = self.engine.add_artifact(task_id, "generated_code", "job.sql", sql.strip(),
                                            actor="developer-agent")  # fmt: skip
        self.engine.record_validation(artifact.id, True, risk_level=risk, summary="gates passed")
        self.engine.transition(task_id, "VALIDATION_PASSED", actor="validator")
        return artifact

    def deploy(self, task_id: str, artifact_id: str) -> None:
        execution, result = self.local.deploy(task_id, artifact_id)
        self.say(f"deployed on the local platform: {execution.status}, {execution.output}")
        if result is not None:
            self.say(f"  {result.columns}")
            for row in result.rows:
                self.say(f"  {row}")
        self.engine.transition(task_id, "COMPLETED", actor="orchestrator")

    def refused(self, what: str, action: Callable[[], object]) -> None:
        try:
            action()
        except aadap.AadapError as error:
            self.say(f"refused ({type(error).__name__}): {what}: {error}")
        else:
            raise AssertionError(f"the engine allowed {what}")

    # ---- the six stories ------------------------------------------------------------------

    def read_only_report(self) -> None:
        task = self.new("Daily revenue report")
        code = self.code(task, REPORT_SQL, risk="NONE")
        why = {"chosen_approach": "one GROUP BY over the day's sales"}
        request = self.engine.request_approval(
            task, "read_only", "pipeline", artifact_id=code.id, explanation=why
        )
        self.say(f"approval: {request.status} by {request.decided_by} ({request.decision_reason})")
        self.deploy(task, code.id)

    def destructive_purge(self) -> None:
        task = self.new("Purge stale staging rows")
        code = self.code(task, PURGE_SQL, risk="MEDIUM")
        request = self.engine.request_approval(
            task, "destructive", "pipeline", artifact_id=code.id, risk_level="MEDIUM",
            findings=[{"gate": "static", "line": 3, "pattern": "DELETE FROM",
                       "severity": "MEDIUM", "description": "deletes rows (with a WHERE)"}],
            explanation={"chosen_approach": "DELETE with a date filter",
                         "alternatives_considered": ["TRUNCATE and reload"],
                         "decision_reason": "keeps this year's rows"},
        )  # fmt: skip
        self.say(f"stopped at {self.engine.get_task(task).state}: waiting for "
                 f"{', '.join(request.route)} (request {request.status})")  # fmt: skip
        self.refused("the requester approving their own request",
                     lambda: self.engine.approve(request.id, "pipeline"))  # fmt: skip
        self.engine.approve(request.id, "alice", "checked the filter")
        self.say("approved by alice")
        self.deploy(task, code.id)

    def rejected_and_reworked(self) -> None:
        task = self.new("Rename customer columns")
        first = self.code(task, RENAME_V1)
        request = self.engine.request_approval(task, "schema_change", "pipeline",
                                               artifact_id=first.id)  # fmt: skip
        self.engine.reject(request.id, "bob", "the table must exist in the sandbox first")
        self.say("rejected by bob; reworking")
        self.walk(task, "IN_DEVELOPMENT")
        second = self.engine.edit_artifact(first.id, RENAME_V2.strip(), edit_message="create first",
                                           actor="developer-agent")  # fmt: skip
        self.walk(task, "CODE_GENERATED", "IN_VALIDATION")
        self.engine.record_validation(second.id, True, risk_level="LOW")
        self.engine.transition(task, "VALIDATION_PASSED", actor="validator")
        request = self.engine.request_approval(task, "schema_change", "pipeline",
                                               artifact_id=second.id)  # fmt: skip
        self.engine.approve(request.id, "bob", "now it is safe")
        self.say(f"v{second.version} approved by bob")
        self.deploy(task, second.id)

    def token_budget(self) -> None:
        task = self.new("Summarise support tickets", token_budget=2_000)
        self.walk(task, *TO_VALIDATION[:7])
        self.engine.consume_tokens(task, 1_200, 300, agent_type="developer")
        self.say("charged 1,500 tokens of 2,000")
        self.refused(
            "a call needing 800 more tokens",
            lambda: self.engine.consume_tokens(task, 700, 100, agent_type="developer"),
        )
        self.walk(task, "DEV_FAILED", "CANCELLED")

    def loop_guard(self) -> None:
        task = self.new("Parse a malformed request")
        self.walk(task, "PARSING", "PARSE_FAILED", "PARSING", "PARSE_FAILED", "PARSING",
                  "PARSE_FAILED")  # fmt: skip
        self.refused("a fourth parse attempt", lambda: self.walk(task, "PARSING"))
        self.walk(task, "CANCELLED")

    def edited_after_approval(self) -> None:
        task = self.new("Tweak after approval")
        code = self.code(task, PURGE_SQL)
        request = self.engine.request_approval(task, "destructive", "pipeline",
                                               artifact_id=code.id)  # fmt: skip
        self.engine.approve(request.id, "alice")
        edited = self.engine.edit_artifact(code.id, PURGE_SQL.replace("2026-01-01", "2026-06-01"),
                                           edit_message="wider purge")  # fmt: skip
        self.engine.record_validation(edited.id, True, risk_level="MEDIUM")
        self.say("code edited after approval (v2)")
        self.refused("deploying v2, which nobody approved", lambda: self.engine.transition(
            task, "DEPLOYING", actor="deployer", artifact_id=edited.id))  # fmt: skip
        self.refused("deploying v1, which is no longer the newest code",
                     lambda: self.engine.transition(task, "DEPLOYING", actor="deployer",
                                                    artifact_id=code.id))  # fmt: skip
        self.walk(task, "CANCELLED")

    def report(self) -> list[tuple[str, str]]:
        summary = []
        for task_id in self.tasks:
            timeline = self.engine.timeline(task_id)
            verify = self.engine.verify(task_id)
            kinds = collections.Counter(str(a.event_type) for a in self.engine.audit(task_id))
            self.say("\n" + str(timeline))
            self.say("  audit: " + ", ".join(f"{k} x{n}" for k, n in sorted(kinds.items())))
            self.say(f"  verify: {'ok' if verify.ok else verify.problems}")
            summary.append((timeline.task.title, timeline.task.state.value))
        self.say("\nSummary")
        for title, state in summary:
            self.say(f"  {title:<32} {state}")
        return summary


def run_demo(database: str | Path | None = None, out: TextIO = sys.stdout) -> list[tuple[str, str]]:
    """Run the demo on ``database`` (a SQLite file; a temporary one by default) and return
    (title, final state) per task."""
    with tempfile.TemporaryDirectory(prefix="aadap-demo-") as tmp:
        path = Path(database) if database is not None else Path(tmp) / "demo.db"
        engine = Engine.open(f"sqlite:///{path.resolve()}")
        demo = _Demo(engine, LocalPlatform(engine, directory=tmp), out)
        demo.read_only_report()
        demo.destructive_purge()
        demo.rejected_and_reworked()
        demo.token_budget()
        demo.loop_guard()
        demo.edited_after_approval()
        return demo.report()
