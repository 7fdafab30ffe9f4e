"""Vector memory on the SQLite store: exact search against a numpy brute-force scan, the 0.85
floor, filters inside the scan (the starvation case), persistence and reopening, governance
predicates at their thresholds, and bad input refused without a write. On PostgreSQL: the same
results as on SQLite, for the same calls."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import aadap
from aadap import HashingEmbedder, InvalidArgumentError, NotFoundError
from aadap.testing import create_database

from .conftest import Store

DIM = 64
NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=91)  # past the 90-day staleness limit


@pytest.fixture
def engine(tmp_path: Path) -> aadap.Engine:
    return aadap.Engine.open(f"sqlite:///{tmp_path / 'memory.db'}")


def unit(v: np.ndarray) -> np.ndarray:
    out: np.ndarray = (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)
    return out


def stored(mem: aadap.VectorMemory, entity_id: str) -> np.ndarray:
    embedding = mem.get(entity_id).embedding
    assert embedding is not None
    return embedding


def at_cosine(query: np.ndarray, cosine: float, rng: np.random.Generator) -> np.ndarray:
    """A unit vector whose cosine with the unit vector `query` is `cosine` (in float64)."""
    q = query.astype(np.float64)
    other = rng.standard_normal(q.shape)
    other -= other.dot(q) * q
    other /= np.linalg.norm(other)
    out: np.ndarray = (cosine * q + np.sqrt(1 - cosine**2) * other).astype(np.float32)
    return out


def test_exact_search_equals_a_brute_force_scan_with_the_same_filters(
    engine: aadap.Engine,
) -> None:
    rng = np.random.default_rng(7)
    mem = engine.vector_memory("exact", dimension=DIM)
    queries = unit(rng.standard_normal((25, DIM)))
    # Background noise plus, for every query, planted near-duplicates in 0.86 .. 0.99.
    vectors = [unit(rng.standard_normal((1500, DIM)))]
    vectors += [np.stack([at_cosine(q, c, rng) for c in rng.uniform(0.86, 0.99, 12)])
                for q in queries]  # fmt: skip
    matrix = np.concatenate(vectors)
    n = len(matrix)
    types = rng.choice(["task", "pattern", "error_resolution"], n)
    teams = rng.choice(["red", "blue"], n)
    sources = rng.choice(["task:1", "task:2", "run:9"], n)
    confidence = rng.uniform(0.6, 1.0, n).round(3)
    stale = rng.random(n) < 0.1
    entities = mem.add_many(
        [f"entity {i}" for i in range(n)], matrix,
        provenance=list(sources), entity_type=list(types), confidence=list(confidence),
        metadata=[{"team": t} for t in teams],
        created_at=[OLD if s else None for s in stale],
    )  # fmt: skip
    ids = np.array([e.id for e in entities])
    deprecated = rng.random(n) < 0.1
    for i in np.flatnonzero(deprecated):
        mem.deprecate(str(ids[i]), "test")

    def brute_force(
        q: np.ndarray, kind: str | None, team: str | None, prefix: str | None
    ) -> dict[str, float]:
        sims = matrix.astype(np.float64) @ q.astype(np.float64)
        ok = (sims >= 0.85) & ~deprecated & ~stale
        if kind is not None:
            ok &= types == kind
        if team is not None:
            ok &= teams == team
        if prefix is not None:
            ok &= np.char.startswith(sources.astype(str), prefix)
        return {str(ids[i]): sims[i] for i in np.flatnonzero(ok)}

    checked = 0
    for q in queries:
        cases = [(None, None, None), ("task", None, None), (None, "red", "task:"),
                 ("pattern", "blue", "run:")]  # fmt: skip
        for kind, team, prefix in cases:
            expected = brute_force(q, kind, team, prefix)
            hits = mem.search(q, k=100, entity_type=kind,
                              metadata=None if team is None else {"team": team},
                              provenance_prefix=prefix)  # fmt: skip
            assert {h.id for h in hits} == set(expected)
            for h in hits:
                assert h.similarity == pytest.approx(expected[h.id], abs=1e-5)
            sims = [h.similarity for h in hits]
            assert sims == sorted(sims, reverse=True)
            checked += len(hits)
    assert checked > 300  # the planted neighbours were found, filters and all
    # search_many answers each query as search does
    many = mem.search_many(queries, k=5, entity_type="task")
    assert [[h.id for h in hits] for hits in many] == [
        [h.id for h in mem.search(q, k=5, entity_type="task")] for q in queries
    ]


def test_a_live_entity_is_found_behind_two_thousand_nearer_disqualified_ones(
    engine: aadap.Engine,
) -> None:
    rng = np.random.default_rng(3)
    mem = engine.vector_memory("starvation", dimension=DIM)
    query = unit(rng.standard_normal(DIM))
    nearer = np.stack([at_cosine(query, c, rng) for c in rng.uniform(0.95, 0.999, 2000)])
    decoys = mem.add_many([f"decoy {i}" for i in range(2000)], nearer, provenance="task:1",
                          created_at=[OLD if i % 2 else None for i in range(2000)])  # fmt: skip
    for decoy in decoys[::2]:  # the fresh half is deprecated, the other half is stale
        mem.deprecate(decoy.id)
    live = mem.add("the one", at_cosine(query, 0.9, rng), provenance="task:2")
    hits = mem.search(query, k=1)
    assert [h.id for h in hits] == [live.id]
    assert hits[0].similarity == pytest.approx(0.9, abs=1e-5)
    assert mem.stats()["searchable"] == 1


def test_nothing_below_the_floor_is_ever_returned(engine: aadap.Engine) -> None:
    mem = engine.vector_memory("floor", dimension=DIM)
    query = np.zeros(DIM, dtype=np.float32)
    query[0] = 1
    rng = np.random.default_rng(1)
    below = mem.add("at 0.8499", at_cosine(query, 0.8499, rng), provenance="t")
    at = mem.add("at 0.85", at_cosine(query, 0.85, rng), provenance="t")
    for asked in (0.0, -1.0, 0.5, 0.8499, 0.85):
        assert [h.id for h in mem.search(query, k=10, min_similarity=asked)] == [at.id]
    assert mem.search(query, min_similarity=0.86) == []
    assert below.id in mem


def test_reopening_rebuilds_the_same_index_and_refuses_another_embedder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    rng = np.random.default_rng(5)
    queries = unit(rng.standard_normal((10, DIM)))
    first = aadap.Engine.open(url).vector_memory("kept", dimension=DIM)
    first.add_many([f"e{i}" for i in range(60)],
                   np.concatenate([np.stack([at_cosine(q, c, rng) for c in (0.9, 0.95, 0.87)])
                                   for q in queries] + [unit(rng.standard_normal((30, DIM)))]),
                   provenance="task:1", metadata=[{"i": i} for i in range(60)])  # fmt: skip
    used = first.search(queries[0], k=1, record_use=True)[0]
    before = [[(h.id, round(h.similarity, 6)) for h in hits] for hits in first.search_many(queries)]

    engine = aadap.Engine.open(url)
    again = engine.vector_memory("kept", dimension=DIM)
    after = [[(h.id, round(h.similarity, 6)) for h in hits] for hits in again.search_many(queries)]
    assert after == before
    assert again.get(used.id).use_count == 1
    assert len(again) == 60
    with pytest.raises(InvalidArgumentError, match="64-dimensional"):
        engine.vector_memory("kept", dimension=128)

    class Other(HashingEmbedder):
        pass

    # Same identity, same dimension: accepted. A different dimension of the default embedder
    # is another identity and is refused.
    assert engine.vector_memory("kept", embedder=Other(DIM)).dimension == DIM
    with pytest.raises(InvalidArgumentError, match="feature-hashing"):
        engine.vector_memory("kept")  # 1536 dimensions


def test_governance_predicates_at_their_thresholds(engine: aadap.Engine) -> None:
    mem = engine.vector_memory("governed", dimension=DIM)
    rng = np.random.default_rng(9)
    e = mem.add("pattern", unit(rng.standard_normal(DIM)), provenance="task:1")
    eid = e.id

    def with_uses(n: int) -> None:
        query = stored(mem, eid)
        while mem.get(eid).use_count < n:
            mem.search(query, k=1, record_use=True)

    with_uses(2)
    assert not mem.get(eid).promotion_eligible()
    with_uses(3)
    assert mem.get(eid).promotion_eligible()
    assert not mem.update(eid, validation_pass_rate=0.8999).promotion_eligible()
    assert mem.update(eid, validation_pass_rate=0.90).promotion_eligible()
    thirty = NOW - timedelta(days=30)
    assert not mem.update(eid, critical_failure_at=thirty).promotion_eligible(now=NOW)
    assert mem.get(eid).promotion_eligible(now=NOW + timedelta(seconds=1))

    assert not mem.update(eid, validation_failures=1).deprecation_required
    assert mem.update(eid, validation_failures=2).deprecation_required
    mem.update(eid, validation_failures=0)
    assert not mem.update(eid, confidence=0.6).deprecation_required
    assert mem.update(eid, confidence=0.5999).deprecation_required
    mem.update(eid, confidence=0.9)
    assert mem.update(eid, metadata={"outdated": True}).deprecation_required

    promote = mem.add("good", unit(rng.standard_normal(DIM)), provenance="task:2")
    for _ in range(3):
        mem.search(stored(mem, promote.id), k=1, record_use=True)
    report = mem.govern()
    assert report == {"promoted": [promote.id], "deprecated": [eid]}
    assert mem.get(promote.id).metadata["promoted"] is True
    assert mem.get(eid).is_deprecated
    assert mem.search(stored(mem, eid)) == []  # deprecated: never returned
    assert mem.govern() == {"promoted": [], "deprecated": []}


def test_bad_input_is_refused_and_nothing_is_written(engine: aadap.Engine) -> None:
    mem = engine.vector_memory("strict", dimension=DIM)
    good = np.ones(DIM, dtype=np.float32)
    mem.add("kept", good, provenance="task:1", id="fixed")
    bad_vectors = [np.zeros(DIM), np.full(DIM, np.nan), np.full(DIM, np.inf), np.ones(DIM + 1)]
    for vector in bad_vectors:
        with pytest.raises(InvalidArgumentError):
            mem.add_many(["a", "b"], np.stack([good, vector]) if len(vector) == DIM else vector,
                         provenance="task:1")  # fmt: skip
        with pytest.raises(InvalidArgumentError):
            mem.search(vector)
    for content, provenance in [("", "task:1"), ("   ", "task:1"), ("x", ""), ("x", "  ")]:
        with pytest.raises(InvalidArgumentError):
            mem.add_many(["fine", content], np.stack([good, good]), provenance=["t", provenance])
    with pytest.raises(InvalidArgumentError, match="already holds"):
        mem.add("again", good, provenance="task:1", id="fixed")
    with pytest.raises(InvalidArgumentError):
        mem.add("x", good, provenance="t", confidence=1.5)
    with pytest.raises(InvalidArgumentError):
        mem.add("x", good, provenance="t", metadata=[1])  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        mem.search(good, k=0)
    with pytest.raises(InvalidArgumentError):
        mem.search(good, min_similarity=1.5)
    with pytest.raises(NotFoundError):
        mem.get("missing")
    assert len(mem) == 1
    assert mem.get("fixed").content == "kept"


def test_upsert_delete_and_record_use(engine: aadap.Engine) -> None:
    mem = engine.vector_memory("crud", dimension=DIM)
    v = np.arange(1, DIM + 1, dtype=np.float32)
    mem.add("first", v, provenance="task:1", id="a")
    mem.search(v, record_use=True)
    replaced = mem.upsert("second", v[::-1].copy(), id="a", provenance="task:2")
    assert replaced.use_count == 1
    assert replaced.content == "second"
    assert np.allclose(stored(mem, "a"), v[::-1] / np.linalg.norm(v), atol=1e-6)
    assert stored(mem, "a").flags.writeable is False
    mem.add("b", v, provenance="task:1", id="b")
    assert mem.delete(["a", "missing", "a"]) == 1
    assert "a" not in mem
    assert "b" in mem
    assert [h.id for h in mem.search(v)] == ["b"]
    assert mem.search(v.astype(np.float64).tolist())[0].id == "b"  # lists and float64 too


def test_hashing_embedder_remember_and_recall(engine: aadap.Engine) -> None:
    mem = engine.vector_memory()
    assert mem.dimension == 1536
    assert isinstance(mem.embedder, HashingEmbedder)
    mem.remember(
        ["Load the daily sales table from the raw zone into silver",
         "Rotate the service principal secret every ninety days"],
        provenance="task:7", entity_type="task",
    )  # fmt: skip
    hits = mem.recall("Load the daily sales table from the raw zone into the silver layer")
    assert [h.content for h in hits] == ["Load the daily sales table from the raw zone into silver"]
    assert hits[0].similarity >= 0.85
    vectors = mem.embedder.embed_batch(["cancel the streaming job", "vacuum the delta table"])
    assert vectors.shape == (2, 1536)
    assert vectors.dtype == np.float32
    assert float(vectors[0] @ vectors[1]) < 0.3
    with pytest.raises(InvalidArgumentError, match="index 1"):
        mem.embedder.embed_batch(["fine", "  "])
    frame = hits.to_pandas()
    assert list(frame.columns[:3]) == ["similarity", "id", "memory_name"]


def observe(mem: aadap.VectorMemory, queries: np.ndarray) -> dict[str, Any]:
    """What the memory holds and answers, but the times of writes (they differ per run)."""
    entities = {}
    for i in range(3100):
        if f"e{i}" in mem:
            fields = mem.get(f"e{i}").to_dict()
            fields["embedding"] = fields["embedding"].tobytes()
            del fields["updated_at"]
            fields["metadata"].pop("deprecated_at", None)
            entities[f"e{i}"] = fields
    filtered = [
        mem.search(
            q, k=10, entity_type="task", metadata={"team": "red"}, provenance_prefix="task:1"
        )
        for q in queries
    ]
    return {
        "entities": entities,
        "hits": [[(h.id, h.similarity) for h in hits] for hits in mem.search_many(queries, k=4)],
        "filtered": [[h.id for h in hits] for hits in filtered],
        "stats": mem.stats(),
    }


def exercise(url: str) -> list[Any]:
    """Add, search, upsert, deprecate, update, delete and reopen on the store at `url`: what
    each step returned, what the memory held then, and what reopening it gave."""
    rng = np.random.default_rng(11)
    queries = unit(rng.standard_normal((8, DIM)))
    near = [np.stack([at_cosine(q, c, rng) for c in (0.97, 0.93, 0.89)]) for q in queries]
    # 3076 more rows: the PostgreSQL store writes them in several statements.
    matrix = np.concatenate([*near, unit(rng.standard_normal((3076, DIM)))])
    n = len(matrix)
    day = NOW.replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    mem = aadap.Engine.open(url).vector_memory("shared", dimension=DIM)
    added = mem.add_many(
        [f'entity {i}: "quoted", a back\\slash, ünïcödé → 世界 🎉' for i in range(n)],
        matrix,
        ids=[f"e{i}" for i in range(n)],
        provenance=[f"task:{i % 3}" for i in range(n)],
        entity_type=["task", "pattern"] * (n // 2),
        confidence=[0.6 + (i % 40) / 100 for i in range(n)],
        metadata=[
            {"team": "red" if i % 5 < 3 else "blue", "note": f'say "hi" {i} — ✓'} for i in range(n)
        ],
        created_at=[OLD if i % 7 == 6 else day for i in range(n)],
    )
    seen: list[Any] = [len(added)]
    seen.append([h.id for h in mem.search(queries[0], k=3, record_use=True)])
    seen.append(mem.upsert("replaced", queries[1], id="e0", provenance="run:2").content)
    seen.append(mem.deprecate("e4", "superseded").is_deprecated)
    changed = mem.update("e7", validation_pass_rate=0.5, critical_failure_at=day)
    seen.append(changed.validation_pass_rate)
    seen.append(mem.delete(["e5", "missing", "e3000"]))
    before = observe(mem, queries)
    seen.append(before)
    again = aadap.Engine.open(url).vector_memory("shared", dimension=DIM)
    seen.append(observe(again, queries) == before)
    with pytest.raises(InvalidArgumentError, match=f"{DIM}-dimensional") as refused:
        aadap.Engine.open(url).vector_memory("shared", dimension=DIM * 2)
    seen.append(str(refused.value))
    return seen


def test_vector_memory_on_postgres_answers_as_on_sqlite(postgres_url: str, tmp_path: Path) -> None:
    on_sqlite = exercise(f"sqlite:///{tmp_path / 'memory.db'}")
    on_postgres = exercise(create_database(postgres_url))
    assert on_postgres == on_sqlite
    # and the calls did something worth comparing
    before = on_sqlite[-3]
    assert on_sqlite[:6] == [3100, ["e0", "e1", "e2"], "replaced", True, 0.5, 2]
    assert len(before["entities"]) == 3098
    assert before["entities"]["e7"]["critical_failure_at"] is not None
    assert before["entities"]["e4"]["is_deprecated"]
    assert before["entities"]["e1"]["use_count"] == 1
    assert before["entities"]["e9"]["metadata"]["note"] == 'say "hi" 9 — ✓'
    assert all(len(hits) >= 2 for hits in before["hits"])
    assert sum(len(ids) for ids in before["filtered"]) > 0
    assert on_sqlite[-2] is True  # reopening rebuilt the same index


def test_nul_bytes_are_refused_and_nothing_is_written(shared_store: Store) -> None:
    url = shared_store.url
    mem = aadap.Engine.open(url).vector_memory("nul", dimension=DIM)
    good = np.ones(DIM, dtype=np.float32)
    with pytest.raises(InvalidArgumentError, match="NUL"):
        mem.add_many(["fine", "a\x00b"], np.stack([good, good]), provenance="task:1")
    with pytest.raises(InvalidArgumentError, match="NUL"):
        mem.add("fine", good, provenance="task:\x00")
    assert len(mem) == 0
    assert len(aadap.Engine.open(url).vector_memory("nul", dimension=DIM)) == 0


class Letters(aadap.Embedder):
    """A toy model in Python: letter counts."""

    def __init__(self) -> None:
        super().__init__(provider="test", model="letters", dimension=26)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 26), dtype=np.float32)
        for row, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    out[row, ord(ch) - 97] += 1
        return out


def test_an_embedder_written_in_python_fills_and_guards_its_memory(engine: aadap.Engine) -> None:
    mem = engine.vector_memory("letters", embedder=Letters())
    assert mem.stats()["embedder"] == "test/letters"
    mem.remember(["abc abc", "xyz xyz"], provenance="task:1")
    assert [h.content for h in mem.recall("cab")] == ["abc abc"]
    with pytest.raises(InvalidArgumentError, match="test/letters"):
        engine.vector_memory("letters", dimension=26)  # the hashing embedder: refused
    with pytest.raises(InvalidArgumentError, match="provider"):
        aadap.Embedder(provider="", model="m", dimension=3)

    class Broken(aadap.Embedder):
        def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
            return np.zeros((len(texts), 3), dtype=np.float32)

    broken = engine.vector_memory("broken", embedder=Broken(provider="b", model="b", dimension=26))
    with pytest.raises(InvalidArgumentError):  # 3 columns for a 26-dimensional memory
        broken.remember("text", provenance="t")
    assert len(broken) == 0


def clustered(rows: int, dim: int, queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The benchmark's data shape: clusters, with near-duplicates of every query planted."""
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((50, dim))
    matrix = unit(centers[rng.integers(0, 50, rows)] + 0.6 * rng.standard_normal((rows, dim)))
    picked = rng.choice(rows, queries, replace=False)
    qs = unit(matrix[picked] + 0.05 * rng.standard_normal((queries, dim)))
    for j, row in enumerate(picked):
        for i in range(1, 6):
            matrix[(row + i) % rows] = at_cosine(qs[j], 0.99 - 0.02 * i, rng)
    return matrix, qs


