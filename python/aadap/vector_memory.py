"""Vector memory (tier 2): long-lived entities searched by cosine similarity.

Open one from an engine, so it lives in the same store as the tasks::

    mem = eng.vector_memory("patterns")              # offline hashing embedder, 1536 dims
    mem.remember("Deduplicate orders on order_id before the merge", provenance="task:42")
    for hit in mem.recall("dedupe orders by order id before merging"):
        print(f"{hit.similarity:.3f}", hit.content)

INV-08: a search never returns anything below 0.85 cosine similarity (a lower
``min_similarity`` is raised to it), nor a deprecated entity, nor one created more than
AADAP_VECTOR_MAX_STALENESS_DAYS ago. Filters (``entity_type``, ``metadata`` equality,
``provenance_prefix``) are applied inside the exact scan, before ranking, so a qualifying
entity is never crowded out by disqualified neighbours. Results are ordered by similarity,
then recency (updated_at), confidence and use_count.

Embeddings are numpy float32 vectors (a C-contiguous float32 array is read in place; lists
and other dtypes are converted once). They are stored L2-normalised: ``get()`` returns the
unit vector. The default embedder, :class:`HashingEmbedder`, is lexical (shared words and
character n-grams), not semantic: near-duplicate sentences pass the floor, paraphrases with
other words usually do not.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from aadap import _core
from aadap.snapshots import Snapshot, SnapshotList, _Column, _json, _optional_time, _time

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["Embedder", "HashingEmbedder", "MemoryEntity", "SearchHit", "VectorMemory"]

Embedder = _core.Embedder
"""Subclass to plug in your own model::

    class MiniLM(aadap.Embedder):
        def __init__(self) -> None:
            super().__init__(provider="sentence-transformers", model="all-MiniLM-L6-v2",
                             dimension=384)
            self._model = SentenceTransformer("all-MiniLM-L6-v2")

        def embed_batch(self, texts: list[str]) -> numpy.ndarray:
            return self._model.encode(texts, normalize_embeddings=True)

