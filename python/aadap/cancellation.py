"""Cancelling platform calls that asyncio runs on worker threads.

A blocking call of the C++ core checks about every 50 ms whether it should stop: on the main
thread Ctrl-C stops it (KeyboardInterrupt); on a worker thread started by :func:`run_in_thread`,
cancelling the awaiting task does. The call then stops as an interrupted one does: requests
end, and the remote work it started (a SQL statement, a job run, a notebook job) is cancelled.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

__all__ = ["current_event", "run_in_thread"]

P = ParamSpec("P")
R = TypeVar("R")

_EVENT: ContextVar[threading.Event | None] = ContextVar("aadap_cancel_event", default=None)


def current_event() -> threading.Event | None:
    """The event that cancels the calls of this context (read by the core's cancel checks)."""
    return _EVENT.get()


async def run_in_thread(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``func`` on a worker thread (``asyncio.to_thread``: the context, with the correlation
    id, goes with it); cancelling the awaiting task cancels the call."""
    event = threading.Event()
    token = _EVENT.set(event)
    try:
        return await asyncio.to_thread(func, *args, **kwargs)
    except asyncio.CancelledError:
        event.set()
        raise
    finally:
        _EVENT.reset(token)
