"""The task engine on SQLite against a bare Python sqlite3 loop, side by side in one run.

The peer performs the same statements per transition as the engine (lock/read the task; count
the entries into the target state and read the last seq, in one query; insert the event;
update the task; insert the audit row) in one BEGIN IMMEDIATE ... COMMIT, on the same schema
and PRAGMAs, without any of the engine's validation. Its ids are uuid.uuid4(), as a plain
Python loop would mint them; the engine's are time-ordered UUIDv7. Reported: durable
transitions/s with synchronous FULL and NORMAL and the ratio of time per transition;
transition_many throughput; get_task and history (20 events) reads/s.

    .venv/bin/python bench/lifecycle.py                      # SQLite
    .venv/bin/python bench/lifecycle.py --backend postgres   # see lifecycle_postgres.py
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import time
import uuid
from pathlib import Path

import aadap

# 16 transitions that meet none of the governance gates (artifacts, approvals, deployment
# are measured separately): a parse retry and two development reworks.
PATH = [
    "PARSING", "PARSE_FAILED", "PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT",
    "AGENT_ASSIGNED", "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION", "VALIDATION_FAILED",
    "IN_DEVELOPMENT", "DEV_FAILED", "IN_DEVELOPMENT", "CODE_GENERATED",
]  # fmt: skip
# 20 events for the history reads.
DEEP = [
    "PARSING", "PARSE_FAILED", "PARSING", "PARSE_FAILED", "PARSING", "PARSED", "PLANNING",
    "PLANNED", "AGENT_ASSIGNMENT", "AGENT_ASSIGNED", "IN_DEVELOPMENT", "CODE_GENERATED",
    "IN_VALIDATION", "VALIDATION_FAILED", "IN_DEVELOPMENT", "DEV_FAILED", "IN_DEVELOPMENT",
    "CODE_GENERATED", "IN_VALIDATION", "VALIDATION_FAILED",
]  # fmt: skip


def settings(synchronous: str) -> aadap.Settings:
    return aadap.Settings.from_env(
        {"HOME": "/nonexistent", "AADAP_SQLITE_SYNCHRONOUS": synchronous},
        dotenv=None,
    )


def engine_rate(directory: Path, synchronous: str, tasks: int) -> float:
    engine = aadap.Engine.open(f"sqlite:///{directory}/engine-{synchronous}.db",
                               settings=settings(synchronous))  # fmt: skip
    ids = [engine.create_task(f"t{i}").id for i in range(tasks)]
    start = time.perf_counter()
    for task_id in ids:
        for state in PATH:
            engine.transition(task_id, state, actor="bench")
    return tasks * len(PATH) / (time.perf_counter() - start)


def peer_rate(directory: Path, synchronous: str, tasks: int) -> float:
    path = directory / f"peer-{synchronous}.db"
    aadap.Engine.open(f"sqlite:///{path}", settings=settings(synchronous))  # the same schema
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA cache_size = -32768")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    now = "2026-01-01T00:00:00.000Z"
    ids = []
    for i in range(tasks):
        task_id = str(uuid.uuid4())
        db.execute("INSERT INTO tasks (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                   (task_id, f"t{i}", now, now))  # fmt: skip
        ids.append(task_id)
    start = time.perf_counter()
    for task_id in ids:
        for to_state in PATH:
            db.execute("BEGIN IMMEDIATE")
            state, version, retry = db.execute(
                "SELECT current_state, version, retry_count FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
            _, seq = db.execute(
                "SELECT count(*) FILTER (WHERE to_state = ?2), coalesce(max(seq), 0) "
                "FROM state_transitions WHERE task_id = ?1",
                (task_id, to_state),
            ).fetchone()
            db.execute(
                "INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor, "
                "reason, metadata, correlation_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (str(uuid.uuid4()), task_id, seq + 1, state, to_state, "bench", "", "{}", "", now),
            )
            db.execute(
                "UPDATE tasks SET current_state = ?, version = ?, retry_count = ?, updated_at = ? "
                "WHERE id = ?",
                (to_state, version + 1, retry, now, task_id),
            )
            db.execute(
                "INSERT INTO audit_events (id, correlation_id, task_id, event_type, actor, action, "
                "resource_type, resource_id, details, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (str(uuid.uuid4()), "", task_id, "state.transition", "bench",
                 f"{state} → {to_state}", "task", task_id,
                 json.dumps({"from_state": state, "to_state": to_state, "seq": seq + 1}), now),
            )  # fmt: skip
            db.execute("COMMIT")
    return tasks * len(PATH) / (time.perf_counter() - start)


def batch_and_reads(directory: Path, run: int) -> dict[str, float]:
    engine = aadap.Engine.open(f"sqlite:///{directory}/batch-{run}.db", settings=settings("FULL"))
    ids = [engine.create_task(f"t{i}").id for i in range(5000)]
    start = time.perf_counter()
    for offset in range(0, len(ids), 1000):
        engine.transition_many([(i, "PARSING") for i in ids[offset : offset + 1000]], actor="b")
    many = len(ids) / (time.perf_counter() - start)
    deep = engine.create_task("deep").id
    for state in DEEP:
        engine.transition(deep, state, actor="bench")
    start = time.perf_counter()
    reads = 5000
    for _ in range(reads):
        engine.get_task(deep)
    get_rate = reads / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(reads):
        engine.history(deep)
    history_rate = reads / (time.perf_counter() - start)
    assert len(engine.history(deep)) == 20
    return {"transition_many": many, "get_task": get_rate, "history_20": history_rate}


def main() -> None:
    # Per-transition INFO lines would be most of the cost; services usually run at WARNING.
    aadap.set_log_level("WARNING")
    tasks = 60
    rows = ["| synchronous | aadap transitions/s | bare sqlite3 loop/s | time ratio (aadap/peer) |",
            "|---|---|---|---|"]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        for synchronous in ("FULL", "NORMAL"):
            ours = max(engine_rate(directory, synchronous, tasks) for _ in range(2))
            peer = max(peer_rate(directory, synchronous, tasks) for _ in range(2))
            rows.append(f"| {synchronous} | {ours:,.0f} | {peer:,.0f} | {peer / ours:.2f}x |")
        # Best of three for the batch and read figures: other tenants of the machine only
        # ever make a run slower.
        runs = [batch_and_reads(directory, n) for n in range(3)]
        other = {key: max(run[key] for run in runs) for key in runs[0]}
    print("\n".join(rows))
    print(f"\ntransition_many (batches of 1,000): {other['transition_many']:,.0f} transitions/s")
    print(f"get_task: {other['get_task']:,.0f} reads/s; history (20 events): "
          f"{other['history_20']:,.0f} reads/s")  # fmt: skip


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    if parser.parse_args().backend == "postgres":
        import lifecycle_postgres

        lifecycle_postgres.main()
    else:
        main()
