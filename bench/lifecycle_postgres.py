"""The task engine on PostgreSQL against pgbench and SQLAlchemy 2 + asyncpg, same server, same
run (``.venv/bin/python bench/lifecycle.py --backend postgres``).

- pgbench runs the equivalent transaction as a custom script (prepared protocol):
  BEGIN; UPDATE tasks ... RETURNING version; INSERT state_transitions; INSERT audit_events;
  COMMIT — with 1 client and with 8.
- aadap: durable transitions (the 16 ungated steps of many tasks), 1 thread and 8 threads on
  one engine with a pool of 8, and transition_many in batches of 1,000.
- SQLAlchemy 2 + asyncpg written the straightforward way: one ORM session per transition
  (lock the task, count entries, read the last seq, add the event, update the task, add the
  audit row, commit), one client.
The server is a throwaway one (fsync and synchronous_commit off), the same for every peer.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import BigInteger, DateTime, String, func, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import aadap
from aadap.testing import PostgresCluster, create_database, psql
from aadap.testing.postgres import find_bin_dir

PATH = [
    "PARSING", "PARSE_FAILED", "PARSING", "PARSED", "PLANNING", "PLANNED", "AGENT_ASSIGNMENT",
    "AGENT_ASSIGNED", "IN_DEVELOPMENT", "CODE_GENERATED", "IN_VALIDATION", "VALIDATION_FAILED",
    "IN_DEVELOPMENT", "DEV_FAILED", "IN_DEVELOPMENT", "CODE_GENERATED",
]  # fmt: skip

PGBENCH_SCRIPT = """\\set tid random(1, 2000)
BEGIN;
UPDATE tasks SET version = version + 1, updated_at = now() WHERE id = 't' || :tid RETURNING version AS v \\gset
INSERT INTO state_transitions (id, task_id, seq, from_state, to_state, actor, reason, metadata, correlation_id, created_at) VALUES (gen_random_uuid()::text, 't' || :tid, :v, 'PARSING', 'PARSED', 'pgbench', '', '{}', NULL, now());
INSERT INTO audit_events (id, correlation_id, task_id, event_type, actor, action, resource_type, resource_id, details, created_at) VALUES (gen_random_uuid()::text, NULL, 't' || :tid, 'state.transition', 'pgbench', 'PARSING → PARSED', 'task', 't' || :tid, '{"seq": 1}', now());
COMMIT;
"""  # noqa: E501 - pgbench reads one statement per line


def settings(pool: int) -> aadap.Settings:
    return aadap.Settings.from_env(
        {"HOME": "/nonexistent", "AADAP_DB_POOL_SIZE": str(pool), "AADAP_DB_POOL_OVERFLOW": "0"},
        dotenv=None,
    )


def aadap_rate(url: str, clients: int, tasks_per_client: int) -> float:
    engine = aadap.Engine.open(url, settings=settings(max(clients, 1)))
    groups = [[engine.create_task(f"c{c}t{i}").id for i in range(tasks_per_client)]
              for c in range(clients)]  # fmt: skip

    def work(ids: list[str]) -> None:
        for task_id in ids:
            for state in PATH:
                engine.transition(task_id, state, actor="bench")

    threads = [threading.Thread(target=work, args=(ids,)) for ids in groups]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return clients * tasks_per_client * len(PATH) / (time.perf_counter() - start)


def transition_many_rate(url: str) -> float:
    engine = aadap.Engine.open(url, settings=settings(2))
    ids = [engine.create_task(f"m{i}").id for i in range(5000)]
    start = time.perf_counter()
    for offset in range(0, len(ids), 1000):
        engine.transition_many([(i, "PARSING") for i in ids[offset : offset + 1000]], actor="b")
    return len(ids) / (time.perf_counter() - start)


def pgbench_rate(url: str, clients: int, seconds: int = 8) -> float:
    aadap.Engine.open(url, settings=settings(1))  # the schema
    values = ",".join(f"('t{i}', 'pgbench task', 'PARSING')" for i in range(1, 2001))
    psql(url, f"INSERT INTO tasks (id, title, current_state) VALUES {values}")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(PGBENCH_SCRIPT)
    done = subprocess.run(
        [str(find_bin_dir() / "pgbench"), "-n", "-M", "prepared", "-f", script.name,
         "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds), url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    Path(script.name).unlink()
    match = re.search(r"tps = ([0-9.]+)", done.stdout)
    if match is None:
        raise RuntimeError(f"no tps in pgbench output: {done.stdout[-500:]}")
    return float(match.group(1))


# The straightforward ORM mapping of the three tables a transition touches.
class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    title: Mapped[str] = mapped_column(String)
    current_state: Mapped[str] = mapped_column(String)
    version: Mapped[int] = mapped_column(BigInteger)
    retry_count: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Event(Base):
    __tablename__ = "state_transitions"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    task_id: Mapped[str] = mapped_column(String)
    seq: Mapped[int] = mapped_column(BigInteger)
    from_state: Mapped[str] = mapped_column(String)
    to_state: Mapped[str] = mapped_column(String)
    actor: Mapped[str] = mapped_column(String)
    reason: Mapped[str] = mapped_column(String)
    meta: Mapped[dict[str, object]] = mapped_column("metadata", JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Audit(Base):
    __tablename__ = "audit_events"
    id: Mapped[str] = mapped_column(String, primary_key=True)
    task_id: Mapped[str] = mapped_column(String)
    event_type: Mapped[str] = mapped_column(String)
    actor: Mapped[str] = mapped_column(String)
    action: Mapped[str] = mapped_column(String)
    details: Mapped[dict[str, object]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def sqlalchemy_rate(url: str, tasks: int) -> float:
    aadap.Engine.open(url, settings=settings(1))  # the schema
    ids = [str(uuid.uuid4()) for _ in range(tasks)]
    values = ",".join(f"('{i}', 'orm task')" for i in ids)
    psql(url, f"INSERT INTO tasks (id, title) VALUES {values}")

    async def run() -> float:
        engine = create_async_engine(url.replace("postgresql://", "postgresql+asyncpg://"))
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        start = time.perf_counter()
        for task_id in ids:
            for to_state in PATH:
                async with sessions() as session, session.begin():
                    task = await session.get(Task, task_id, with_for_update=True)
                    assert task is not None
                    await session.scalar(select(func.count()).select_from(Event).where(
                        Event.task_id == task_id, Event.to_state == to_state))  # fmt: skip
                    last = await session.scalar(
                        select(func.coalesce(func.max(Event.seq), 0)).where(
                            Event.task_id == task_id
                        )
                    )
                    now = datetime.now(timezone.utc)
                    session.add(Event(id=str(uuid.uuid4()), task_id=task_id, seq=(last or 0) + 1,
                                      from_state=task.current_state, to_state=to_state,
                                      actor="orm", reason="", meta={}, created_at=now))  # fmt: skip
                    action = f"{task.current_state} → {to_state}"
                    task.current_state, task.version, task.updated_at = (
                        to_state, task.version + 1, now)  # fmt: skip
                    seq = (last or 0) + 1
                    session.add(Audit(id=str(uuid.uuid4()), task_id=task_id,
                                      event_type="state.transition", actor="orm", action=action,
                                      details={"seq": seq}, created_at=now))  # fmt: skip
        elapsed = time.perf_counter() - start
        await engine.dispose()
        return tasks * len(PATH) / elapsed

    return asyncio.run(run())


def main() -> None:
    aadap.set_log_level("WARNING")
    with PostgresCluster() as cluster:
        fresh = lambda: create_database(cluster.url)  # noqa: E731
        one = aadap_rate(fresh(), 1, 40)
        eight = aadap_rate(fresh(), 8, 15)
        bench_one = pgbench_rate(fresh(), 1)
        bench_eight = pgbench_rate(fresh(), 8)
        many = transition_many_rate(fresh())
        orm = sqlalchemy_rate(fresh(), 20)
    print("| clients | aadap transitions/s | pgbench tps | aadap / pgbench |")
    print("|---|---|---|---|")
    print(f"| 1 | {one:,.0f} | {bench_one:,.0f} | {one / bench_one:.2f}x |")
    print(f"| 8 | {eight:,.0f} | {bench_eight:,.0f} | {eight / bench_eight:.2f}x |")
    print(f"\ntransition_many (batches of 1,000): {many:,.0f} transitions/s")
    print(f"SQLAlchemy 2 + asyncpg, one ORM session per transition: {orm:,.0f} transitions/s "
          f"(aadap 1 client / ORM: {one / orm:.2f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
