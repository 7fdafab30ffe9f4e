"""The job scheduler of :class:`~aadap.testing.FakeFabric` (cloud-apis.md B10.5): job instances
that move NotStarted → InProgress → Completed / Failed / Cancelled / Deduped over a set number
of polls, or end on their own once the fake's clock passes their deadline, with an outcome
scripted by the test or read from the notebook's code."""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aadap.testing.fabric._items import NotebookCode

JOB_TYPES: Mapping[str, tuple[str, ...]] = {
    "Notebook": ("RunNotebook", "Execute"),
    "DataPipeline": ("Pipeline",),
    "SparkJobDefinition": ("sparkjob",),
    "Lakehouse": ("TableMaintenance",),
}
"""Job types each item type runs (matched case-insensitively; instances report these
spellings). Others get 400 ``InvalidJobType``."""

TERMINAL_STATUSES = ("Completed", "Failed", "Cancelled", "Deduped")
"""The statuses a job instance ends in."""
PARAMETER_TYPES = frozenset(
    {"VariableReference", "Integer", "Number", "Text", "Boolean", "DateTime", "Guid", "Automatic"}
)
"""Allowed ``type`` values of the job API's top-level ``parameters``."""

_RAISE = re.compile(r"\braise\b(?:\s+([A-Za-z_][\w.]*)\s*(?:\((.*)\))?)?")
# the argument runs to the line's last ")": exit(str(df.count())) reports str(df.count())
_EXIT = re.compile(r"\b(?:notebookutils|mssparkutils)\.notebook\.exit\(\s*(.*)\s*\)")
_FAIL = re.compile(r"\bFAIL\b")
_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")
_COMMENTS = ("#", "//", "--")
_TRAILING_COMMENT = {"python": "#", "r": "#", "scala": "//", "sql": "--"}


@dataclass(frozen=True)
class JobOutcome:
    """How a job instance ends: ``status`` is Completed, Failed, Cancelled or Deduped;
    ``exit_value`` is a Completed notebook's ``exitValue``; a Failed one reports
    ``failureReason`` ``{requestId, errorCode, message}``."""

    status: str
    exit_value: str | None = None
    error_code: str = "JobInstanceStatusFailed"
    message: str = "Job instance failed without detail error"


@dataclass(frozen=True)
class JobInstance:
    """A job instance as the fake sees it. ``job_type`` is the canonical spelling;
    ``route`` tells how it was started: ``query`` (``jobs/instances?jobType=``), ``path``
    (``jobs/{jobType}/instances``), ``execute`` (the notebook ``jobs/execute/instances``) or
    ``tableMaintenance`` (the lakehouse route). ``body`` is the request body as sent (None when
    empty); ``execution_data`` and ``parameters`` are its fields. ``polls`` counts the GETs of
    the instance so far. ``start_time``/``end_time`` are on the wire format (end None while
    running): an instance nobody polls still ends at its deadline (``job_seconds``)."""

    id: str
    item_id: str
    workspace_id: str
    job_type: str
    route: str
    status: str
    outcome: JobOutcome
    body: Any
    execution_data: Any
    parameters: Any
    polls: int
    start_time: str
    end_time: str | None
    failure_reason: dict[str, Any] | None