def test_hnsw_finds_what_the_exact_scan_finds(engine: aadap.Engine) -> None:
    matrix, queries = clustered(6000, DIM, 60, seed=4)
    exact = engine.vector_memory("ref", dimension=DIM)
    graph = engine.vector_memory("graph", dimension=DIM, index="hnsw")
    ids = [e.id for e in exact.add_many([f"e{i}" for i in range(len(matrix))], matrix,
                                        provenance="task:1")]  # fmt: skip
    graph.add_many([f"e{i}" for i in range(len(matrix))], matrix, provenance="task:1", ids=ids)
    assert graph.stats()["index"] == "hnsw"
    found = expected = 0
    for q in queries:
        want = {h.id: h.similarity for h in exact.search(q, k=10)}
        got = graph.search(q, k=10)
        expected += len(want)
        found += sum(h.id in want for h in got)
        for h in got:  # re-scored exactly
            assert h.similarity == pytest.approx(want.get(h.id, h.similarity), abs=1e-6)
            assert h.similarity >= 0.85
    assert expected >= 5 * len(queries)
    assert found / expected >= 0.99

    # deletes and deprecations take effect without a rebuild; the graph keeps the old nodes
    victims = [h.id for h in graph.search(queries[0], k=2)]
    graph.delete(victims[0])
    graph.deprecate(victims[1])
    assert not {h.id for h in graph.search(queries[0], k=10)} & set(victims)
    assert graph.stats()["graph_nodes"] == len(matrix)
    graph.upsert("moved", -queries[0], id=ids[7], provenance="task:1")  # a new vector: new node
    assert graph.stats()["graph_nodes"] == len(matrix) + 1
    assert ids[7] not in {h.id for h in graph.search(queries[0], k=10)}