The (provider, model, dimension) identity is recorded with each memory it fills."""


def _embedding(raw: bytes | None) -> NDArray[np.float32] | None:
    if raw is None:
        return None
    view = np.frombuffer(raw, dtype=np.float32)
    view.flags.writeable = False
    return view


def _iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise _core.InvalidArgumentError("timestamps must be timezone-aware (UTC)")
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class HashingEmbedder(_core.HashingEmbedderCore):
    """The offline, deterministic default embedder: word unigrams and bigrams and character
    n-grams hashed (signed) into ``dimension`` buckets, L2-normalised. Lexical, not semantic.
    ``embed_batch(texts)`` returns a ``(len(texts), dimension)`` float32 matrix."""

    def __repr__(self) -> str:
        return f"HashingEmbedder(dimension={self.dimension})"


class MemoryEntity(Snapshot):
    """An immutable snapshot of a vector memory entity."""

    __slots__ = ()
    _summary = ("id", "entity_type", "content", "provenance", "confidence", "use_count",
                "is_deprecated", "updated_at")  # fmt: skip
    id = _Column[str](0)
    memory_name = _Column[str](1)
    content = _Column[str](2)
    embedding = _Column(3, _embedding)
    entity_type = _Column[str](4)
    provenance = _Column[str](5)
    confidence = _Column[float](6)
    use_count = _Column[int](7)
    validation_pass_rate = _Column[float](8)
    validation_failures = _Column[int](9)
    critical_failure_at = _Column(10, _optional_time)
    is_deprecated = _Column[bool](11)
    metadata = _Column(12, _json)
    created_at = _Column(13, _time)
    updated_at = _Column(14, _time)

    def promotion_eligible(self, now: datetime | None = None) -> bool:
        """≥ 3 successful uses, validation pass rate ≥ 0.90, no critical failure in the last
        30 days (one exactly 30 days old still counts), not deprecated."""
        return _core.memory_promotion_eligible(self._row, _iso(now or datetime.now(timezone.utc)))

    @property
    def deprecation_required(self) -> bool:
        """≥ 2 validation failures, or confidence < 0.6, or metadata ``outdated`` true."""
        return _core.memory_deprecation_required(self._row)

    def __repr__(self) -> str:
        flag = ", deprecated" if self.is_deprecated else ""
        return f"MemoryEntity({self.id[:8]}…, {self.entity_type}, {self.content[:40]!r}{flag})"


class SearchHit(Snapshot):
    """One search result: the entity (without its embedding) and its cosine similarity."""

    __slots__ = ()
    _summary = ("similarity", "id", "entity_type", "content", "provenance", "updated_at")
    similarity = _Column[float](0)
    entity = _Column(1, MemoryEntity)

    def __getattr__(self, name: str) -> Any:  # hit.content, hit.id, ... read through
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.entity, name)

    def to_dict(self) -> dict[str, Any]:
        return {"similarity": self.similarity, **self.entity.to_dict()}

    def __repr__(self) -> str:
        return f"SearchHit({self.similarity:.4f}, {self.entity!r})"


def _matrix(values: ArrayLike, what: str) -> NDArray[np.float32]:
    array = np.asarray(values, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise _core.InvalidArgumentError(f"{what} must be a vector or a matrix")
    return np.ascontiguousarray(array)


def _per_entity(value: Any, count: int, name: str) -> list[Any]:
    """`value` for each of `count` entities: a sequence (not a string) gives one each."""
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value] * count
    if len(value) != count:
        raise _core.InvalidArgumentError(f"{name} has {len(value)} values for {count} entities")
    return list(value)


class VectorMemory:
    """A named vector memory in an engine's store. Thread-safe. Open it with
    ``engine.vector_memory(name)``."""

    def __init__(self, core: _core.VectorMemoryCore, embedder: _core.Embedder) -> None:
        self._core = core
        self._embedder = embedder  # the caller's object (the core keeps its C++ half alive)

    @property
    def name(self) -> str:
        name: str = self._core.name
        return name

    @property
    def dimension(self) -> int:
        dimension: int = self._core.dimension
        return dimension

    @property
    def embedder(self) -> _core.Embedder:
        return self._embedder

    def __repr__(self) -> str:
        s = self._core.stats()
        return (f"VectorMemory({s['name']!r}, {s['entities']} entities, {s['dimension']} dims, "
                f"{s['embedder']})")  # fmt: skip

    def __len__(self) -> int:
        return int(self._core.stats()["entities"])

    def _repr_html_(self) -> str:
        from aadap.notebook import vector_memory_html

        return vector_memory_html(self)

    # ---- writing ---------------------------------------------------------------------

    def add(
        self,
        content: str,
        embedding: ArrayLike,
        *,
        provenance: str,
        entity_type: str = "pattern",
        confidence: float = 1.0,
        metadata: dict[str, Any] | None = None,
        id: str | None = None,
        created_at: datetime | str | None = None,
    ) -> MemoryEntity:
        """Adds one entity; an existing ``id`` is refused (see :meth:`upsert`)."""
        return self.add_many([content], _matrix(embedding, "the embedding"),
                             provenance=provenance, entity_type=entity_type,
                             confidence=confidence, metadata=[metadata or {}],
                             ids=[id], created_at=created_at)[0]  # fmt: skip

    def add_many(
        self,
        contents: Sequence[str],
        embeddings: ArrayLike,
        *,
        provenance: str | Sequence[str],
        entity_type: str | Sequence[str] = "pattern",
        confidence: float | Sequence[float] = 1.0,
        metadata: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
        ids: Sequence[str | None] | None = None,
        created_at: datetime | str | Sequence[datetime | str | None] | None = None,
    ) -> SnapshotList[MemoryEntity]:
        """Adds ``len(contents)`` entities, ``embeddings`` one row each, all or nothing
        (one call into the core, one transaction). A field given once applies to all."""
        return self._write(contents, embeddings, provenance, entity_type, confidence, metadata,
                           ids, created_at, replace=False)  # fmt: skip

    def upsert(
        self,
        content: str,
        embedding: ArrayLike,
        *,
        id: str,
        provenance: str,
        entity_type: str = "pattern",
        confidence: float = 1.0,
        metadata: dict[str, Any] | None = None,
    ) -> MemoryEntity:
        """Adds the entity, or replaces the one with this ``id`` (its use counts, validation
        figures, deprecation and creation time stay)."""
        return self._write([content], _matrix(embedding, "the embedding"), provenance,
                           entity_type, confidence, [metadata or {}], [id], None,
                           replace=True)[0]  # fmt: skip

    def _write(
        self,
        contents: Sequence[str],
        embeddings: ArrayLike,
        provenance: Any,
        entity_type: Any,
        confidence: Any,
        metadata: Any,
        ids: Any,
        created_at: Any,
        *,
        replace: bool,
    ) -> SnapshotList[MemoryEntity]:
        if isinstance(contents, str):
            raise _core.InvalidArgumentError("contents is a list of texts (use add() for one)")
        n = len(contents)
        columns = zip(
            _per_entity(ids, n, "ids"),
            contents,
            _per_entity(entity_type, n, "entity_type"),
            _per_entity(provenance, n, "provenance"),
            _per_entity(confidence, n, "confidence"),
            _per_entity(metadata or {}, n, "metadata"),
            _per_entity(created_at, n, "created_at"),
            strict=True,
        )
        specs = [(i or "", c, t, p, float(f), json.dumps(m), _iso(when))
                 for i, c, t, p, f, m, when in columns]  # fmt: skip
        matrix = embeddings if isinstance(embeddings, np.ndarray) else _matrix(embeddings, "")
        write = self._core.upsert_many if replace else self._core.add_many
        return SnapshotList.of(MemoryEntity, write(specs, matrix))

    def remember(
        self,
        text: str | Sequence[str],
        *,
        provenance: str | Sequence[str],
        entity_type: str | Sequence[str] = "pattern",
        confidence: float | Sequence[float] = 1.0,
        metadata: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
    ) -> SnapshotList[MemoryEntity]:
        """Embeds the text(s) with the memory's embedder and adds them."""
        texts = [text] if isinstance(text, str) else list(text)
        return self.add_many(texts, self.embedder.embed_batch(texts), provenance=provenance,
                             entity_type=entity_type, confidence=confidence,
                             metadata=metadata)  # fmt: skip

    def delete(self, ids: str | Sequence[str]) -> int:
        """Deletes the entities with these ids; returns how many existed."""
        return int(self._core.remove([ids] if isinstance(ids, str) else list(ids)))

    def update(
        self,
        id: str,
        *,
        confidence: float | None = None,
        validation_pass_rate: float | None = None,
        validation_failures: int | None = None,
        critical_failure_at: datetime | str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MemoryEntity:
        """Changes the governance figures (or replaces the metadata) of one entity."""
        return MemoryEntity(self._core.update(
            id, confidence, validation_pass_rate, validation_failures,
            None if critical_failure_at is None else _iso(critical_failure_at),
            None if metadata is None else json.dumps(metadata)))  # fmt: skip

    def promote(self, id: str) -> MemoryEntity:
        """Marks the entity promoted (metadata ``promoted``, ``promoted_at``)."""
        return MemoryEntity(self._core.promote(id))

    def deprecate(self, id: str, reason: str = "") -> MemoryEntity:
        """Deprecates the entity: search never returns it again; :meth:`get` still does."""
        return MemoryEntity(self._core.deprecate(id, reason))

    def govern(self) -> dict[str, list[str]]:
        """Applies the governance predicates to every entity; returns the ids it promoted and
        deprecated."""
        promoted, deprecated = self._core.govern()
        return {"promoted": list(promoted), "deprecated": list(deprecated)}

    def refresh(self) -> int:
        """Catches up with entities other engines or processes wrote to the same store since
        this memory was opened or last refreshed (new, changed and deleted ones); returns how
        many changed."""
        return int(self._core.refresh())

    def snapshot(self) -> str:
        """hnsw: writes the graph to the memory's snapshot file (temporary file, fsync,
        rename) so the next open loads it instead of building it; returns the path."""
        return str(self._core.snapshot())

    # ---- reading ---------------------------------------------------------------------

    def get(self, id: str) -> MemoryEntity:
        """The entity (deprecated or stale ones too), with its unit embedding; NotFoundError
        when there is none."""
        row = self._core.get(id)
        if row is None:
            raise _core.NotFoundError(f"memory {self.name!r} has no entity {id[:80]}")
        return MemoryEntity(row)

    def __contains__(self, id: object) -> bool:
        return isinstance(id, str) and self._core.get(id) is not None

    def search(
        self,
        query: ArrayLike,
        k: int = 5,
        *,
        min_similarity: float = 0.85,
        entity_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        provenance_prefix: str | None = None,
        record_use: bool = False,
    ) -> SnapshotList[SearchHit]:
        """The ``k`` most similar searchable entities at or above the floor (0.85, or
        ``min_similarity`` when higher), filters applied inside the scan."""
        return self.search_many(_matrix(query, "the query"), k, min_similarity=min_similarity,
                                entity_type=entity_type, metadata=metadata,
                                provenance_prefix=provenance_prefix,
                                record_use=record_use)[0]  # fmt: skip

    def search_many(
        self,
        queries: ArrayLike,
        k: int = 5,
        *,
        min_similarity: float = 0.85,
        entity_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        provenance_prefix: str | None = None,
        record_use: bool = False,
    ) -> list[SnapshotList[SearchHit]]:
        """One result list per row of ``queries``, in one pass over the index."""
        matrix = _matrix(queries, "the queries")
        results = self._core.search_many(matrix, k, min_similarity, entity_type,
                                         json.dumps(metadata or {}), provenance_prefix,
                                         record_use)  # fmt: skip
        return [SnapshotList.of(SearchHit, hits) for hits in results]

    def recall(
        self,
        text: str,
        k: int = 5,
        *,
        min_similarity: float = 0.85,
        entity_type: str | None = None,
        metadata: dict[str, Any] | None = None,
        provenance_prefix: str | None = None,
        record_use: bool = False,
    ) -> SnapshotList[SearchHit]:
        """Embeds ``text`` with the memory's embedder and searches with it."""
        return self.search(self.embedder.embed_batch([text]), k, min_similarity=min_similarity,
                           entity_type=entity_type, metadata=metadata,
                           provenance_prefix=provenance_prefix,
                           record_use=record_use)  # fmt: skip

    def stats(self) -> dict[str, Any]:
        """Entities (searchable, deprecated, stale), dimension, embedder, index and kernel."""
        return dict(self._core.stats())
