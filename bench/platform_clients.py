"""aadap.AzureOpenAI against openai-python's AzureOpenAI (sync) on the same local fake, same
run (``.venv/bin/python bench/platform_clients.py [--calls 2000] [--threads 16]``).

The fake (aadap.testing.FakeAzureOpenAI, plain HTTP on 127.0.0.1) runs in a process of its
own, so the CPU time measured in this process (``time.process_time``, every thread) is the
clients'. Reported: client CPU time per chat completion over ``--calls`` sequential calls;
throughput with ``--threads`` threads sharing one client; TCP connections each client opened
(counted by the fake: during the sequential calls, which reuse the connection of a first
checking call, then during the threaded ones).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

import aadap
from aadap.testing import FakeAzureOpenAI

KEY = "bench-key-0123456789"
PROMPT = "Write a SQL statement that counts the orders of each customer in 2026."


def serve(pipe: Connection) -> None:
    with FakeAzureOpenAI(api_key=KEY) as fake:
        fake.respond(".*", "SELECT customer_id, count(*) FROM orders GROUP BY customer_id")
        pipe.send(fake.url)
        while (command := pipe.recv()) != "stop":
            if command == "connections":
                pipe.send(fake.connections)
                fake.reset_counters()


def measure(call: Callable[[], object], calls: int, threads: int) -> tuple[float, float]:
    """(CPU seconds per call, calls per second) of `calls` calls spread over `threads`."""
    per_thread = calls // threads

    def work() -> None:
        for _ in range(per_thread):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    cpu, wall = time.process_time(), time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    done = per_thread * threads
    return cpu / done, done / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    aadap.set_log_level("WARNING")

    import openai

    pipe, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=serve, args=(child,), daemon=True)
    server.start()
    url = pipe.recv()

    def connections() -> int:
        pipe.send("connections")
        count: int = pipe.recv()
        return count

    ours = aadap.AzureOpenAI(url, api_key=KEY, deployment="gpt-4o")
    theirs = openai.AzureOpenAI(azure_endpoint=url, api_key=KEY, api_version="2024-02-01")
    messages = [{"role": "user", "content": PROMPT}]

    def call_ours() -> object:
        return ours.complete(messages=messages, max_tokens=200)

    def call_theirs() -> object:
        return theirs.chat.completions.create(model="gpt-4o", messages=messages, max_tokens=200)

    assert str(call_ours()) == call_theirs().choices[0].message.content  # the same answers
    connections()  # counted from here: each client's own connection of the check is reused
    results = {}
    for name, call in (("aadap", call_ours), ("openai", call_theirs)):
        for _ in range(50):  # warm up (on the connection the sequential calls go on using)
            call()
        cpu, _rate = measure(call, args.calls, 1)
        sequential_connections = connections()
        _cpu, rate = measure(call, args.calls, args.threads)
        results[name] = (cpu, rate, sequential_connections, connections())
    pipe.send("stop")
    server.join(10)
    theirs.close()

    (a_cpu, a_rate, a_seq, a_conn), (o_cpu, o_rate, o_seq, o_conn) = (
        results["aadap"],
        results["openai"],
    )
    print(f"{args.calls:,} chat completions against FakeAzureOpenAI in another process")
    print("| measure | aadap | openai-python | ratio |")
    print("|---|---|---|---|")
    print(f"| client CPU per call, 1 thread | {a_cpu * 1e6:.0f} µs | {o_cpu * 1e6:.0f} µs | "
          f"{a_cpu / o_cpu:.2f}x (aadap / openai) |")  # fmt: skip
    print(f"| throughput, {args.threads} threads | {a_rate:,.0f}/s | {o_rate:,.0f}/s | "
          f"{a_rate / o_rate:.2f}x (aadap / openai) |")  # fmt: skip
    print(f"| connections opened (1 thread / {args.threads} threads) | {a_seq} / {a_conn} | "
          f"{o_seq} / {o_conn} | |")  # fmt: skip


if __name__ == "__main__":
    main()
