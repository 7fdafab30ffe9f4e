"""Artifacts, validation records and approvals on the engine (lifecycle.md §2, §5-6).

Mixed into :class:`aadap.Engine`; see its documentation for the whole API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aadap._convert import json_object, json_text
from aadap.correlation import current_correlation_id
from aadap.lifecycle import ApprovalStatus, OperationType, RiskLevel
from aadap.snapshots import ApprovalRequest, Artifact, SnapshotList

if TYPE_CHECKING:
    from aadap import _core

__all__ = ["Governance"]


def _seconds(value: float | timedelta | None) -> float | None:
    return value.total_seconds() if isinstance(value, timedelta) else value


class Governance:
    """Artifacts, validation and approvals; mixed into Engine."""

    _core: _core.EngineCore

    # ---- artifacts ------------------------------------------------------------------------

    def add_artifact(
        self,
        task_id: str,
        artifact_type: str,
        name: str,
        content: str,
        *,
        parent_id: str | None = None,
        edit_message: str | None = None,
        storage_uri: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        actor: str = "user",
    ) -> Artifact:
        """Store an immutable artifact (its SHA-256 recorded). With ``parent_id`` it is an edit:
        the next version of the parent's lineage."""
        row = self._core.add_artifact(
            task_id, artifact_type, name, content, parent_id, edit_message, storage_uri,
            json_object(metadata, "artifact metadata"), actor,
            current_correlation_id() or "",
        )  # fmt: skip
        return Artifact(row)

    def edit_artifact(
        self, artifact_id: str, content: str, *, edit_message: str = "", actor: str = "user"
    ) -> Artifact:
        """A new version of an artifact with new content (same type and name)."""
        parent = self.get_artifact(artifact_id)
        return self.add_artifact(
            parent.task_id, parent.artifact_type, parent.name, content, parent_id=parent.id,
            edit_message=edit_message or None, actor=actor,
        )  # fmt: skip

    def record_validation(
        self,
        artifact_id: str,
        passed: bool,
        *,
        risk_level: RiskLevel | str = RiskLevel.NONE,
        findings: Iterable[Mapping[str, Any]] = (),
        summary: str = "",
        actor: str = "validator",
    ) -> Artifact:
        """Record the validation of a code artifact as a ``validation_report`` artifact: what
        INV-07 checks before VALIDATION_PASSED and DEPLOYING. A result of HIGH or CRITICAL risk
        cannot pass."""
        row = self._core.record_validation(
            artifact_id, bool(passed), RiskLevel(risk_level).value,
            json_text([dict(f) for f in findings], "findings"), summary, actor,
            current_correlation_id() or "",
        )  # fmt: skip
        return Artifact(row)

    def get_artifact(self, artifact_id: str) -> Artifact:
        return Artifact(self._core.get_artifact(artifact_id))

    def artifacts(self, task_id: str, artifact_type: str | None = None) -> SnapshotList[Artifact]:
        """The task's artifacts in creation order, optionally of one type."""
        return SnapshotList.of(Artifact, self._core.artifacts(task_id, artifact_type))

    # ---- approvals ------------------------------------------------------------------------

    def request_approval(
        self,
        task_id: str,
        operation_type: OperationType | str,
        requested_by: str,
        *,
        artifact_id: str | None = None,
        risk_level: RiskLevel | str = RiskLevel.NONE,
        findings: Iterable[Mapping[str, Any]] = (),
        explanation: Mapping[str, Any] | None = None,
        expires_in: float | timedelta | None = None,
    ) -> ApprovalRequest:
        """Ask for approval of ``operation_type`` (on the code ``artifact_id``), with the task in
        VALIDATION_PASSED or OPTIMIZED.

        One transaction writes the DecisionExplanation artifact (``explanation`` supplies
        chosen_approach, alternatives_considered and decision_reason), the request, and moves
        the task to APPROVAL_PENDING. When the autonomy matrix (and the risk) needs no human,
        the request is auto-approved and the task carried on to APPROVED. Unknown operation
        types require approval. ``expires_in`` defaults to AADAP_APPROVAL_TIMEOUT_SECONDS."""
        operation = (
            operation_type.value
            if isinstance(operation_type, OperationType)
            else str(operation_type)
        )
        row = self._core.request_approval(
            task_id, operation, requested_by, artifact_id, RiskLevel(risk_level).value,
            json_text([dict(f) for f in findings], "findings"),
            json_object(explanation, "explanation"), _seconds(expires_in),
            current_correlation_id() or "",
        )  # fmt: skip
        return ApprovalRequest(row)

    def start_review(self, request_id: str, reviewer: str) -> ApprovalRequest:
        """APPROVAL_PENDING → IN_REVIEW (optional: a decision passes through it anyway)."""
        row = self._core.start_review(request_id, reviewer, current_correlation_id() or "")
        return ApprovalRequest(row)

    def approve(self, request_id: str, decided_by: str, reason: str = "") -> ApprovalRequest:
        """Approve a PENDING request and move its task to APPROVED. ApprovalError when it is
        not PENDING (ApprovalExpiredError when it expired) or when the requester approves
        their own request (unless AADAP_APPROVAL_ALLOW_SELF)."""
        row = self._core.decide(
            request_id, True, decided_by, reason, current_correlation_id() or ""
        )
        return ApprovalRequest(row)

    def reject(self, request_id: str, decided_by: str, reason: str = "") -> ApprovalRequest:
        """Reject a PENDING request and move its task to REJECTED (from where it can be
        reworked or cancelled)."""
        row = self._core.decide(
            request_id, False, decided_by, reason, current_correlation_id() or ""
        )
        return ApprovalRequest(row)

    def expire_due(self) -> SnapshotList[ApprovalRequest]:
        """Expire every PENDING request past its deadline (their tasks move to REJECTED)."""
        return SnapshotList.of(
            ApprovalRequest, self._core.expire_due(current_correlation_id() or "")
        )

    def get_approval(self, request_id: str) -> ApprovalRequest:
        """The request (expired first when its deadline has passed)."""
        return ApprovalRequest(self._core.get_approval(request_id, current_correlation_id() or ""))

    def wait_for_decision(
        self, request_id: str, timeout: float | timedelta | None = None
    ) -> ApprovalRequest:
        """Wait until the request is decided — by this or any other process on the same
        store — or expires, or ``timeout`` passes (None: until it is decided or expires).
        Returns the request as it then stands: still PENDING after a timeout. On PostgreSQL
        the deciding process's NOTIFY wakes the waiter at once; SQLite is looked at every
        50 ms. Ctrl-C interrupts the wait."""
        import time

        limit = _seconds(timeout)
        deadline = None if limit is None else time.monotonic() + max(0.0, limit)
        correlation = current_correlation_id() or ""
        while True:  # in slices, so a KeyboardInterrupt is seen between them
            left = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            request = ApprovalRequest(
                self._core.wait_for_decision(request_id, max(0.0, left), correlation)
            )
            if request.status != ApprovalStatus.PENDING:
                return request
            if deadline is not None and time.monotonic() >= deadline:
                return request

    def approvals(
        self, task_id: str | None = None, *, status: ApprovalStatus | str | None = None
    ) -> SnapshotList[ApprovalRequest]:
        """Approval requests of one task (all when None), optionally with one status."""
        wanted = None if status is None else ApprovalStatus(status).value
        rows = self._core.approvals(task_id or "", wanted, current_correlation_id() or "")
        return SnapshotList.of(ApprovalRequest, rows)

    def pending_approvals(self, task_id: str | None = None) -> SnapshotList[ApprovalRequest]:
        """Requests waiting for a decision, oldest first."""
        return self.approvals(task_id, status=ApprovalStatus.PENDING)
