"""aadap.aio: the engine's calls as awaitables that keep the correlation id."""

from __future__ import annotations

import asyncio
import inspect

import pytest

import aadap
from aadap.aio import AsyncEngine, AsyncVectorMemory

SETTINGS = aadap.Settings.from_env({"HOME": "/nonexistent"}, dotenv=None)


def test_every_engine_operation_has_an_awaitable_twin() -> None:
    public = {
        name for name, member in inspect.getmembers(aadap.Engine, inspect.isfunction)
        if not name.startswith("_")
    }  # fmt: skip
    twins = {name for name in public if inspect.iscoroutinefunction(getattr(AsyncEngine, name))}
    assert public - {"open"} == twins


def test_every_vector_memory_operation_has_an_awaitable_twin() -> None:
    public = {
        name for name, member in inspect.getmembers(aadap.VectorMemory, inspect.isfunction)
        if not name.startswith("_")
    }  # fmt: skip
    twins = {
        name for name in public if inspect.iscoroutinefunction(getattr(AsyncVectorMemory, name))
    }  # fmt: skip
    assert public == twins

    async def scenario() -> None:
        engine = await AsyncEngine.open("sqlite://", settings=SETTINGS)
        memory = await engine.vector_memory("async", dimension=64)
        await memory.remember(["load the sales table into silver"], provenance="task:1")
        hits = await memory.recall("load the sales table into the silver layer")
        assert [h.content for h in hits] == ["load the sales table into silver"]

    asyncio.run(scenario())


def test_awaitable_calls_run_concurrently_and_carry_the_correlation_id() -> None:
    async def scenario() -> None:
        engine = await AsyncEngine.open("sqlite://", settings=SETTINGS)
        with aadap.correlation_id("async-1"):
            tasks = await asyncio.gather(*(engine.create_task(f"t{i}") for i in range(8)))
            moved = await asyncio.gather(
                *(engine.transition(t.id, "PARSING", actor="api") for t in tasks)
            )
        assert {t.state for t in moved} == {aadap.TaskState.PARSING}
        trail = await engine.audit()
        assert len(trail) == 16
        assert {a.correlation_id for a in trail} == {"async-1"}
        with pytest.raises(aadap.InvalidTransitionError):
            await engine.transition(tasks[0].id, "COMPLETED", actor="api")
        assert (await engine.get_task(tasks[0].id)).version == 1
        assert repr(engine).startswith("AsyncEngine(")

    asyncio.run(scenario())
