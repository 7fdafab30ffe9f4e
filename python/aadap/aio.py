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

__all__ = ["AsyncEngine"]

P = ParamSpec("P")
R = TypeVar("R")


def _awaitable(
    method: Callable[Concatenate[Engine, P], R],
) -> Callable[Concatenate[AsyncEngine, P], Awaitable[R]]:
    async def call(self: AsyncEngine, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    call.__name__ = method.__name__
    call.__qualname__ = f"AsyncEngine.{method.__name__}"
    call.__doc__ = method.__doc__
    return call


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
