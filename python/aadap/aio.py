"""asyncio-friendly engine: every Engine call as an awaitable, for async services.

    engine = await aadap.aio.AsyncEngine.open("sqlite:///tasks.db")
    task = await engine.create_task("Load orders")
    task = await engine.transition(task.id, "PARSING", actor="api")

Each call runs in a worker thread (``asyncio.to_thread``: the current correlation id goes
with it) while the C++ core works without the GIL, so the event loop never blocks on the
store and many calls proceed at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from aadap.engine import Engine
from aadap.vector_memory import VectorMemory

__all__ = ["AsyncEngine", "AsyncVectorMemory"]

P = ParamSpec("P")
R = TypeVar("R")
S = TypeVar("S")


def _awaitable(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[Any, P], Awaitable[R]]:
    """The method run on ``self.sync`` in a worker thread."""

    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    call.__name__ = method.__name__
    call.__qualname__ = f"Async{method.__qualname__}"
    call.__doc__ = method.__doc__
    return call


class AsyncVectorMemory:
    """Awaitable twins of :class:`aadap.VectorMemory`'s methods."""

    def __init__(self, memory: VectorMemory) -> None:
        self.sync = memory

    def __repr__(self) -> str:
        return f"Async{self.sync!r}"

    add = _awaitable(VectorMemory.add)
    add_many = _awaitable(VectorMemory.add_many)
    upsert = _awaitable(VectorMemory.upsert)
    remember = _awaitable(VectorMemory.remember)
    delete = _awaitable(VectorMemory.delete)
    update = _awaitable(VectorMemory.update)
    promote = _awaitable(VectorMemory.promote)
    deprecate = _awaitable(VectorMemory.deprecate)
    govern = _awaitable(VectorMemory.govern)
    refresh = _awaitable(VectorMemory.refresh)
    snapshot = _awaitable(VectorMemory.snapshot)
    get = _awaitable(VectorMemory.get)
    search = _awaitable(VectorMemory.search)
    search_many = _awaitable(VectorMemory.search_many)
    recall = _awaitable(VectorMemory.recall)
    stats = _awaitable(VectorMemory.stats)


class AsyncEngine:
    """Awaitable twins of :class:`aadap.Engine`'s methods (same arguments, same results)."""

    def __init__(self, engine: Engine) -> None:
        self.sync = engine  # the blocking engine, for code that is not async

    @classmethod
    async def open(cls, url: str | None = None, **kwargs: Any) -> AsyncEngine:
        """Like :meth:`aadap.Engine.open`, without blocking the event loop."""
        return cls(await asyncio.to_thread(Engine.open, url, **kwargs))

    def __repr__(self) -> str:
        return f"Async{self.sync!r}"

    async def vector_memory(self, name: str = "default", **kwargs: Any) -> AsyncVectorMemory:
        """Like :meth:`aadap.Engine.vector_memory` (the index is built in a worker thread)."""
        return AsyncVectorMemory(await asyncio.to_thread(self.sync.vector_memory, name, **kwargs))

    create_task = _awaitable(Engine.create_task)
    transition = _awaitable(Engine.transition)
    transition_many = _awaitable(Engine.transition_many)
    get_task = _awaitable(Engine.get_task)
    list_tasks = _awaitable(Engine.list_tasks)
    history = _awaitable(Engine.history)
    replay = _awaitable(Engine.replay)
    verify = _awaitable(Engine.verify)
    audit = _awaitable(Engine.audit)
    timeline = _awaitable(Engine.timeline)
    checkpoint = _awaitable(Engine.checkpoint)
    add_artifact = _awaitable(Engine.add_artifact)
    edit_artifact = _awaitable(Engine.edit_artifact)
    record_validation = _awaitable(Engine.record_validation)
    get_artifact = _awaitable(Engine.get_artifact)
    artifacts = _awaitable(Engine.artifacts)
    request_approval = _awaitable(Engine.request_approval)
    start_review = _awaitable(Engine.start_review)
    approve = _awaitable(Engine.approve)
    reject = _awaitable(Engine.reject)
    expire_due = _awaitable(Engine.expire_due)
    get_approval = _awaitable(Engine.get_approval)
    wait_for_decision = _awaitable(Engine.wait_for_decision)
    approvals = _awaitable(Engine.approvals)
    pending_approvals = _awaitable(Engine.pending_approvals)
    start_execution = _awaitable(Engine.start_execution)
    finish_execution = _awaitable(Engine.finish_execution)
    executions = _awaitable(Engine.executions)
    consume_tokens = _awaitable(Engine.consume_tokens)
    costs = _awaitable(Engine.costs)
    record_resource = _awaitable(Engine.record_resource)
    resources = _awaitable(Engine.resources)
    log = _awaitable(Engine.log)
    logs = _awaitable(Engine.logs)
    prune = _awaitable(Engine.prune)
