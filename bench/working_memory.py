"""Working memory against its peers, side by side in one run (issue: working memory).

Peers: a pure-Python TTL store with the same semantics (dict + threading.Lock +
time.monotonic, below) and Redis (Debian's redis-server on loopback, through redis-py), plus the
C++-only figures of bench/working_memory_bench.cpp. 16-byte keys, 100-byte values, uniform
random access; lookups use key objects distinct from the stored ones. Every figure is the best
of three runs (the machines are shared and noisy); the table shows ratios.

    .venv/bin/python bench/working_memory.py            # everything available
    .venv/bin/python bench/working_memory.py --no-redis

Redis needs `apt-get install redis-server` and `pip install redis` (bench-only, not in CI).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import aadap

ROOT = Path(__file__).resolve().parents[1]
VALUE = b"v" * 100


class PythonTTLStore:
    """The reference peer: the same get/set/TTL semantics in plain Python."""

    def __init__(self, default_ttl: float = 3600.0) -> None:
        self._data: dict[str, tuple[bytes, float]] = {}
        self._lock = threading.Lock()
        self._ttl = default_ttl

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        with self._lock:
            self._data[key] = (value, time.monotonic() + (ttl or self._ttl))

    def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry[1] <= time.monotonic():
                del self._data[key]
                return None
            return entry[0]

    def mget(self, keys: Sequence[str]) -> list[bytes | None]:
        now = time.monotonic()
        with self._lock:
            out: list[bytes | None] = []
            for key in keys:
                entry = self._data.get(key)
                out.append(entry[0] if entry is not None and entry[1] > now else None)
            return out

    def mset(self, items: dict[str, bytes]) -> None:
        deadline = time.monotonic() + self._ttl
        with self._lock:
            for key, value in items.items():
                self._data[key] = (value, deadline)


def best_rate(run: Callable[[], int], repeats: int = 3) -> float:
    """Operations per second of the fastest of `repeats` runs."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        ops = run()
        best = max(best, ops / (time.perf_counter() - start))
    return best


def workload(n_keys: int, n_ops: int) -> tuple[list[str], list[str]]:
    keys = [os.urandom(8).hex() for _ in range(n_keys)]
    rng = random.Random(7)
    # Distinct objects with equal values: what a caller that builds its keys would pass.
    lookups = ["".join(list(keys[rng.randrange(n_keys)])) for _ in range(n_ops)]
    return keys, lookups


def measure(ops: dict[str, Callable[[], int]]) -> dict[str, float]:
    return {op: best_rate(fn) for op, fn in ops.items()}


def python_ops(keys: list[str], lookups: list[str]) -> dict[str, Callable[[], int]]:
    store = PythonTTLStore()
    for key in keys:
        store.set(key, VALUE)
    batch = lookups[:1000]
    items = dict.fromkeys(batch, VALUE)

    def get() -> int:
        g = store.get
        for key in lookups:
            g(key)
        return len(lookups)

    def set_() -> int:
        s = store.set
        for key in lookups:
            s(key, VALUE)
        return len(lookups)

    def mget() -> int:
        for _ in range(100):
            store.mget(batch)
        return 100 * len(batch)

    def mset() -> int:
        for _ in range(100):
            store.mset(items)
        return 100 * len(items)

    return {"get": get, "set": set_, "mget": mget, "mset": mset}


def aadap_ops(keys: list[str], lookups: list[str]) -> dict[str, Callable[[], int]]:
    settings = aadap.Settings.from_env({}, dotenv=None)
    wm = aadap.WorkingMemory(settings=settings)
    wm.mset("wm", dict.fromkeys(keys, VALUE))
    batch = lookups[:1000]
    items = dict.fromkeys(batch, VALUE)
    assert all(v is not None for v in wm.mget("wm", batch))

    def get() -> int:
        g = wm.get
        for key in lookups:
            g("wm", key)
        return len(lookups)

    def set_() -> int:
        s = wm.set
        for key in lookups:
            s("wm", key, VALUE)
        return len(lookups)

    def mget() -> int:
        for _ in range(100):
            wm.mget("wm", batch)
        return 100 * len(batch)

    def mset() -> int:
        for _ in range(100):
            wm.mset("wm", items)
        return 100 * len(items)

    return {"get": get, "set": set_, "mget": mget, "mset": mset}


