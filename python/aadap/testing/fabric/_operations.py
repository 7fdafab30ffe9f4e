"""Long-running operations of :class:`~aadap.testing.FakeFabric` (cloud-apis.md B10.6):
``GET /v1/operations/{id}`` moves NotStarted → Running → Succeeded or Failed over a set number
of polls; the operation's effect (the item created, the definition replaced) happens when it
succeeds, and ``GET /v1/operations/{id}/result`` returns its payload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aadap.testing.fabric._jobs import job_time

OPERATION_STATUSES = ("NotStarted", "Running", "Succeeded", "Failed", "Undefined")
"""The ``status`` values of an operation state (the spec's LongRunningOperationStatus)."""


@dataclass(frozen=True)
class Operation:
    """A long-running operation as the fake sees it: ``kind`` is ``Create``,
    ``UpdateDefinition`` or ``GetDefinition``; ``polls`` counts the state requests so far;
    ``result`` is the ``/result`` payload once it succeeded (None for operations without one);
    ``error`` the ErrorResponse of a failed one."""

    id: str
    kind: str
    item_id: str
    status: str
    polls: int
    result: dict[str, Any] | None
    error: dict[str, Any] | None


@dataclass
class OperationFailure:
    """A scripted failure for the next operation (of ``kind``, or any when None)."""

    kind: str | None
    error_code: str
    message: str


@dataclass
class LongRunning:
    """The fake's record of one operation (guarded by the fake's lock)."""

    id: str
    kind: str
    item_id: str
    polls_needed: int
    apply: Callable[[], dict[str, Any] | None]
    """Performs the operation's effect when it succeeds; returns the ``/result`` payload."""
    on_failure: Callable[[], None]
    created: float
    updated: float
    failure: OperationFailure | None = None
    status: str = "NotStarted"
    polls: int = 0
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in ("Succeeded", "Failed")

    def poll(self, now: float, request_id: str) -> None:
        """One state request: the next step of the progression."""
        self.polls += 1
        if self.done:
            return
        self.updated = now
        if self.polls <= self.polls_needed:
            self.status = "NotStarted" if self.polls == 1 and self.polls_needed > 1 else "Running"
            return
        if self.failure is not None:
            self.status = "Failed"
            self.error = {
                "requestId": request_id,
                "errorCode": self.failure.error_code,
                "message": self.failure.message,
            }
            self.on_failure()
            return
        self.result = self.apply()
        self.status = "Succeeded"

    def state(self) -> dict[str, Any]:
        """The OperationState body."""
        percent = {"NotStarted": 0, "Running": 50}.get(self.status, 100)
        body: dict[str, Any] = {
            "status": self.status,
            "createdTimeUtc": operation_time(self.created),
            "lastUpdatedTimeUtc": operation_time(self.updated),
            "percentComplete": percent,
        }
        if self.error is not None:
            body["error"] = self.error
        return body

    def snapshot(self) -> Operation:
        return Operation(
            self.id, self.kind, self.item_id, self.status, self.polls, self.result, self.error
        )


def operation_time(epoch: float) -> str:
    """An operation timestamp: a job timestamp (seven fractional digits) marked UTC with
    ``Z``."""
    return f"{job_time(epoch)}Z"