@dataclass
class Job:
    """The fake's record of one job instance (guarded by the fake's lock)."""

    id: str
    item_id: str
    workspace_id: str
    job_type: str
    route: str
    outcome: JobOutcome
    polls_needed: int
    body: Any
    root_activity_id: str
    started: float
    deadline: float | None = None
    """When it ends on its own, polled or not (the fake's clock; None: only polls end it)."""
    compute: str = "Spark"
    status: str = "NotStarted"
    polls: int = 0
    ended: float | None = None
    failure_reason: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def poll(self, now: float, request_id: str) -> None:
        """One GET of the instance: the next step of the progression."""
        self.polls += 1
        if self.done:
            return
        if self.polls <= self.polls_needed:
            self.status = (
                "NotStarted" if self.polls == 1 and self.polls_needed > 1 else "InProgress"
            )
            return
        self.finish(self.outcome.status, now, request_id)

    def expire(self, now: float, request_id: str) -> None:
        """Ends the instance with its outcome, at its deadline, once ``now`` has passed it."""
        if not self.done and self.deadline is not None and now >= self.deadline:
            self.finish(self.outcome.status, self.deadline, request_id)

    def finish(self, status: str, now: float, request_id: str) -> None:
        self.status, self.ended = status, now
        if status == "Failed":
            self.failure_reason = {
                "requestId": request_id,
                "errorCode": self.outcome.error_code,
                "message": self.outcome.message,
            }

    def to_json(self, *, beta: bool = False) -> dict[str, Any]:
        """The ItemJobInstance body; ``beta``: the notebook beta GET's NotebookJobInstance,
        with ``properties`` (``exitValue``, ``compute``, ``computeDetails``)."""
        body: dict[str, Any] = {
            "id": self.id,
            "itemId": self.item_id,
            "jobType": self.job_type,
            "invokeType": "Manual",
            "status": self.status,
            "rootActivityId": self.root_activity_id,
            "startTimeUtc": job_time(self.started),
            "endTimeUtc": None if self.ended is None else job_time(self.ended),
            "failureReason": self.failure_reason,
        }
        if beta:
            exit_value = self.outcome.exit_value if self.status == "Completed" else None
            details: dict[str, Any]
            if self.compute == "Spark":
                details = {
                    "livyId": self.root_activity_id,
                    "monitoringInfo": {
                        "sparkUiUrl": f"https://app.fabric.microsoft.com/sparkui/{self.id}",
                        "executionSnapshotUrl": (
                            f"https://app.fabric.microsoft.com/snapshot/{self.id}"
                        ),
                    },
                }
            else:
                details = {
                    "executionSnapshotUrl": f"https://app.fabric.microsoft.com/snapshot/{self.id}"
                }
            body["properties"] = {
                "exitValue": exit_value,
                "compute": self.compute,
                "computeDetails": details,
            }
        return body

    def snapshot(self) -> JobInstance:
        body = self.body if isinstance(self.body, dict) else {}
        return JobInstance(
            id=self.id,
            item_id=self.item_id,
            workspace_id=self.workspace_id,
            job_type=self.job_type,
            route=self.route,
            status=self.status,
            outcome=self.outcome,
            body=self.body,
            execution_data=body.get("executionData"),
            parameters=body.get("parameters"),
            polls=self.polls,
            start_time=job_time(self.started),
            end_time=None if self.ended is None else job_time(self.ended),
            failure_reason=self.failure_reason,
        )


def job_time(epoch: float) -> str:
    """A job timestamp as the service writes it: UTC, seven fractional digits (100 ns ticks), no
    ``Z`` (``2023-04-22T06:35:00.7812154``)."""
    seconds, ticks = divmod(round(epoch * 10_000_000), 10_000_000)
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{ticks:07d}"


def notebook_outcome(code: NotebookCode) -> JobOutcome:
    """The outcome the fake gives a run of this notebook. The code cells run in order, line by
    line (lines starting with ``#``, ``//`` or ``--`` are comments and skipped):

    - a line calling ``notebookutils.notebook.exit(x)`` (or ``mssparkutils``) ends the run
      Completed with exitValue ``x`` (a string literal's value, else the argument's text);
    - a line with the word ``raise`` in its code (not inside a one-line string literal, not in
      a trailing comment of the notebook's language) or the word ``FAIL`` anywhere (a marker
      for tests, trailing comments and strings included; ``FAILURE`` does not count) ends it
      Failed with the message ``"Notebook execution failed at cell <n>: <what>"``, where
      ``<what>`` is ``Name: argument`` for ``raise Name("argument")`` and the line itself
      otherwise.

    Else Completed, exitValue null. Lines are read one at a time: a ``raise`` inside a string
    spanning several lines (a docstring) still counts."""
    comment = _TRAILING_COMMENT.get(code.language, "#")
    for number, source in enumerate(code.code_cells, start=1):
        for raw in source.splitlines():
            line = raw.strip()
            if not line or line.startswith(_COMMENTS):
                continue
            exit_call = _EXIT.search(line)
            if exit_call is not None:
                return JobOutcome("Completed", exit_value=_literal(exit_call[1]))
            # string literals blanked to the same length, so positions still match ``line``
            blanked = _STRING.sub(lambda m: m[0][0] + " " * (len(m[0]) - 2) + m[0][0], line)
            code_part = blanked.split(comment, 1)[0]
            found = _RAISE.search(code_part)
            raised = None if found is None else _RAISE.match(line, found.start())
            if raised is not None or _FAIL.search(line):
                what = line
                if raised is not None and raised[1]:
                    argument = _literal(raised[2]) if raised[2] else ""
                    what = f"{raised[1]}: {argument}" if argument else raised[1]
                return JobOutcome(
                    "Failed", message=f"Notebook execution failed at cell {number}: {what}"
                )
    return JobOutcome("Completed")


def _literal(text: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, str) else str(value)