def test_hnsw_filters_inside_the_walk_and_small_selections_are_scanned(
    engine: aadap.Engine,
) -> None:
    rng = np.random.default_rng(8)
    query = unit(rng.standard_normal(DIM))
    mem = engine.vector_memory("graph-filters", dimension=DIM, index="hnsw")
    nearer = np.stack([at_cosine(query, c, rng) for c in rng.uniform(0.95, 0.999, 3000)])
    noise = unit(rng.standard_normal((3000, DIM)))
    mem.add_many([f"n{i}" for i in range(6000)], np.concatenate([nearer, noise]),
                 provenance="task:1", entity_type="decoy")  # fmt: skip
    live = mem.add("the one", at_cosine(query, 0.9, rng), provenance="task:2", entity_type="real")
    assert [h.id for h in mem.search(query, k=1, entity_type="real")] == [live.id]
    assert [h.id for h in mem.search(query, k=1, provenance_prefix="task:2")] == [live.id]
    # a broad filter goes through the graph and still returns only qualifying entities
    hits = mem.search(query, k=20, entity_type="decoy")
    assert len(hits) == 20
    assert {h.entity_type for h in hits} == {"decoy"}


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
@pytest.mark.parametrize("index", ["exact", "hnsw"])
def test_two_engines_see_each_others_writes_after_refresh(
    backend: str, index: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        url = create_database(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    rng = np.random.default_rng(12)
    one = aadap.Engine.open(url).vector_memory("shared", dimension=DIM, index=index)
    two = aadap.Engine.open(url).vector_memory("shared", dimension=DIM, index=index)
    query = unit(rng.standard_normal(DIM))
    first = one.add("from one", at_cosine(query, 0.95, rng), provenance="task:1")
    assert two.search(query) == []
    assert two.refresh() == 1
    assert [h.id for h in two.search(query)] == [first.id]
    second = two.add("from two", at_cosine(query, 0.9, rng), provenance="task:2")
    two.deprecate(first.id)
    assert one.refresh() == 2
    assert [h.id for h in one.search(query)] == [second.id]
    one.delete(second.id)
    assert two.refresh() == 1
    assert second.id not in two
    assert two.refresh() == 0


def test_hnsw_snapshot_is_loaded_and_caught_up_or_ignored_when_broken(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'snap.db'}"
    path = tmp_path / "graphs" / "snap.hnsw"
    matrix, queries = clustered(3000, DIM, 20, seed=6)

    def open_memory() -> aadap.VectorMemory:
        return aadap.Engine.open(url).vector_memory(
            "snap", dimension=DIM, index="hnsw", snapshot=path
        )

    first = open_memory()
    ids = [e.id for e in first.add_many([f"e{i}" for i in range(3000)], matrix, provenance="t")]
    first.snapshot()
    expected = [[h.id for h in first.search(q, k=5)] for q in queries]
    first.delete(ids[0])
    added = first.add("late", queries[0], provenance="t")  # after the snapshot
    # Another process replaces a vector after the snapshot: the table's vector counts.
    other = aadap.Engine.open(url).vector_memory("snap", dimension=DIM)
    other.upsert("moved", queries[1], id=ids[1], provenance="t")
    # The same id in another memory is another entity and changes nothing here.
    aadap.Engine.open(url).vector_memory("elsewhere", dimension=DIM).upsert(
        "elsewhere", queries[2], id=ids[2], provenance="t"
    )

    again = open_memory()
    stats = again.stats()
    assert stats["graph_from_snapshot"] is True
    # the snapshot's 3000 (two retired) + the late one + the moved one
    assert stats["graph_nodes"] == 3002
    assert stats["entities"] == 3000
    assert again.search(queries[0], k=1)[0].id == added.id
    moved = again.get(ids[1])
    assert moved.content == "moved"
    assert np.allclose(
        np.asarray(moved.embedding), queries[1] / np.linalg.norm(queries[1]), atol=1e-6
    )
    assert again.search(queries[1], k=1)[0].id == ids[1]
    assert again.get(ids[2]).content == "e2"
    skip = {added.id, ids[1]}
    got = [[h.id for h in again.search(q, k=5) if h.id not in skip] for q in queries[2:]]
    assert got == [
        [i for i in want if i not in {ids[0], ids[1]}][: len(got[n])]
        for n, want in enumerate(expected[2:])
    ]

    path.write_bytes(path.read_bytes()[:1000])  # torn: ignored, rebuilt and written again
    rebuilt = open_memory()
    assert rebuilt.stats()["graph_from_snapshot"] is False
    assert rebuilt.stats()["graph_nodes"] == 3000
    assert open_memory().stats()["graph_from_snapshot"] is True


SNAPSHOT_WRITER = """
import sys, aadap
memory = aadap.Engine.open(sys.argv[1]).vector_memory(
    "crash", dimension=64, index="hnsw", snapshot=sys.argv[2])
print("ready", flush=True)
while True:
    memory.snapshot()
"""


def test_sigkill_while_writing_a_snapshot_leaves_a_loadable_memory(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    url = f"sqlite:///{tmp_path / 'crash.db'}"
    path = tmp_path / "crash.hnsw"
    matrix, queries = clustered(4000, DIM, 10, seed=2)
    seed = aadap.Engine.open(url).vector_memory("crash", dimension=DIM, index="hnsw", snapshot=path)
    seed.add_many([f"e{i}" for i in range(4000)], matrix, provenance="t")
    expected = [[h.id for h in seed.search(q, k=3)] for q in queries]
    rng = np.random.default_rng(0)
    for _ in range(3):
        with subprocess.Popen([sys.executable, "-c", SNAPSHOT_WRITER, url, str(path)],
                              stdout=subprocess.PIPE, text=True) as child:  # fmt: skip
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "ready"
            time.sleep(float(rng.uniform(0.05, 0.4)))
            child.send_signal(signal.SIGKILL)
            child.wait()
        reopened = aadap.Engine.open(url).vector_memory(
            "crash", dimension=DIM, index="hnsw", snapshot=path
        )
        assert reopened.stats()["graph_from_snapshot"] is True
        assert [[h.id for h in reopened.search(q, k=3)] for q in queries] == expected
    # What killed writers left is removed by the next write; a live writer's file is not.
    (tmp_path / f"crash.hnsw.tmp-{child.pid}").write_bytes(b"torn")
    (tmp_path / "crash.hnsw.tmp-1").write_bytes(b"pid 1 is alive")
    reopened.snapshot()
    assert sorted(p.name for p in tmp_path.glob("crash.hnsw.tmp-*")) == ["crash.hnsw.tmp-1"]
