"""Vector memory, exact mode, against a numpy scan of the same float32 matrix, same run
(``.venv/bin/python bench/vector_memory.py [--rows 100000] [--dim 1536]``).

Data: clustered random unit vectors (1,000 clusters) with planted near-duplicates of every
query. numpy's BLAS runs on one thread (OPENBLAS_NUM_THREADS=1, set before numpy loads) as
the exact scan does; OPENBLAS_CORETYPE is printed as found. Reported: single-query p50 of
``memory.search(q, k=10)`` against ``matrix @ q`` alone and with the top-k selection, the
ids compared; add_many of every row (one call, one SQLite transaction); opening the memory
again (the index rebuilt from SQLite). Then hnsw mode against ChromaDB (``--no-chroma`` skips
it): single-query p50, add time, recall of the exact hits, open from the snapshot.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import aadap


def dataset(rows: int, dim: int, queries: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((1000, dim), dtype=np.float32)
    matrix = centers[rng.integers(0, 1000, rows)]
    matrix += 0.6 * rng.standard_normal((rows, dim), dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    picked = rng.choice(rows, queries, replace=False)
    # Noise scaled by 1/sqrt(dim): a query sits at cosine ~0.995 from its row, its planted
    # near-duplicates at ~0.98 down to ~0.86 — above the 0.85 floor, so results are not empty.
    scale = 1 / np.sqrt(dim)
    q = matrix[picked] + 0.1 * scale * rng.standard_normal((queries, dim), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    for j, row in enumerate(picked):  # near-duplicates of each query: 5 rows after its own
        for i in range(1, 6):
            noise = (0.1 + 0.1 * i) * scale * rng.standard_normal(dim, dtype=np.float32)
            matrix[(row + i) % rows] = (q[j] + noise) / np.linalg.norm(q[j] + noise)
    return np.ascontiguousarray(matrix), np.ascontiguousarray(q.astype(np.float32))


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1536)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--no-chroma", dest="chroma", action="store_false",
                        help="skip hnsw mode against ChromaDB")  # fmt: skip
    args = parser.parse_args()
    aadap.set_log_level("WARNING")
    matrix, queries = dataset(args.rows, args.dim, args.queries)
    print(f"{args.rows:,} x {args.dim}, {args.queries} queries; OPENBLAS_NUM_THREADS="
          f"{os.environ['OPENBLAS_NUM_THREADS']}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '(not set)')}")  # fmt: skip

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = aadap.Engine.open(url)
        memory = engine.vector_memory("bench", dimension=args.dim)
        start = time.perf_counter()
        entities = memory.add_many([f"entity {i}" for i in range(args.rows)], matrix,
                                   provenance="bench")  # fmt: skip
        add_seconds = time.perf_counter() - start
        ids = np.array([e.id for e in entities])
        print(f"kernel: {memory.stats()['kernel']}")

        ours: list[float] = []
        bare: list[float] = []
        topk: list[float] = []
        same = 0
        found = 0
        for _round in range(3):
            for q in queries:
                start = time.perf_counter()
                hits = memory.search(q, k=10)
                ours.append(time.perf_counter() - start)
                start = time.perf_counter()
                scores = matrix @ q
                bare.append(time.perf_counter() - start)
                start = time.perf_counter()
                scores = matrix @ q
                best = np.argpartition(-scores, 10)[:10]
                best = best[np.argsort(-scores[best])]
                best = best[scores[best] >= 0.85]
                topk.append(time.perf_counter() - start)
                same += [h.id for h in hits] == list(ids[best])
                found += len(hits)
        del engine, memory

        start = time.perf_counter()
        reopened = aadap.Engine.open(url).vector_memory("bench", dimension=args.dim)
        open_seconds = time.perf_counter() - start
        assert len(reopened) == args.rows

    ratio = p50(ours) / p50(bare)
    print("| measure | aadap exact | numpy peer | ratio (aadap / numpy) |")
    print("|---|---|---|---|")
    print(f"| single query p50 (k=10) vs `matrix @ q` | {p50(ours):.1f} ms | {p50(bare):.1f} ms "
          f"| {ratio:.2f}x |")  # fmt: skip
    print(f"| single query p50 (k=10) vs `matrix @ q` + top-k | {p50(ours):.1f} ms | "
          f"{p50(topk):.1f} ms | {p50(ours) / p50(topk):.2f}x |")  # fmt: skip
    print(f"\nsame ids as numpy: {same} of {len(ours)} queries ({found / len(ours):.1f} hits "
          "at >= 0.85 per query)")  # fmt: skip
    print(f"add_many of {args.rows:,}: {add_seconds:.2f} s ({args.rows / add_seconds:,.0f}/s)")
    print(f"open (index rebuilt from SQLite): {open_seconds:.2f} s")
    if args.chroma:
        against_chroma(matrix, queries, add_seconds)


def against_chroma(matrix: np.ndarray, queries: np.ndarray, exact_add_seconds: float) -> None:
    """hnsw mode against ChromaDB (in-process, cosine space, default settings, batched add):
    build time, single-query p50 and the recall of the exact result set (hits >= 0.85)."""
    import chromadb  # the `bench` extra

    rows, dim = matrix.shape
    client = chromadb.EphemeralClient()
    collection = client.create_collection("bench", metadata={"hnsw:space": "cosine"})
    keys = [str(i) for i in range(rows)]
    batch = client.get_max_batch_size()
    start = time.perf_counter()
    for first in range(0, rows, batch):
        collection.add(ids=keys[first : first + batch], embeddings=matrix[first : first + batch])
    chroma_add = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hnsw.db'}"
        snapshot = Path(tmp) / "bench.hnsw"
        engine = aadap.Engine.open(url)
        exact = engine.vector_memory("exact", dimension=dim)
        exact.add_many(["x"] * rows, matrix, provenance="bench", ids=keys)
        graph = engine.vector_memory("graph", dimension=dim, index="hnsw", snapshot=snapshot)
        start = time.perf_counter()
        graph.add_many(["x"] * rows, matrix, provenance="bench", ids=keys)
        graph_add = time.perf_counter() - start
        graph.snapshot()
        ours: list[float] = []
        theirs: list[float] = []
        found_ours = found_theirs = wanted = 0
        for q in queries:
            want = {h.id for h in exact.search(q, k=10)}
            start = time.perf_counter()
            got = {h.id for h in graph.search(q, k=10)}
            ours.append(time.perf_counter() - start)
            start = time.perf_counter()
            answer = collection.query(query_embeddings=[q], n_results=10)
            theirs.append(time.perf_counter() - start)
            distances = answer["distances"]
            assert distances is not None
            near = {i for i, d in zip(answer["ids"][0], distances[0], strict=True) if 1 - d >= 0.85}
            wanted += len(want)
            found_ours += len(want & got)
            found_theirs += len(want & near)
        del engine, exact, graph
        start = time.perf_counter()
        aadap.Engine.open(url).vector_memory("graph", dimension=dim, index="hnsw",
                                             snapshot=snapshot)  # fmt: skip
        reopen = time.perf_counter() - start

    print("\n| measure | aadap | ChromaDB | ratio (Chroma / aadap) |")
    print("|---|---|---|---|")
    print(f"| single-query p50, hnsw | {p50(ours):.2f} ms | {p50(theirs):.2f} ms | "
          f"{p50(theirs) / p50(ours):.2f}x |")  # fmt: skip
    print(f"| add all rows (aadap exact) | {exact_add_seconds:.1f} s | {chroma_add:.1f} s | "
          f"{chroma_add / exact_add_seconds:.1f}x |")  # fmt: skip
    print(f"| add all rows (aadap hnsw) | {graph_add:.1f} s | {chroma_add:.1f} s | "
          f"{chroma_add / graph_add:.1f}x |")  # fmt: skip
    print(
        f"\nrecall of the exact hits >= 0.85: aadap hnsw {found_ours}/{wanted}, "
        f"ChromaDB {found_theirs}/{wanted}; open from the snapshot: {reopen:.2f} s"
    )


if __name__ == "__main__":
    main()
