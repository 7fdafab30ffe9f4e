"""Long-running operations of :class:`~aadap.testing.FakeFabric` (cloud-apis.md B10.6):
``GET /v1/operations/{id}`` moves NotStarted → Running → Succeeded or Failed over a set number
of polls, and an operation nobody polls ends on its own once the fake's clock passes its
deadline, as the service's do; the operation's effect (the item created, the definition
replaced) happens when it succeeds, and ``GET /v1/operations/{id}/result`` returns its
payload."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from aadap.testing.fabric._errors import FabricError


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
    """Performs the operation's effect when it succeeds; returns the ``/result`` payload. A
    :class:`FabricError` it raises (the item is gone) ends the operation Failed with that
    error instead."""
    on_failure: Callable[[], None]
    created: float
    updated: float
    failure: OperationFailure | None = None
    deadline: float | None = None
    """When it ends on its own, polled or not (the fake's clock; None: only polls end it)."""
    status: str = "NotStarted"
    polls: int = 0
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.status in ("Succeeded", "Failed")

    def poll(self, now: float, request_id: str) -> None:
        """One state request: the next step of the progression (the ``polls_needed + 1``-th
        request ends it)."""
        self.polls += 1
        if self.done:
            return
        self.updated = now
        if self.polls <= self.polls_needed:
            self.status = "NotStarted" if self.polls == 1 and self.polls_needed > 1 else "Running"
            return
        self.finish(now, request_id)

    def expire(self, now: float, request_id: str) -> None:
        """Ends the operation, at its deadline, once ``now`` has passed it."""
        if not self.done and self.deadline is not None and now >= self.deadline:
            self.finish(self.deadline, request_id)

    def finish(self, when: float, request_id: str) -> None:
        """Ends it: Failed when a failure was scripted or its effect could not happen (without
        the effect), else Succeeded with the effect applied."""
        self.updated = when
        if self.failure is not None:
            self._fail(request_id, self.failure.error_code, self.failure.message)
            return
        try:
            self.result = self.apply()
        except FabricError as error:
            self._fail(request_id, error.code, error.message)
            return
        self.status = "Succeeded"

    def _fail(self, request_id: str, code: str, message: str) -> None:
        self.status = "Failed"
        self.error = {"requestId": request_id, "errorCode": code, "message": message}
        self.on_failure()

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
    """An operation timestamp as the documented OperationState examples write it: UTC,
    milliseconds, ``Z`` (``2023-11-13T22:24:40.477Z``). Job instances use another form
    (:func:`~aadap.testing.fabric._jobs.job_time`)."""
    seconds, millis = divmod(round(epoch * 1000), 1000)
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return f"{moment.strftime('%Y-%m-%dT%H:%M:%S')}.{millis:03d}Z"
