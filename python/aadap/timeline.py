"""A task's story in one view: its events, approvals, artifacts, executions and token charges
merged in time order. ``print(engine.timeline(task_id))`` in a terminal; a table in Jupyter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aadap.engine import Engine
    from aadap.snapshots import (
        ApprovalRequest,
        Artifact,
        AuditEvent,
        CostRecord,
        Execution,
        StateTransition,
        Task,
    )

__all__ = ["Timeline", "TimelineEntry"]


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # state, approval, artifact, execution, tokens, refused
    summary: str
    actor: str


@dataclass(frozen=True)
class Timeline:
    task: Task
    events: list[StateTransition]
    approvals: list[ApprovalRequest]
    artifacts: list[Artifact]
    executions: list[Execution]
    costs: list[CostRecord]
    refusals: list[AuditEvent]  # guard.violation events: what the engine refused

    @classmethod
    def of(cls, engine: Engine, task_id: str) -> Timeline:
        return cls(
            engine.get_task(task_id), engine.history(task_id), engine.approvals(task_id),
            engine.artifacts(task_id), engine.executions(task_id), engine.costs(task_id),
            [a for a in engine.audit(task_id) if a.event_type == "guard.violation"],
        )  # fmt: skip

    @property
    def entries(self) -> list[TimelineEntry]:
        """Every happening, oldest first (ties keep the order: events, approvals, ...)."""
        out = [
            TimelineEntry(e.created_at, "state", f"{e.from_state} → {e.to_state}"
                          + (f" ({e.reason})" if e.reason else ""), e.actor)
            for e in self.events
        ]  # fmt: skip
        for a in self.approvals:
            out.append(TimelineEntry(a.created_at, "approval",
                                     f"{a.operation_type} requested (risk {a.risk_level})",
                                     a.requested_by))  # fmt: skip
            if a.decided_at is not None:
                reason = f": {a.decision_reason}" if a.decision_reason else ""
                out.append(TimelineEntry(a.decided_at, "approval", f"{a.status}{reason}",
                                         a.decided_by or ""))  # fmt: skip
        out += [
            TimelineEntry(a.created_at, "artifact",
                          f"{a.artifact_type} {a.name!r} v{a.version} ({a.content_hash[:12]})", "")
            for a in self.artifacts
        ]  # fmt: skip
        for x in self.executions:
            out.append(TimelineEntry(x.created_at, "execution", f"started on {x.platform}", ""))
            if x.completed_at is not None:
                detail = f"{x.status} in {x.duration_ms} ms" + (f": {x.error}" if x.error else "")
                out.append(TimelineEntry(x.completed_at, "execution", detail, ""))
        out += [
            TimelineEntry(c.created_at, "tokens",
                          f"{c.tokens_in} in + {c.tokens_out} out (${c.cost_usd:.4f})",
                          c.agent_type or "")
            for c in self.costs
        ]  # fmt: skip
        out += [
            TimelineEntry(r.created_at, "refused", f"{r.action}: {r.details.get('message', '')}",
                          r.actor)
            for r in self.refusals
        ]  # fmt: skip
        return sorted(out, key=lambda entry: entry.at)

    def __str__(self) -> str:
        t = self.task
        lines = [f"{t.title!r} [{t.id}] {t.state} v{t.version}, {t.environment}, "
                 f"tokens {t.tokens_used}/{t.token_budget}"]  # fmt: skip
        for e in self.entries:
            who = f"  by {e.actor}" if e.actor else ""
            lines.append(f"  {e.at:%H:%M:%S.%f}"[:-3] + f"  {e.kind:<9} {e.summary}{who}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from aadap.notebook import timeline_html

        return timeline_html(self)
