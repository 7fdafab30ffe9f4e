"""The task engine through aadap.Engine: the start of the store conformance suite.

Parametrised by backend; SQLite (a file and :memory:) now, PostgreSQL joins when its store
lands. Every refusal is checked to write nothing (input errors) or exactly one audit row
(guard violations)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

import aadap
from aadap import TaskState

from .conftest import RawRefusedError, Store
from .governed import UNGATED_16, ship, walk

SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)


def test_create_and_transition(engine: aadap.Engine) -> None:
    task = engine.create_task(
        "Load orders", description="bronze", priority=3, platform="databricks", language="sql",
        metadata={"source": "s3://orders"},
    )  # fmt: skip
    assert task.state is TaskState.SUBMITTED
    assert (task.version, task.priority, task.token_budget) == (0, 3, 50000)
    assert task.metadata == {"source": "s3://orders"}
    with aadap.correlation_id("req-7"):
        moved = engine.transition(task.id, TaskState.PARSING, actor="orchestrator", reason="go")
    assert (moved.state, moved.version) == (TaskState.PARSING, 1)
    assert engine.get_task(task.id) == moved
    (event,) = engine.history(task.id)
    assert (event.seq, event.from_state, event.to_state) == (1, "SUBMITTED", "PARSING")
    assert (event.actor, event.reason) == ("orchestrator", "go")
    assert event.correlation_id == "req-7"
    types = [a.event_type for a in engine.audit(task.id)]
    assert types == ["task.created", "state.transition"]
    assert engine.audit(task.id)[1].correlation_id == "req-7"
    assert engine.replay(task.id) is TaskState.PARSING
    assert engine.verify(task.id).ok
    assert engine.checkpoint(task.id)["state"] == "PARSING"


def test_full_path_to_completed(engine: aadap.Engine) -> None:
    task = engine.create_task("ship it")
    done = ship(engine, task.id)
    assert (done.state, done.version) == (TaskState.COMPLETED, 16)
    assert [e.seq for e in engine.history(task.id)] == list(range(1, 17))
    assert engine.verify(task.id).ok


def test_input_errors_write_nothing(engine: aadap.Engine) -> None:
    task = engine.create_task("t")
    before = len(engine.audit())
    with pytest.raises(aadap.InvalidStateError):
        engine.transition(task.id, "BOGUS", actor="x")
    with pytest.raises(aadap.NotFoundError):
        engine.transition("no-such-id", "PARSING", actor="x")
    with pytest.raises(aadap.NotFoundError):
        engine.get_task("no-such-id")
    with pytest.raises(aadap.ConcurrencyError) as conflict:
        engine.transition(task.id, "PARSING", actor="x", expected_version=3)
    assert (conflict.value.expected_version, conflict.value.actual_version) == (3, 0)
    with pytest.raises(ValueError, match="1 to 512"):
        engine.create_task("")
    with pytest.raises(ValueError, match="1 to 512"):
        engine.create_task("x" * 513)
    with pytest.raises(ValueError, match="SANDBOX or PRODUCTION"):
        engine.create_task("t", environment="STAGING")
    with pytest.raises(ValueError, match="0 to 10"):
        engine.create_task("t", priority=11)
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        engine.create_task("t", metadata={"x": object()})
    with pytest.raises(TypeError):
        engine.create_task("t", metadata=[1])  # type: ignore[arg-type]
    assert len(engine.audit()) == before
    assert engine.get_task(task.id).version == 0


def test_guard_violations_leave_one_audit_row(engine: aadap.Engine) -> None:
    task = engine.create_task("t")
    with pytest.raises(aadap.InvalidTransitionError):
        engine.transition(task.id, "COMPLETED", actor="x")
    walk(engine, task.id, "PARSING", "PARSE_FAILED", "PARSING", "PARSE_FAILED", "PARSING",
         "PARSE_FAILED")  # fmt: skip
    with pytest.raises(aadap.LoopDetectedError):
        engine.transition(task.id, "PARSING", actor="x")
    violations = [a for a in engine.audit(task.id) if a.event_type == "guard.violation"]
    assert len(violations) == 2
    assert violations[1].details["guard"] == "loop"
    assert engine.get_task(task.id).state is TaskState.PARSE_FAILED
    assert engine.verify(task.id).ok


def test_threads_racing_have_one_winner(engine: aadap.Engine) -> None:
    task = engine.create_task("race")
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        barrier.wait()
        try:
            engine.transition(task.id, "PARSING", actor="racer", expected_version=0)
            outcomes.append("won")
        except aadap.ConcurrencyError:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    assert len(engine.history(task.id)) == 1
    assert engine.verify(task.id).ok


def race_two(engine: aadap.Engine, task_id: str, *targets: str) -> dict[str, str]:
    """Each target from its own thread, released together; without expected_version."""
    results: dict[str, str] = {}
    barrier = threading.Barrier(len(targets))

    def attempt(target: str) -> None:
        barrier.wait()
        try:
            engine.transition(task_id, target, actor=target)
            results[target] = "applied"
        except aadap.InvalidTransitionError:
            results[target] = "refused"

    threads = [threading.Thread(target=attempt, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racers_without_expected_version_apply_from_the_new_state(engine: aadap.Engine) -> None:
    # Without expected_version a writer that lost the race still moves the task when its
    # target is allowed from the state the winner left; otherwise its refusal is audited.
    for _ in range(20):
        task = engine.create_task("race without versions")
        results = race_two(engine, task.id, "PARSING", "PARSED")
        history = [(e.from_state.value, e.to_state.value) for e in engine.history(task.id)]
        assert results["PARSING"] == "applied"  # allowed from SUBMITTED, and nothing else
        if results["PARSED"] == "applied":  # it ran second, from the PARSING just stored
            assert history == [("SUBMITTED", "PARSING"), ("PARSING", "PARSED")]
        else:  # it ran first, from SUBMITTED: refused and audited
            assert history == [("SUBMITTED", "PARSING")]
            assert "guard.violation" in [a.event_type for a in engine.audit(task.id)]
        assert engine.verify(task.id).ok


def test_append_only_is_enforced_by_the_database(shared_store: Store) -> None:
    engine = shared_store.engine()
    task = engine.create_task("t")
    engine.transition(task.id, "PARSING", actor="x")
    for sql in ["UPDATE state_transitions SET actor = 'forger'",
                "DELETE FROM state_transitions",
                "UPDATE audit_events SET actor = 'forger'",
                "DELETE FROM audit_events"]:  # fmt: skip
        with pytest.raises(RawRefusedError, match="append-only"):
            shared_store.execute(sql)
    assert engine.history(task.id)[0].actor == "x"


def test_processes_share_one_store(shared_store: Store) -> None:
    url = shared_store.url
    engine = shared_store.engine()
    task = engine.create_task("shared")
    code = (
        "import sys, aadap\n"
        "s = aadap.Settings.from_env({'HOME': '/nonexistent'}, dotenv=None)\n"
        "e = aadap.Engine.open(sys.argv[1], settings=s)\n"
        "try:\n"
        "    e.transition(sys.argv[2], 'PARSING', actor='proc', expected_version=0)\n"
        "    print('won')\n"
        "except aadap.ConcurrencyError:\n"
        "    print('conflict')\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, url, task.id], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
        for _ in range(4)
    ]  # fmt: skip
    outcomes = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert outcomes == ["conflict"] * 3 + ["won"]
    assert engine.get_task(task.id).version == 1
    assert engine.verify(task.id).ok


def test_reopening_keeps_everything(shared_store: Store) -> None:
    first = shared_store.engine()
    task = walk(first, first.create_task("keep").id, "PARSING", "PARSED")
    again = shared_store.engine()
    assert again.get_task(task.id) == task
    assert len(again.history(task.id)) == 2


def test_an_unreachable_postgresql_is_reported_without_the_password() -> None:
    with pytest.raises(aadap.StoreUnavailableError) as info:
        aadap.Engine.open("postgresql://u:pw-secret-9@127.0.0.1:1/db", settings=SETTINGS)
    assert "pw-secret-9" not in str(info.value)
    assert "127.0.0.1" in str(info.value)


def test_list_tasks_filters_pages_and_orders(engine: aadap.Engine) -> None:
    from datetime import datetime, timedelta, timezone

    start = datetime.now(timezone.utc) - timedelta(seconds=1)
    made = [
        engine.create_task(
            f"t{i}",
            priority=i % 4,
            environment="PRODUCTION" if i % 3 == 0 else "SANDBOX",
            platform="fabric" if i % 2 else "databricks",
        )
        for i in range(12)
    ]
    walk(engine, made[0].id, "PARSING")
    walk(engine, made[1].id, "CANCELLED")
    assert len(engine.list_tasks(limit=1000)) == 12
    assert [t.id for t in engine.list_tasks(state="PARSING")] == [made[0].id]
    assert {t.id for t in engine.list_tasks(group="terminal")} == {made[1].id}
    assert len(engine.list_tasks(group="active")) == 11
    assert len(engine.list_tasks(state=["PARSING", "CANCELLED"])) == 2
    assert all(t.environment == "PRODUCTION" for t in engine.list_tasks(environment="production"))
    assert len(engine.list_tasks(environment="PRODUCTION")) == 4
    assert len(engine.list_tasks(platform="fabric")) == 6
    assert all(t.priority >= 2 for t in engine.list_tasks(min_priority=2))
    assert len(engine.list_tasks(min_priority=1, max_priority=2)) == 6
    by_priority = engine.list_tasks(order_by="priority", descending=False, limit=1000)
    assert [t.priority for t in by_priority] == sorted(t.priority for t in by_priority)
    pages = [engine.list_tasks(limit=5, offset=o, order_by="priority") for o in (0, 5, 10)]
    assert sorted(t.id for page in pages for t in page) == sorted(t.id for t in made)
    assert len(engine.list_tasks(created_after=start)) == 12
    assert engine.list_tasks(created_before=start) == []
    assert engine.list_tasks(created_after="2999-01-01T00:00:00Z") == []
    for bad in [
        {"state": "BOGUS"}, {"group": "sleeping"}, {"environment": "STAGING"},
        {"platform": "aws"}, {"min_priority": 11}, {"order_by": "title; DROP TABLE tasks"},
        {"limit": 0}, {"limit": 1001}, {"offset": -1}, {"created_after": "yesterday"},
        {"created_after": datetime(2020, 1, 1)},  # naive
    ]:  # fmt: skip
        with pytest.raises(ValueError):  # noqa: PT011 (each has its own message)
            engine.list_tasks(**bad)  # type: ignore[arg-type]


def test_transition_many_is_all_or_nothing(engine: aadap.Engine) -> None:
    a, b = engine.create_task("a"), engine.create_task("b")
    moved = engine.transition_many(
        [(a.id, "PARSING"), {"task_id": b.id, "to_state": TaskState.PARSING, "reason": "batch"}],
        actor="batcher",
    )
    assert [t.state for t in moved] == [TaskState.PARSING, TaskState.PARSING]
    assert engine.history(b.id)[0].reason == "batch"
    with pytest.raises(aadap.InvalidTransitionError):
        engine.transition_many([(a.id, "PARSED"), (b.id, "COMPLETED")], actor="batcher")
    assert engine.get_task(a.id).state is TaskState.PARSING  # the valid step was rolled back
    with pytest.raises(aadap.InvalidStateError):
        engine.transition_many([(a.id, "PARSED"), (b.id, "NOPE")], actor="batcher")
    assert engine.get_task(a.id).version == 1
    assert engine.verify(a.id).ok


CRASH_CHILD = """
import sys, aadap
s = aadap.Settings.from_env({'HOME': '/nonexistent', 'AADAP_SQLITE_SYNCHRONOUS': 'FULL'},
                            dotenv=None)
