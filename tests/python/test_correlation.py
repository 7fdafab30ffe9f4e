"""Correlation ids: contextvars semantics and the ASGI middleware."""

from __future__ import annotations

import asyncio
import contextvars
import re
import threading
from pathlib import Path
from typing import Any

import pytest

import aadap

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def test_generated_ids_are_uuid4() -> None:
    with aadap.correlation_id() as cid:
        assert UUID4.match(cid)
        assert aadap.current_correlation_id() == cid
    assert aadap.current_correlation_id() is None
    assert UUID4.match(aadap.new_correlation_id())


def test_nesting_restores_the_outer_id() -> None:
    with aadap.correlation_id("outer"):
        with aadap.correlation_id("inner"):
            assert aadap.current_correlation_id() == "inner"
        assert aadap.current_correlation_id() == "outer"


def test_restored_even_when_the_block_raises() -> None:
    with pytest.raises(RuntimeError), aadap.correlation_id("doomed"):
        raise RuntimeError
    assert aadap.current_correlation_id() is None


def test_invalid_ids_are_refused() -> None:
    for bad in ["", "a b", "x\r\nSet-Cookie: y", "x" * 129]:
        with pytest.raises(ValueError, match="correlation id"), aadap.correlation_id(bad):
            pass
    with pytest.raises(TypeError), aadap.correlation_id(42):  # type: ignore[arg-type]
        pass


def test_threads_do_not_see_each_others_ids() -> None:
    seen: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        with aadap.correlation_id(name):
            barrier.wait()
            seen[name] = aadap.current_correlation_id()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("t1", "t2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"t1": "t1", "t2": "t2"}


def test_copy_context_carries_the_id_into_a_thread() -> None:
    result: list[str | None] = []
    with aadap.correlation_id("carried"):
        ctx = contextvars.copy_context()
    thread = threading.Thread(
        target=ctx.run, args=(lambda: result.append(aadap.current_correlation_id()),)
    )
    thread.start()
    thread.join()
    assert result == ["carried"]


def test_asyncio_tasks_are_isolated() -> None:
    async def handle(name: str) -> tuple[str, str | None]:
        with aadap.correlation_id(name):
            await asyncio.sleep(0.01)
            return name, aadap.current_correlation_id()

    async def main() -> list[tuple[str, str | None]]:
        return await asyncio.gather(*(handle(f"req-{i}") for i in range(20)))

    for name, seen in asyncio.run(main()):
        assert name == seen


def test_from_headers(clean_env: Path) -> None:
    assert aadap.correlation_id_from_headers({"x-correlation-id": "abc"}) == "abc"
    assert aadap.correlation_id_from_headers({"X-Request-ID": "r1"}, header="x-request-id") == "r1"
    assert UUID4.match(aadap.correlation_id_from_headers({}))
    assert UUID4.match(aadap.correlation_id_from_headers({"X-Correlation-ID": "bad id"}))


async def _call(app: Any, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await app({"type": "http", "headers": headers}, receive, send)
    return sent


async def _echo_app(scope: Any, receive: Any, send: Any) -> None:
    body = (aadap.current_correlation_id() or "").encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def test_asgi_middleware_uses_and_echoes_the_incoming_id(clean_env: Path) -> None:
    app = aadap.CorrelationIdMiddleware(_echo_app)
    start, body = asyncio.run(_call(app, [(b"x-correlation-id", b"from-client")]))
    assert body["body"] == b"from-client"
    assert (b"x-correlation-id", b"from-client") in start["headers"]
    assert (b"content-type", b"text/plain") in start["headers"]


def test_asgi_middleware_creates_an_id_when_missing(clean_env: Path) -> None:
    app = aadap.CorrelationIdMiddleware(_echo_app, header="X-Request-ID")
    start, body = asyncio.run(_call(app, []))
    cid = body["body"].decode()
    assert UUID4.match(cid)
    assert (b"x-request-id", cid.encode()) in start["headers"]
    assert aadap.current_correlation_id() is None


def test_asgi_middleware_passes_lifespan_through() -> None:
    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append(scope["type"])

    async def noop() -> Any:
        return {}

    async def discard(message: Any) -> None:
        return None

    asyncio.run(aadap.CorrelationIdMiddleware(app)({"type": "lifespan"}, noop, discard))
    assert calls == ["lifespan"]
