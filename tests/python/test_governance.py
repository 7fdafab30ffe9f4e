"""Governance conformance: artifacts, validation, approvals, the deployment gate, executions,
token budgets, resources, logs and prune (lifecycle.md §2-7). Every invariant has a test that
tries to break it; each refusal must leave exactly one guard.violation audit event and change
nothing else."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import aadap
from aadap import TaskState

from .conftest import RawRefusedError, Store
from .governed import TO_VALIDATION, ship, validated_code, walk

SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)


def fingerprint(engine: aadap.Engine, task_id: str) -> tuple[Any, ...]:
    """Everything the store holds about a task except its audit trail."""
    return (
        engine.get_task(task_id), tuple(engine.history(task_id)),
        tuple(engine.artifacts(task_id)), tuple(engine._core.approvals(task_id, None, "")),
        tuple(engine.executions(task_id)), tuple(engine.costs(task_id)),
        tuple(engine.resources(task_id)),
    )  # fmt: skip


@contextmanager
def refused(
    engine: aadap.Engine, task_id: str, error: type[Exception], guard: str
) -> Iterator[None]:
    """The block must raise `error`, change nothing, and add exactly one guard.violation."""
    before = fingerprint(engine, task_id)
    audit_before = len(engine.audit(task_id))
    with pytest.raises(error):
        yield
    assert fingerprint(engine, task_id) == before
    added = engine.audit(task_id)[audit_before:]
    assert [a.event_type for a in added] == ["guard.violation"]
    assert added[0].details["guard"] == guard
    assert added[0].details["error"] == error.__name__


def test_artifacts_are_hashed_immutable_and_versioned(engine: aadap.Engine) -> None:
    task = engine.create_task("artifacts")
    v1 = engine.add_artifact(task.id, "generated_code", "load.sql", "SELECT 1", actor="dev")
    assert v1.content_hash == hashlib.sha256(b"SELECT 1").hexdigest()
    assert (v1.version, v1.parent_id) == (1, None)
    v2 = engine.edit_artifact(v1.id, "SELECT 2", edit_message="fix")
    v3 = engine.edit_artifact(v1.id, "SELECT 3")  # an edit of an older version: still max + 1
    assert (v2.version, v2.parent_id, v2.edit_message) == (2, v1.id, "fix")
    assert v3.version == 3
    assert [a.version for a in engine.artifacts(task.id, "generated_code")] == [1, 2, 3]
    assert engine.get_artifact(v1.id) == v1
    events = [a for a in engine.audit(task.id) if a.event_type == "artifact.created"]
    assert len(events) == 3
    assert events[0].resource_id == v1.id


def test_artifact_input_errors_write_nothing(engine: aadap.Engine) -> None:
    task = engine.create_task("bad artifacts")
    other = engine.create_task("other")
    foreign = engine.add_artifact(other.id, "generated_code", "x.sql", "SELECT 1")
    before = len(engine.audit())
    with pytest.raises(aadap.InvalidArgumentError):
        engine.add_artifact(task.id, "", "x", "c")
    with pytest.raises(aadap.InvalidArgumentError):
        engine.add_artifact(task.id, "generated_code", "", "c")
    with pytest.raises(aadap.NotFoundError):
        engine.add_artifact("no-such-task", "generated_code", "x", "c")
    with pytest.raises(aadap.NotFoundError):
        engine.add_artifact(task.id, "generated_code", "x", "c", parent_id=foreign.id)
    with pytest.raises(aadap.InvalidTypeError):
        engine.add_artifact(task.id, "generated_code", "x", "c", metadata=[1])  # type: ignore[arg-type]
    with pytest.raises(aadap.InvalidArgumentError):
        engine.record_validation(foreign.id, True, risk_level="HIGH")  # HIGH cannot pass
    with pytest.raises(aadap.NotFoundError):
        engine.get_artifact("nope")
    assert len(engine.audit()) == before
    assert engine.artifacts(task.id) == []


def test_artifacts_are_immutable_in_the_database(shared_store: Store) -> None:
    engine = shared_store.engine()
    task = engine.create_task("immutable")
    engine.add_artifact(task.id, "generated_code", "x.sql", "SELECT 1")
    with pytest.raises(RawRefusedError, match="immutable"):
        shared_store.execute("UPDATE artifacts SET content = 'DROP TABLE x'")


def test_task_environment_is_immutable_in_the_database(shared_store: Store) -> None:
    engine = shared_store.engine()
    task = engine.create_task("sandboxed")
    with pytest.raises(RawRefusedError, match="INV-05"):
        shared_store.execute("UPDATE tasks SET environment = 'PRODUCTION'")
    assert engine.get_task(task.id).environment == "SANDBOX"


def test_validation_gate_inv07(engine: aadap.Engine) -> None:
    task = engine.create_task("validate")
    walk(engine, task.id, *TO_VALIDATION)
    with refused(engine, task.id, aadap.InvalidTransitionError, "validation"):
        engine.transition(task.id, "VALIDATION_PASSED", actor="v")  # no code at all
    code = engine.add_artifact(task.id, "generated_code", "x.sql", "DELETE FROM t")
    with refused(engine, task.id, aadap.InvalidTransitionError, "validation"):
        engine.transition(task.id, "VALIDATION_PASSED", actor="v")  # code, no report
    engine.record_validation(code.id, False, risk_level="CRITICAL", summary="DELETE without WHERE")
    with refused(engine, task.id, aadap.InvalidTransitionError, "validation"):
        engine.transition(task.id, "VALIDATION_PASSED", actor="v")  # a failing report
    engine.transition(task.id, "VALIDATION_FAILED", actor="v")
    walk(engine, task.id, "IN_DEVELOPMENT")
    fixed = engine.edit_artifact(code.id, "DELETE FROM t WHERE id = 1")
    walk(engine, task.id, "CODE_GENERATED", "IN_VALIDATION")
    report = engine.record_validation(fixed.id, True, risk_level="MEDIUM", findings=[
        {"gate": "static", "line": 1, "pattern": "DELETE FROM", "severity": "MEDIUM",
         "description": "delete with a filter"}])  # fmt: skip
    assert report.metadata == {"artifact_id": fixed.id, "artifact_hash": fixed.content_hash,
                               "passed": True, "risk_level": "MEDIUM"}  # fmt: skip
    assert report.json()["findings"][0]["pattern"] == "DELETE FROM"
    assert engine.transition(task.id, "VALIDATION_PASSED", actor="v").state == "VALIDATION_PASSED"


ROUTES = {
    "NONE": ["team_lead"], "LOW": ["team_lead"], "HIGH": ["team_lead", "security_admin"],
    "CRITICAL": ["team_lead", "security_admin", "platform_admin"],
}  # fmt: skip


def test_autonomy_matrix_decides_auto_approval(engine: aadap.Engine) -> None:
    cases = [  # (environment, operation, risk, approval needed)
        ("SANDBOX", "read_only", "NONE", False), ("SANDBOX", "write", "LOW", False),
        ("SANDBOX", "destructive", "NONE", True), ("PRODUCTION", "read_only", "NONE", False),
        ("PRODUCTION", "write", "NONE", True), ("SANDBOX", "schema_change", "NONE", True),
        ("SANDBOX", "permission_change", "NONE", True),
        ("SANDBOX", "drop_everything", "NONE", True),
        ("SANDBOX", "read_only", "HIGH", True), ("SANDBOX", "read_only", "CRITICAL", True),
    ]  # fmt: skip
    for environment, operation, risk, needed in cases:
        task = engine.create_task(f"{environment} {operation} {risk}", environment=environment)
        code = validated_code(engine, task.id)
        request = engine.request_approval(task.id, operation, "pipeline", artifact_id=code.id,
                                          risk_level=risk)  # fmt: skip
        state = engine.get_task(task.id).state
        if needed:
            assert (request.status, state) == ("PENDING", TaskState.APPROVAL_PENDING), operation
        else:
            assert (request.status, state) == ("APPROVED", TaskState.APPROVED), operation
            assert request.decided_by == "system:autonomy_policy"
            assert operation in (request.decision_reason or "")
            kinds = [a.event_type for a in engine.audit(task.id)]
            assert "approval.auto_approved" in kinds
            assert [e.to_state for e in engine.history(task.id)][-3:] == [
                "APPROVAL_PENDING", "IN_REVIEW", "APPROVED"]  # fmt: skip
        assert request.artifact_hash == code.content_hash
        expected_route = ROUTES[risk]
        assert request.route == expected_route
        escalated = [a for a in engine.audit(task.id) if a.event_type == "approval.escalated"]
        assert len(escalated) == (1 if risk == "CRITICAL" else 0)


def test_decision_explanation_is_written_inv09(engine: aadap.Engine) -> None:
    task = engine.create_task("explain", platform="databricks", language="sql")
    code = validated_code(engine, task.id)
    request = engine.request_approval(
        task.id, "destructive", "pipeline", artifact_id=code.id, risk_level="HIGH",
        findings=[{"gate": "static", "line": 1, "pattern": "DROP TABLE", "severity": "HIGH",
                   "description": "drops a table"}],
        explanation={"chosen_approach": "drop and reload", "alternatives_considered": ["merge"],
                     "decision_reason": "schema changed upstream"},
    )  # fmt: skip
    assert request.explanation_artifact_id is not None
    why = engine.get_artifact(request.explanation_artifact_id)
    assert why.artifact_type == "decision_explanation"
    content = why.json()
    for field in ("task_id", "operation_type", "environment", "platform", "language",
                  "risk_level", "findings", "approval_required", "why_approval_required",
                  "chosen_approach", "alternatives_considered", "decision_reason",
                  "generated_at"):  # fmt: skip
        assert field in content, field
    assert content["approval_required"] is True
    assert content["chosen_approach"] == "drop and reload"
    assert content["findings"][0]["pattern"] == "DROP TABLE"


def test_approval_states_need_the_approval_calls(engine: aadap.Engine) -> None:
    task = engine.create_task("no shortcut")
    validated_code(engine, task.id)
    with refused(engine, task.id, aadap.ApprovalRequiredError, "approval"):
        engine.transition(task.id, "APPROVAL_PENDING", actor="sneaky")  # no explanation: INV-09
    other = engine.create_task("not yet")
    with refused(engine, other.id, aadap.InvalidTransitionError, "transition"):
        engine.request_approval(other.id, "write", "p")


def test_human_approval_review_and_rejection_rework(engine: aadap.Engine) -> None:
    task = engine.create_task("careful")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
    assert engine.pending_approvals(task.id) == [request]
    reviewed = engine.start_review(request.id, "alice")
    assert reviewed.status == "PENDING"
    assert engine.get_task(task.id).state == TaskState.IN_REVIEW
    rejected = engine.reject(request.id, "alice", "needs a WHERE clause")
    assert (rejected.status, rejected.decided_by) == ("REJECTED", "alice")
    assert rejected.decision_reason == "needs a WHERE clause"
    assert engine.get_task(task.id).state == TaskState.REJECTED
    assert engine.pending_approvals() == []
    walk(engine, task.id, "IN_DEVELOPMENT")
    assert engine.get_task(task.id).retry_count == 1
    kinds = [a.event_type for a in engine.audit(task.id)]
    assert kinds.count("approval.requested") == 1
    assert kinds.count("approval.rejected") == 1


def test_deciding_a_decided_request_is_refused(engine: aadap.Engine) -> None:
    task = engine.create_task("twice")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
    engine.approve(request.id, "alice")
    with refused(engine, task.id, aadap.ApprovalError, "approval_status"):
        engine.approve(request.id, "bob")
    with refused(engine, task.id, aadap.ApprovalError, "approval_status"):
        engine.reject(request.id, "bob")
    with pytest.raises(aadap.NotFoundError):
        engine.approve("no-such-request", "bob")


def approve_from_two_threads(engine: aadap.Engine, request_id: str) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(who: str) -> None:
        barrier.wait()
        try:
            engine.approve(request_id, who)
            outcomes.append("won")
        except aadap.ApprovalError:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(w,)) for w in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_threads_approving_at_once_have_one_winner(engine: aadap.Engine) -> None:
    for _ in range(10):
        task = engine.create_task("race to approve")
        code = validated_code(engine, task.id)
        request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
        assert approve_from_two_threads(engine, request.id) == ["refused", "won"]
        assert engine.get_task(task.id).state == TaskState.APPROVED
        assert [e.to_state for e in engine.history(task.id)].count(TaskState.APPROVED) == 1
        kinds = [a.event_type for a in engine.audit(task.id)]
        assert (kinds.count("approval.approved"), kinds.count("guard.violation")) == (1, 1)
        assert engine.verify(task.id).ok


def test_self_approval_is_refused_unless_allowed(engine: aadap.Engine, store: Store) -> None:
    task = engine.create_task("mine")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "carol", artifact_id=code.id)
    with refused(engine, task.id, aadap.ApprovalError, "self_approval"):
        engine.approve(request.id, "carol")
    assert engine.reject(request.id, "carol", "withdrawn").status == "REJECTED"  # may reject

    lenient = store.engine(aadap.Settings.from_env(
        {"HOME": "/nonexistent", "AADAP_APPROVAL_ALLOW_SELF": "true"}, dotenv=None))  # fmt: skip
    task = lenient.create_task("mine, allowed")
    code = validated_code(lenient, task.id)
    request = lenient.request_approval(task.id, "destructive", "carol", artifact_id=code.id)
    assert lenient.approve(request.id, "carol").status == "APPROVED"


def test_expired_requests_reject_the_task_and_cannot_be_approved(engine: aadap.Engine) -> None:
    task = engine.create_task("slow reviewers")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id,
                                      expires_in=timedelta(milliseconds=50))  # fmt: skip
    time.sleep(0.1)
    with pytest.raises(aadap.ApprovalExpiredError):
        engine.approve(request.id, "alice")  # lazily expired first, then refused
    assert engine.get_approval(request.id).status == "EXPIRED"
    assert engine.get_task(task.id).state == TaskState.REJECTED
    trail = engine.audit(task.id)
    expired = [a for a in trail if a.event_type == "approval.expired"]
    assert len(expired) == 1
    assert expired[0].actor == "system:expiry"
    assert trail[-1].event_type == "guard.violation"
    assert trail[-1].details["error"] == "ApprovalExpiredError"

    other = engine.create_task("also slow")
    code = validated_code(engine, other.id)
    late = engine.request_approval(other.id, "destructive", "pipeline", artifact_id=code.id,
                                   expires_in=0.05)  # fmt: skip
    time.sleep(0.1)
    assert [r.id for r in engine.expire_due()] == [late.id]
    assert engine.get_task(other.id).state == TaskState.REJECTED
    assert engine.expire_due() == []
    with pytest.raises(aadap.InvalidArgumentError):
        engine.request_approval(other.id, "write", "p", expires_in=0)


def test_deployment_gate_inv01(engine: aadap.Engine) -> None:
    task = engine.create_task("deploy")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
    with refused(engine, task.id, aadap.InvalidTransitionError, "transition"):
        engine.transition(task.id, "DEPLOYING", actor="d", artifact_id=code.id)  # not APPROVED
    engine.approve(request.id, "alice")
    with refused(engine, task.id, aadap.ApprovalRequiredError, "deployment"):
        engine.transition(task.id, "DEPLOYING", actor="d")  # which code?
    with pytest.raises(aadap.NotFoundError):
        engine.transition(task.id, "DEPLOYING", actor="d", artifact_id="nope")
    other_code = engine.add_artifact(task.id, "generated_code", "other.sql", "SELECT 2")
    engine.record_validation(other_code.id, True)
    with refused(engine, task.id, aadap.ApprovalRequiredError, "approval"):
        engine.transition(task.id, "DEPLOYING", actor="d", artifact_id=other_code.id)
    deployed = engine.transition(task.id, "DEPLOYING", actor="d", artifact_id=code.id)
    assert deployed.state == TaskState.DEPLOYING


def test_code_edited_after_approval_is_refused_at_deployment(engine: aadap.Engine) -> None:
    task = engine.create_task("edited late")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
    engine.approve(request.id, "alice")
    edited = engine.edit_artifact(code.id, "SELECT 1 AS one -- tweaked after approval")
    engine.record_validation(edited.id, True)
    with refused(engine, task.id, aadap.ApprovalRequiredError, "approval"):
        engine.transition(task.id, "DEPLOYING", actor="d", artifact_id=edited.id)
    with refused(engine, task.id, aadap.ApprovalRequiredError, "deployment"):
        engine.transition(task.id, "DEPLOYING", actor="d", artifact_id=code.id)  # stale code
    assert engine.transition(task.id, "CANCELLED", actor="d").state == TaskState.CANCELLED


def test_token_budget_inv04(store: Store) -> None:
    priced = store.engine(aadap.Settings.from_env(
        {"HOME": "/nonexistent", "AADAP_LLM_PRICE_INPUT_PER_1K": "0.01",
         "AADAP_LLM_PRICE_OUTPUT_PER_1K": "0.03"}, dotenv=None))  # fmt: skip
    task = priced.create_task("budget", token_budget=1000)
    cost = priced.consume_tokens(task.id, 600, 100, agent_type="developer")
    assert cost.cost_usd == pytest.approx(0.6 * 0.01 + 0.1 * 0.03)
    assert priced.get_task(task.id).tokens_used == 700
    with refused(priced, task.id, aadap.TokenBudgetExceededError, "token_budget"):
        priced.consume_tokens(task.id, 301)
    assert priced.consume_tokens(task.id, 300).tokens_in == 300  # exactly the budget
    assert priced.get_task(task.id).tokens_used == 1000
    assert priced.get_task(task.id).version == task.version  # charges do not bump the version
    assert len(priced.costs(task.id)) == 2
    consumed = [a for a in priced.audit(task.id) if a.event_type == "tokens.consumed"]
    assert [a.details["tokens_in"] for a in consumed] == [600, 300]
    for bad in (0, -1):
        with pytest.raises(aadap.InvalidArgumentError):
            priced.consume_tokens(task.id, bad)


def test_executions_record_environment_and_outcome(engine: aadap.Engine) -> None:
    task = engine.create_task("run", environment="PRODUCTION", platform="databricks")
    code = engine.add_artifact(task.id, "generated_code", "x.sql", "SELECT 1")
    started = engine.start_execution(task.id, code_artifact_id=code.id,
                                     metadata={"statement_id": "s-1"})  # fmt: skip
    assert (started.status, started.environment, started.platform) == (
        "RUNNING", "PRODUCTION", "databricks")  # fmt: skip
    done = engine.finish_execution(started.id, "FAILED", error="boom",
                                   metadata={"run_id": 7})  # fmt: skip
    assert (done.status, done.error) == ("FAILED", "boom")
    assert done.metadata == {"statement_id": "s-1", "run_id": 7}
    assert done.duration_ms is not None
    assert done.duration_ms >= 0
    assert done.completed_at is not None
    with pytest.raises(aadap.InvalidArgumentError, match="already finished"):
        engine.finish_execution(started.id, "SUCCESS")
    with pytest.raises(aadap.InvalidArgumentError):
        engine.finish_execution(started.id, "DONE")
    with pytest.raises(aadap.InvalidArgumentError):
        engine.start_execution(task.id, platform="aws")
    assert engine.executions(task.id) == [done]
    kinds = [a.event_type for a in engine.audit(task.id)]
    assert (kinds.count("execution.started"), kinds.count("execution.finished")) == (1, 1)


def test_resources_and_logs(engine: aadap.Engine) -> None:
    task = engine.create_task("resources")
    job = engine.record_resource(task.id, "databricks", "job", "123", definition={"name": "n"})
    again = engine.record_resource(task.id, "databricks", "job", "123", status="RUNNING")
    assert again.id == job.id
    assert again.status == "RUNNING"
    assert len(engine.resources(task.id)) == 1
    with pytest.raises(aadap.InvalidArgumentError):
        engine.record_resource(task.id, "local", "job", "1")
    with pytest.raises(aadap.InvalidArgumentError):
        engine.record_resource(task.id, "databricks", "cluster", "1")
    engine.log(task.id, "started", source="worker")
    engine.log(task.id, "careful", level="WARNING")
    assert [(log.level, log.message) for log in engine.logs(task.id)] == [
        ("INFO", "started"), ("WARNING", "careful")]  # fmt: skip
    with pytest.raises(aadap.InvalidArgumentError):
        engine.log(task.id, "x", level="LOUD")


def test_prune_removes_old_terminal_tasks_and_keeps_their_audit(shared_store: Store) -> None:
    engine = shared_store.engine()
    done = engine.create_task("done")
    ship(engine, done.id)
    engine.consume_tokens(done.id, 10)
    engine.log(done.id, "bye")
    cancelled = engine.create_task("cancelled")
    walk(engine, cancelled.id, "CANCELLED")
    active = engine.create_task("still running")
    walk(engine, active.id, "PARSING")
    audit_before = len(engine.audit())

    assert engine.prune(datetime.now(timezone.utc) - timedelta(days=1)) == []
    pruned = engine.prune(timedelta(0))
    assert sorted(pruned) == sorted([done.id, cancelled.id])
    for task_id in pruned:
        with pytest.raises(aadap.NotFoundError):
            engine.get_task(task_id)
    assert engine.get_task(active.id).state == TaskState.PARSING
    trail = engine.audit()
    assert len(trail) == audit_before + 2  # everything kept, plus one task.pruned per task
    assert sorted(str(a.resource_id) for a in trail if a.event_type == "task.pruned") == sorted(
        pruned
    )
    assert all(a.task_id is None for a in trail if a.resource_id in pruned)
    ids = ", ".join(f"'{task_id}'" for task_id in pruned)
    for table in ("state_transitions", "artifacts", "approval_requests", "executions",
                  "cost_records", "task_logs"):  # fmt: skip
        count = shared_store.execute(f"SELECT count(*) FROM {table} WHERE task_id IN ({ids})")
        assert count.strip() == "0", table
    # the append-only rules are back in force after the prune
    with pytest.raises(RawRefusedError, match="append-only"):
        shared_store.execute("DELETE FROM state_transitions")
    with pytest.raises(RawRefusedError, match="append-only"):
        shared_store.execute("UPDATE audit_events SET actor = 'x'")
    with pytest.raises(aadap.InvalidArgumentError):
        engine.prune("yesterday")


def test_every_audit_event_carries_actor_and_correlation_id(engine: aadap.Engine) -> None:
    with aadap.correlation_id("req-77"):
        task = engine.create_task("audited")
        ship(engine, task.id, operation="destructive")
        engine.consume_tokens(task.id, 5)
        execution = engine.start_execution(task.id, platform="local")
        engine.finish_execution(execution.id, "SUCCESS")
        with pytest.raises(aadap.TokenBudgetExceededError):
            engine.consume_tokens(task.id, 10**9)
    trail = engine.audit(task.id)
    kinds = {a.event_type for a in trail}
    assert {"task.created", "state.transition", "artifact.created", "approval.requested",
            "approval.approved", "execution.started", "execution.finished", "tokens.consumed",
            "guard.violation"} <= kinds  # fmt: skip
    assert all(a.correlation_id == "req-77" for a in trail)
    assert all(a.actor for a in trail)
    assert {str(k) for k in kinds} <= {t.value for t in aadap.AuditEventType}


def test_local_platform_deploys_for_real(engine: aadap.Engine, tmp_path: Path) -> None:
    local = aadap.LocalPlatform(engine, directory=tmp_path)
    task = engine.create_task("load", platform="local", language="sql")
    script = "CREATE TABLE t (id INTEGER, name TEXT); INSERT INTO t VALUES (1, 'a'), (2, NULL);"
    code = validated_code(engine, task.id, sql=script + " SELECT * FROM t")
    engine.request_approval(task.id, "write", "pipeline", artifact_id=code.id)  # auto
    execution, result = local.deploy(task.id, code.id)
    assert result is not None
    assert (result.columns, result.rows) == (["id", "name"], [(1, "a"), (2, None)])
    assert result.to_pandas().shape == (2, 2)
    assert execution.status == "SUCCESS"
    assert engine.get_task(task.id).state == TaskState.DEPLOYED
    assert local.sql("SELECT count(*) FROM t", task_id=task.id).rows == [(2,)]

    broken = engine.create_task("broken", platform="local", language="sql")
    bad = validated_code(engine, broken.id, sql="SELECT * FROM missing_table")
    engine.request_approval(broken.id, "read_only", "pipeline", artifact_id=bad.id)
    execution, result = local.deploy(broken.id, bad.id)
    assert result is None
    assert execution.status == "FAILED"
    assert "missing_table" in (execution.error or "")
    assert engine.get_task(broken.id).state == TaskState.DEV_FAILED

    prod = engine.create_task("prod", environment="PRODUCTION", platform="local", language="sql")
    before = fingerprint(engine, prod.id)
    with pytest.raises(aadap.PlatformError, match="SANDBOX-only"):
        local.deploy(prod.id, bad.id)
    assert fingerprint(engine, prod.id) == before
    with pytest.raises(aadap.PlatformError, match="statement 2"):
        local.sql("CREATE TABLE x (a); INSERT INTO nope VALUES (1)")
    assert local.sql("SELECT name FROM sqlite_master WHERE name = 'x'").rows == []  # rolled back


WAITER = """
import sys, time, aadap
s = aadap.Settings.from_env({'HOME': '/nonexistent'}, dotenv=None)
engine = aadap.Engine.open(sys.argv[1], settings=s)
print('waiting', flush=True)
start = time.monotonic()
request = engine.wait_for_decision(sys.argv[2], timeout=60)
print(request.status, request.decided_by, round(time.monotonic() - start, 3), flush=True)
"""


def test_a_waiting_process_wakes_when_another_decides(shared_store: Store) -> None:
    import subprocess
    import sys

    engine = shared_store.engine()
    task = engine.create_task("wait for me")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
    waiter = subprocess.Popen([sys.executable, "-c", WAITER, shared_store.url, request.id],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert waiter.stdout is not None
    assert waiter.stdout.readline().strip() == "waiting"
    time.sleep(0.3)  # let it reach its wait
    engine.approve(request.id, "alice")
    out, _ = waiter.communicate(timeout=60)
    status, decided_by, waited = out.split()
    assert (status, decided_by) == ("APPROVED", "alice")
    assert float(waited) < 30  # woken by the decision, not by the 60 s timeout


def test_waiting_times_out_or_ends_with_the_expiry(engine: aadap.Engine) -> None:
    task = engine.create_task("nobody decides")
    code = validated_code(engine, task.id)
    request = engine.request_approval(task.id, "destructive", "pipeline", artifact_id=code.id)
    assert engine.wait_for_decision(request.id, timeout=0.1).status == "PENDING"
    other = engine.create_task("expires while waited for")
    code = validated_code(engine, other.id)
    short = engine.request_approval(other.id, "destructive", "pipeline", artifact_id=code.id,
                                    expires_in=0.2)  # fmt: skip
    assert engine.wait_for_decision(short.id, timeout=30).status == "EXPIRED"
    assert engine.get_task(other.id).state == TaskState.REJECTED
