"""Working memory (tier 1): a namespaced key/value store with TTL, in C++ (memory.md §1).

    wm = aadap.WorkingMemory()
    wm.set("wm", "agent-1:plan", b"...", ttl=600)
    wm.get("wm", "agent-1:plan")            # b"..." or None
    wm.set_json("sess", "u-7", {"step": 3})
    for key in wm.scan_iter("wm", "agent-1:*"): ...

Namespaces: ``wm`` (AADAP_MEMORY_DEFAULT_TTL_SECONDS, default 3600 s), ``cp`` (86400 s), ``tt``
(7200 s), ``sess`` (3600 s), plus those you register. Values are bytes (str is stored as UTF-8,
bytearray as bytes). ``ttl()`` answers -1 for a key without expiry and -2 for a missing one.
Memory is bounded by ``max_bytes`` (AADAP_MEMORY_MAX_BYTES) with least-recently-used eviction;
an entry counts as key + value + 64 bytes.

Thread-safe: entries are spread over ``shards`` independently locked shards, and the GIL is
released for batch work (``mset``, ``clear``, ``keys_count``, ``stats``). Single operations are
shorter than a GIL hand-off, so they keep it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from aadap import _core
from aadap._core import ManualClock, NamespaceStats

__all__ = ["ManualClock", "NamespaceStats", "WorkingMemory", "scoped_key"]


def scoped_key(*parts: str) -> str:
    """Join parts with ``:`` after escaping ``\\`` and ``:`` inside each, so ids cannot
    collide: ``scoped_key("agent", "a:b") != scoped_key("agent", "a", "b")``."""
    for part in parts:
        if not isinstance(part, str):
            raise _core.InvalidTypeError(f"key parts are str, not {type(part).__name__}")
    return _core.scoped_key(list(parts))


class WorkingMemory(_core.WorkingMemoryCore):
    """A process-local key/value store with namespaces, TTLs and LRU eviction.

    ``max_bytes`` and ``default_ttl`` (the ``wm`` namespace's TTL) default to the settings.
    ``clock`` may be a :class:`ManualClock` to test expiry without sleeping;
    ``background_sweeper=False`` leaves reclamation of expired keys to access and
    :meth:`sweep_expired`.
    """

    def __init__(
        self,
        *,
        max_bytes: int | None = None,
        default_ttl: int | None = None,
        shards: int = 64,
        clock: _core.Clock | None = None,
        background_sweeper: bool = True,
        settings: _core.Settings | None = None,
    ) -> None:
        if settings is None:
            from aadap.settings import get_settings

            settings = get_settings()
        super().__init__(max_bytes, default_ttl, shards, clock, background_sweeper, settings)

    def touch(self, ns: str, key: str, ttl: int) -> bool:
        """Alias of :meth:`expire`: give a live key a new TTL."""
        return self.expire(ns, key, ttl)

    def set_json(self, ns: str, key: str, value: Any, ttl: int | None = None) -> None:
        """Store a JSON-serialisable value (as compact UTF-8 JSON)."""
        self.set(ns, key, json.dumps(value, separators=(",", ":")), ttl)

    def get_json(self, ns: str, key: str, default: Any = None) -> Any:
        """The JSON value stored under key, or ``default`` when missing."""
        raw = self.get(ns, key)
        return default if raw is None else json.loads(raw)

    def scan(
        self, ns: str, pattern: str = "*", cursor: str = "0", count: int = 100
    ) -> tuple[str, list[str]]:
        """One page: ``(next_cursor, keys)``; ``next_cursor == "0"`` when the walk is done.

        ``pattern`` is a glob (``*``, ``?``, ``[abc]``, ``[!a]``, ``\\`` escapes). Every key that
        exists for the whole walk is returned exactly once."""
        if count < 1:
            raise _core.InvalidArgumentError(f"count must be >= 1 (got {count})")
        return super().scan(ns, pattern, cursor, count)

    def scan_iter(self, ns: str, pattern: str = "*", count: int = 1000) -> Iterator[str]:
        """Every matching live key, page by page."""
        cursor = "0"
        while True:
            cursor, keys = self.scan(ns, pattern, cursor, count)
            yield from keys
            if cursor == "0":
                return

    def stats(self) -> dict[str, NamespaceStats]:  # type: ignore[override]
        """Per namespace: keys, bytes, hits, misses, expirations, evictions."""
        return {s.name: s for s in super().stats()}

    def __repr__(self) -> str:
        stats = self.stats()
        keys = sum(s.keys for s in stats.values())
        used = sum(s.bytes for s in stats.values())
        return (
            f"WorkingMemory(keys={keys}, bytes={used}, max_bytes={self.max_bytes}, "
            f"namespaces={list(stats)})"
        )

    def _repr_html_(self) -> str:
        from aadap.notebook import working_memory_html

        return working_memory_html(self)
