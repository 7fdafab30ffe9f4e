"""What only PostgreSQL has to prove: many processes at once, concurrent migrations, a server
restart in the middle of a burst, hostile text. (The store conformance suite in test_engine.py
and test_governance.py runs on PostgreSQL too.)"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest

import aadap
from aadap.testing import PostgresCluster, create_database

from .governed import UNGATED_16, ship

SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)


@pytest.fixture
def database(postgres_url: str) -> str:
    return create_database(postgres_url)


def run_children(code: str, *args: str, count: int) -> list[str]:
    procs = [
        subprocess.Popen([sys.executable, "-c", code, *args, str(n)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for n in range(count)
    ]  # fmt: skip
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        outputs.append(out)
    return outputs


MIGRATE = """
import sys, aadap
s = aadap.Settings.from_env({'HOME': '/nonexistent'}, dotenv=None)
aadap.Engine.open(sys.argv[1], settings=s).create_task('from ' + sys.argv[2])
print('ok')
"""


def test_four_processes_migrating_a_fresh_database_at_once(database: str) -> None:
    assert run_children(MIGRATE, database, count=4) == ["ok\n"] * 4
    engine = aadap.Engine.open(database, settings=SETTINGS)
    assert len(engine.list_tasks()) == 4
    from aadap.testing import psql

    versions = psql(database, "SELECT version FROM schema_migrations ORDER BY version").split()
    assert versions == [str(v) for v in range(1, len(versions) + 1)]  # each applied once


RACE = """
import json, random, sys, aadap
from aadap import lifecycle
s = aadap.Settings.from_env({'HOME': '/nonexistent'}, dotenv=None)
aadap.set_log_level('ERROR')
engine = aadap.Engine.open(sys.argv[1], settings=s)
ids = json.loads(sys.argv[2])
rng = random.Random(int(sys.argv[3]))
counts = {'success': 0, 'conflict': 0, 'refused': 0}
for _ in range(200):
    task = engine.get_task(rng.choice(ids))
    targets = sorted(lifecycle.allowed_transitions(task.state)) or ['PARSING']
    target = rng.choice(targets)
    try:
        engine.transition(task.id, target, actor='p' + sys.argv[3],
                          expected_version=task.version)
        counts['success'] += 1
    except aadap.ConcurrencyError:
        counts['conflict'] += 1
    except (aadap.InvalidTransitionError, aadap.ApprovalError):
        counts['refused'] += 1
