"""aadap.WorkingMemory through the public Python API."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import aadap


@pytest.fixture
def clock() -> aadap.ManualClock:
    return aadap.ManualClock()


@pytest.fixture
def wm(clock: aadap.ManualClock) -> aadap.WorkingMemory:
    settings = aadap.Settings.from_env({}, dotenv=None)
    return aadap.WorkingMemory(clock=clock, background_sweeper=False, settings=settings)


def test_bytes_and_str_values(wm: aadap.WorkingMemory) -> None:
    wm.set("wm", "agent-1:plan", b"\x00binary")
    wm.set("wm", "text", "héllo")
    wm.set("wm", "buffer", bytearray(b"ba"))
    assert wm.get("wm", "agent-1:plan") == b"\x00binary"
    assert wm.get("wm", "text") == "héllo".encode()
    assert wm.get("wm", "buffer") == b"ba"
    assert wm.get("wm", "missing") is None
    assert wm.exists("wm", "text")
    assert wm.delete("wm", "text")
    assert not wm.delete("wm", "text")
    assert wm.ping()


def test_ttl_with_a_manual_clock(wm: aadap.WorkingMemory, clock: aadap.ManualClock) -> None:
    wm.set("sess", "s", b"v")
    assert wm.ttl("sess", "s") == 3600
    wm.set("wm", "k", b"v", ttl=120)
    clock.advance(0.5)
    assert wm.ttl("wm", "k") == 120
    clock.advance(119.5)
    assert wm.ttl("wm", "k") == -2
    assert wm.get("wm", "k") is None
    wm.set("wm", "k", b"v", ttl=10)
    assert wm.touch("wm", "k", 20)
    assert wm.ttl("wm", "k") == 20
    assert wm.persist("wm", "k")
    assert wm.ttl("wm", "k") == -1


def test_default_ttl_comes_from_settings() -> None:
    settings = aadap.Settings.from_env({"AADAP_MEMORY_DEFAULT_TTL_SECONDS": "90"}, dotenv=None)
    wm = aadap.WorkingMemory(settings=settings, background_sweeper=False)
    wm.set("wm", "k", b"v")
    assert wm.ttl("wm", "k") == 90
    assert aadap.WorkingMemory(default_ttl=75, settings=settings).max_bytes == 1024**3


def test_registered_namespaces(wm: aadap.WorkingMemory) -> None:
    wm.register_namespace("scratch", default_ttl=None)
    wm.register_namespace("short", default_ttl=60)
    wm.set("scratch", "k", b"v")
    wm.set("short", "k", b"v")
    assert wm.ttl("scratch", "k") == -1
    assert wm.ttl("short", "k") == 60
    assert wm.namespaces() == ["wm", "cp", "tt", "sess", "scratch", "short"]


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda wm: wm.set("wm", "k", b"v", ttl=0), ValueError),
        (lambda wm: wm.set("wm", "k", b"v", ttl=-1), ValueError),
        (lambda wm: wm.set("nope", "k", b"v"), ValueError),
        (lambda wm: wm.set("wm", "k", 42), TypeError),
        (lambda wm: wm.set("wm", "k", None), TypeError),
        (lambda wm: wm.set("wm", 7, b"v"), TypeError),
        (lambda wm: wm.set("wm", "k" * 4097, b"v"), ValueError),
        (lambda wm: wm.scan("wm", "[unclosed"), ValueError),
        (lambda wm: wm.scan("wm", "*", cursor="bogus"), ValueError),
        (lambda wm: wm.register_namespace("has space", 10), ValueError),
        (lambda wm: wm.mset("wm", {"a": b"1", "b": 2}), TypeError),
    ],
)
def test_bad_input_is_refused_and_nothing_is_stored(wm: aadap.WorkingMemory, call, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        call(wm)
    assert isinstance(info.value, aadap.AadapError)
    assert wm.get("wm", "k") is None
    assert wm.get("wm", "a") is None


def test_json_helpers(wm: aadap.WorkingMemory) -> None:
    wm.set_json("cp", "task-1", {"state": "PARSING", "attempt": 2})
    assert wm.get_json("cp", "task-1") == {"state": "PARSING", "attempt": 2}
    assert wm.get_json("cp", "missing", default={}) == {}


def test_batches(wm: aadap.WorkingMemory) -> None:
    wm.mset("wm", {f"k{i}": f"v{i}".encode() for i in range(1000)}, ttl=30)
    wm.mset("wm", [("pair", b"x")])
    values = wm.mget("wm", ["k0", "k999", "absent", "pair"])
    assert values == [b"v0", b"v999", None, b"x"]
    assert wm.ttl("wm", "k5") == 30
    assert wm.keys_count("wm") == 1001


def test_incr(wm: aadap.WorkingMemory) -> None:
    assert wm.incr("tt", "task-1", 1200) == 1200
    assert wm.incr("tt", "task-1") == 1201
    wm.set("tt", "text", b"abc")
    with pytest.raises(ValueError, match="not a decimal integer"):
        wm.incr("tt", "text")


def test_scan_pages_and_iter(wm: aadap.WorkingMemory) -> None:
    for i in range(500):
        wm.set("wm", aadap.scoped_key("agent", str(i % 5), "task", str(i)), b"v")
    wm.set("wm", "literal*star", b"v")
    keys = list(wm.scan_iter("wm", "agent:3:*", count=17))
    assert len(keys) == len(set(keys)) == 100
    cursor, page = wm.scan("wm", "*", "0", 10)
    assert cursor != "0"
    assert len(page) <= 10
    assert list(wm.scan_iter("wm", "literal\\*star")) == ["literal*star"]


def test_scoped_key_escapes() -> None:
    assert aadap.scoped_key("agent", "a:b") == "agent:a\\:b"
    assert aadap.scoped_key("agent", "a:b") != aadap.scoped_key("agent", "a", "b")
    with pytest.raises(TypeError):
        aadap.scoped_key("agent", 5)  # type: ignore[arg-type]


def test_eviction_and_stats(clock: aadap.ManualClock) -> None:
    settings = aadap.Settings.from_env({}, dotenv=None)
    wm = aadap.WorkingMemory(max_bytes=10_000, shards=1, clock=clock, settings=settings)
    for i in range(200):
        wm.set("wm", f"k{i:03d}", b"x" * 36)  # 4 + 36 + 64 = 104 bytes each
    stats = wm.stats()["wm"]
    assert stats.bytes <= 10_000
    assert stats.evictions == 200 - stats.keys
    assert wm.get("wm", "k000") is None  # the oldest went first
    assert wm.get("wm", "k199") == b"x" * 36
    assert "WorkingMemory(keys=" in repr(wm)
    assert "<table" in wm._repr_html_()


def test_sweep(wm: aadap.WorkingMemory, clock: aadap.ManualClock) -> None:
    wm.mset("sess", {f"s{i}": b"v" for i in range(10)}, ttl=5)
    clock.advance(5)
    assert wm.sweep_expired() == 10
    assert wm.stats()["sess"].expirations == 10
    assert wm.clear("sess") == 0


def test_threads_hammering_from_python() -> None:
    settings = aadap.Settings.from_env({}, dotenv=None)
    wm = aadap.WorkingMemory(settings=settings)
    barrier = threading.Barrier(8)

    def worker(t: int) -> int:
        barrier.wait()
        for i in range(2000):
            key = f"k{(i * 13 + t) % 500}"
            wm.set("wm", key, f"{t}:{i}".encode())
            wm.get("wm", key)
            wm.incr("tt", "counter")
            if i % 100 == 0:
                wm.mset("wm", {f"batch{t}:{j}": b"b" for j in range(50)})
                list(wm.scan_iter("wm", "batch*", count=64))
        return t

    with ThreadPoolExecutor(8) as pool:
        assert sorted(pool.map(worker, range(8))) == list(range(8))
    assert wm.get("tt", "counter") == b"16000"
    assert wm.keys_count("wm") == 500 + 8 * 50