class RedisServer:
    """A private redis-server on a free loopback port, without persistence."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="aadap-redis-")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def client(self) -> Any:
        import redis

        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def redis_ops(client: Any, keys: list[str], lookups: list[str]) -> dict[str, Callable[[], int]]:
    client.flushall()
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, VALUE, ex=3600)
    pipe.execute()
    few = lookups[:20_000]  # a round trip per call: fewer operations keep the run short
    batch = lookups[:1000]

    def get() -> int:
        for key in few:
            client.get(key)
        return len(few)

    def set_() -> int:
        for key in few:
            client.set(key, VALUE, ex=3600)
        return len(few)

    def mget() -> int:
        for _ in range(20):
            client.mget(batch)
        return 20 * len(batch)

    return {"get": get, "set": set_, "mget": mget}


def cpp_figures() -> dict[str, float]:
    build = ROOT / "build" / "bench"
    subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(build), "-G", "Ninja", "-DCMAKE_BUILD_TYPE=Release",
         "-DAADAP_BUILD_BENCH=ON"],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    subprocess.run(
        ["cmake", "--build", str(build), "--target", "working_memory_bench"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [str(build / "bench" / "working_memory_bench")], capture_output=True, text=True, check=True
    )
    figures: dict[str, float] = json.loads(out.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis peer")
    parser.add_argument("--ops", type=int, default=200_000, help="single-key operations per run")
    args = parser.parse_args()
    use_redis = not args.no_redis and shutil.which("redis-server") is not None
    server = RedisServer() if use_redis else None
    client = server.client() if server else None
    rows: list[str] = []
    try:
        for n_keys in (1_000, 100_000):
            keys, lookups = workload(n_keys, args.ops)
            py = measure(python_ops(keys, lookups))
            ours = measure(aadap_ops(keys, lookups))
            rows.append(f"\n### {n_keys:,} keys (operations per second; ratio = aadap / peer)\n")
            rows.append("| operation | aadap | pure Python | ratio | Redis | ratio |")
            rows.append("|---|---|---|---|---|---|")
            red = measure(redis_ops(client, keys, lookups)) if client else {}
            for op in ("get", "set", "mget", "mset"):
                peer = py[op]
                redis_rate = red.get(op)
                redis_cells = (
                    f"{redis_rate:,.0f} | {ours[op] / redis_rate:.1f}x" if redis_rate else "— | —"
                )
                rows.append(
                    f"| {op} | {ours[op]:,.0f} | {peer:,.0f} | {ours[op] / peer:.2f}x | "
                    f"{redis_cells} |"
                )
            rows.append(
                "\nbatched per-key vs single-key: "
                f"aadap mget/get {ours['mget'] / ours['get']:.1f}x, "
                f"mset/set {ours['mset'] / ours['set']:.1f}x; aadap mget vs pure-Python single get "
                f"{ours['mget'] / py['get']:.1f}x, mset vs pure-Python single set "
                f"{ours['mset'] / py['set']:.1f}x"
            )
    finally:
        if server:
            server.stop()
    cpp = cpp_figures()
    rows.append("\n### C++ only, 100,000 keys\n")
    one, two = cpp["gets_per_second_1_thread"], cpp["gets_per_second_2_threads"]
    rows.append(f"- get: {one:,.0f}/s on one thread, {two:,.0f}/s on two ({two / one:.2f}x)")
    rows.append(
        f"- memory: {cpp['heap_bytes_per_entry']:.1f} heap bytes per entry, "
        f"{cpp['overhead_bytes_per_entry']:.1f} beyond the key and value bytes"
    )
    print("\n".join(rows))


if __name__ == "__main__":
    main()