print(json.dumps(counts))
"""


def test_four_processes_racing_over_shared_tasks(database: str) -> None:
    engine = aadap.Engine.open(database, settings=SETTINGS)
    ids = [engine.create_task(f"shared {i}").id for i in range(50)]
    results = [json.loads(out) for out in run_children(RACE, database, json.dumps(ids), count=4)]
    successes = sum(r["success"] for r in results)
    refusals = sum(r["refused"] for r in results)
    assert sum(r["success"] + r["conflict"] + r["refused"] for r in results) == 800
    assert successes > 0
    events = sum(len(engine.history(task_id)) for task_id in ids)
    assert events == successes  # no lost or duplicated event
    violations = [a for a in engine.audit() if a.event_type == "guard.violation"]
    assert len(violations) == refusals
    for task_id in ids:
        report = engine.verify(task_id)
        assert report.ok, report.problems


def test_the_engine_survives_a_server_restart_mid_burst() -> None:
    with PostgresCluster() as cluster:
        engine = aadap.Engine.open(cluster.url, settings=SETTINGS)
        tasks = [engine.create_task(f"burst {i}").id for i in range(20)]
        acknowledged: list[tuple[str, int]] = []
        failures: list[Exception] = []
        stop = threading.Event()

        def burst(mine: list[str]) -> None:
            # Each task walks the 16 ungated steps; its version says how far it got.
            for task_id in mine:
                for _ in range(40):
                    if stop.is_set():
                        return
                    try:
                        current = engine.get_task(task_id)
                        if current.version >= len(UNGATED_16):
                            break
                        moved = engine.transition(task_id, UNGATED_16[current.version],
                                                  actor="burst",
                                                  expected_version=current.version)  # fmt: skip
                        acknowledged.append((task_id, moved.version))
                    except aadap.StoreError as error:  # in flight when the server went away
                        failures.append(error)

        threads = [threading.Thread(target=burst, args=(tasks[i::4],)) for i in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.2)
        cluster.restart("fast")
        for thread in threads:
            thread.join(timeout=120)
        stop.set()
        # The engine reconnected by itself: it works without being reopened.
        after = engine.create_task("after the restart")
        assert engine.transition(after.id, "PARSING", actor="x").version == 1
        assert acknowledged, "no transition was acknowledged around the restart"
        for task_id, version in acknowledged:
            history = engine.history(task_id)
            assert [e.seq for e in history] == list(range(1, len(history) + 1))
            assert len(history) >= version  # every acknowledged transition is present
            assert history[version - 1].to_state == UNGATED_16[version - 1]  # exactly once
        for task_id in tasks:
            report = engine.verify(task_id)
            assert report.ok, report.problems


HOSTILE = [
    "Robert'); DROP TABLE tasks;--", 'say "hi"; -- and\\ backslash\\\\', "naïve ünïcødé 🚀 中文",
    "$$ dollar $$ quoting $tag$", "semi;colon -- comment /* block */",
]  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_hostile_text_is_stored_and_returned_unchanged(backend: str, postgres_url: str) -> None:
    url = create_database(postgres_url) if backend == "postgres" else "sqlite://"
    engine = aadap.Engine.open(url, settings=SETTINGS)
    for text in HOSTILE:
        task = engine.create_task(text, description=text, metadata={text: text}, actor=text)
        moved = engine.transition(task.id, "PARSING", actor=text, reason=text,
                                  metadata={"k" + text: [text]})  # fmt: skip
        again = engine.get_task(task.id)
        assert (again.title, again.description, again.created_by) == (text, text, text)
        assert again.metadata == {text: text}
        event = engine.history(task.id)[0]
        assert (event.actor, event.reason, event.metadata) == (text, text, {"k" + text: [text]})
        assert moved == again
        artifact = engine.add_artifact(task.id, "generated_code", text, text, actor=text)
        assert engine.get_artifact(artifact.id).content == text
    assert len(engine.list_tasks(limit=100)) == len(HOSTILE)
    before = len(engine.audit())
    with pytest.raises(aadap.InvalidArgumentError, match="NUL"):
        engine.create_task("nul\x00byte")
    with pytest.raises(aadap.InvalidArgumentError, match="NUL"):
        engine.transition(task.id, "PARSED", actor="a\x00b")
    assert len(engine.audit()) == before


def test_pool_stays_within_its_limits(database: str) -> None:
    settings = aadap.Settings.from_env(
        {"HOME": "/nonexistent", "AADAP_DB_POOL_SIZE": "2", "AADAP_DB_POOL_OVERFLOW": "1"},
        dotenv=None,
    )
    engine = aadap.Engine.open(database, settings=settings)
    task = engine.create_task("pooled")
    errors: list[Exception] = []

    def reader() -> None:
        try:
            for _ in range(50):
                engine.get_task(task.id)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=reader) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    from aadap.testing import psql

    used = psql(database, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                          "'aadap' AND datname = current_database()")  # fmt: skip
    assert int(used) <= 2  # the overflow connection was closed when returned


def test_one_pooled_connection_is_enough_for_every_operation(database: str) -> None:
    # No operation may need a second connection while it holds one (that would wait for
    # itself): the whole governed path on a pool of exactly one.
    settings = aadap.Settings.from_env(
        {"HOME": "/nonexistent", "AADAP_DB_POOL_SIZE": "1", "AADAP_DB_POOL_OVERFLOW": "0"},
        dotenv=None,
    )
    engine = aadap.Engine.open(database, settings=settings)
    task = engine.create_task("one connection")
    done = ship(engine, task.id, operation="destructive")
    assert done.state == aadap.TaskState.COMPLETED
    engine.consume_tokens(task.id, 10)
    engine.log(task.id, "fine")
    assert engine.timeline(task.id).task.id == task.id
    assert engine.prune(timedelta(0)) == [task.id]