e = aadap.Engine.open(sys.argv[1], settings=s)
path = sys.argv[2].split(',')
while True:
    t = e.create_task('crash')
    print('created', t.id, flush=True)
    for state in path:
        t = e.transition(t.id, state, actor='child', expected_version=t.version)
        print('acked', t.id, t.version, flush=True)
"""


def test_sigkill_keeps_every_acknowledged_transition(shared_store: Store) -> None:
    import os
    import signal
    import time

    url = shared_store.url
    shared_store.engine()  # schema in place before the child races
    child = subprocess.Popen([sys.executable, "-c", CRASH_CHILD, url, ",".join(UNGATED_16)],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdout is not None
    acked: dict[str, int] = {}
    deadline = time.monotonic() + 60
    for line in child.stdout:  # kill mid-run, once well into its second task or more
        _, task_id, *rest = line.split()
        acked[task_id] = int(rest[0]) if rest else 0
        if sum(acked.values()) >= 40 or time.monotonic() > deadline:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.stdout.close()
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert sum(acked.values()) >= 40

    engine = shared_store.engine()
    for task_id, version in acked.items():
        task = engine.get_task(task_id)
        # The child may have committed one more step after its last report, never fewer.
        assert version <= task.version <= version + 1
        assert len(engine.history(task_id)) == task.version
        assert engine.verify(task_id).ok, engine.verify(task_id).problems
