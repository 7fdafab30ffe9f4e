"""Correlation ids (config-and-logging.md §3).

``with aadap.correlation_id("req-42"):`` sets the id for everything the block does, in this
thread or asyncio task and in the tasks it spawns (it is a :mod:`contextvars` variable). The
Python layer passes it explicitly into every C++ call that logs or sends HTTP, so it survives
GIL releases and the core's thread pools.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from contextvars import ContextVar
from typing import Any

from aadap import _core

__all__ = [
    "CorrelationIdMiddleware",
    "correlation_id",
    "correlation_id_from_headers",
    "current_correlation_id",
    "new_correlation_id",
]

_current: ContextVar[str | None] = ContextVar("aadap_correlation_id", default=None)


def new_correlation_id() -> str:
    """A fresh uuid4 string."""
    return _core.new_correlation_id()


def current_correlation_id() -> str | None:
    """The id set by the innermost enclosing :func:`correlation_id` block, or ``None``."""
    return _current.get()


@contextlib.contextmanager
def correlation_id(value: str | None = None) -> Iterator[str]:
    """Set the correlation id for the block (a new uuid4 when ``value`` is None).

    Yields the id. Raises :class:`aadap.InvalidArgumentError` for an id that is empty, longer
    than 128 characters or contains spaces or control characters (it travels in HTTP headers).
    """
    if value is not None and not isinstance(value, str):
        raise _core.InvalidTypeError(f"a correlation id is a str, not {type(value).__name__}")
    cid = _core.new_correlation_id() if value is None else value
    _core.validate_correlation_id(cid)
    token = _current.set(cid)
    try:
        yield cid
    finally:
        _current.reset(token)


def correlation_id_from_headers(headers: Mapping[str, str], header: str | None = None) -> str:
    """The id carried by incoming request headers, or a new one when absent or invalid.

    ``header`` defaults to ``AADAP_CORRELATION_ID_HEADER`` (``X-Correlation-ID``); the lookup is
    case-insensitive.
    """
    name = (header or _header_name()).lower()
    for key, value in headers.items():
        if key.lower() == name:
            try:
                _core.validate_correlation_id(value)
            except _core.InvalidArgumentError:
                break
            return value
    return _core.new_correlation_id()


def _header_name() -> str:
    from aadap.settings import get_settings

    return get_settings().correlation_id_header


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class CorrelationIdMiddleware:
    """ASGI middleware (FastAPI, Starlette, any ASGI app): take the correlation id from the
    incoming header or create one, run the request inside :func:`correlation_id`, and echo the
    id on the response::

        app.add_middleware(aadap.CorrelationIdMiddleware)          # FastAPI / Starlette
        app = aadap.CorrelationIdMiddleware(app, header="X-Request-ID")  # plain ASGI
    """

    def __init__(self, app: ASGIApp, header: str | None = None) -> None:
        self.app = app
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        name = self.header or _header_name()
        headers = {
            key.decode("latin-1"): value.decode("latin-1")
            for key, value in scope.get("headers", [])
        }
        cid = correlation_id_from_headers(headers, name)
        encoded = (name.lower().encode("latin-1"), cid.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message.get("type") == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []), encoded]
            await send(message)

        with correlation_id(cid):
            await self.app(scope, receive, send_with_id)
