"""Fakes of the knowledge capability: an in-memory chunk store, a hashing embedder, a recording search client."""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from keel.knowledge.opensearch import IndexedDocument

_WORD = re.compile(r"[a-z0-9]+")


@dataclass
class InMemoryChunkStore:
    """A ChunkStore over dicts: index name -> chunk_id -> chunk document."""

    indices: tuple[str, ...] = ("keel-internal", "keel-external")
    docs: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    writes: int = 0
    deletes: int = 0

    def ensure(self, dimension: int) -> None:
        """Create missing indices."""
        for name in self.indices:
            self.docs.setdefault(name, {})

    def state(self) -> dict[str, IndexedDocument]:
        """Every indexed document by id, read from chunk 0."""
        found = {}
        for name, chunks in self.docs.items():
            for chunk in chunks.values():
                if chunk["chunk_no"] == 0:
                    found[chunk["doc_id"]] = IndexedDocument(
                        doc_id=chunk["doc_id"],
                        index=name,
                        fingerprint=chunk["fingerprint"],
                        origin=chunk["origin"],
                        file=chunk["file"],
                        source=chunk["source"],
                        version=chunk["version"],
                        chunks=chunk["chunk_count"],
                    )
        return found

    def write(self, index: str, documents: list[dict[str, Any]]) -> None:
        """Index chunk documents by chunk_id."""
        self.writes += len(documents)
        for doc in documents:
            self.docs.setdefault(index, {})[doc["chunk_id"]] = doc

    def delete_documents(self, index: str, doc_ids: Sequence[str]) -> None:
        """Remove every chunk of these documents."""
        wanted = set(doc_ids)
        chunks = self.docs.get(index, {})
        for chunk_id in [c for c, d in chunks.items() if d["doc_id"] in wanted]:
            del chunks[chunk_id]
            self.deletes += 1

    def refresh(self) -> None:
        """Nothing to do in memory."""

    def doc_ids(self, index: str) -> set[str]:
        """Document ids present in one index."""
        return {d["doc_id"] for d in self.docs.get(index, {}).values()}


class HashingEmbedder:
    """A deterministic bag-of-words embedder: each word hashes to a dimension; unit length."""

    model_id = "hashing-test"

    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.calls = 0

    def embed(self, texts: list[str]) -> list[list[float]]:
        """One unit vector per text."""
        self.calls += len(texts)
        vectors = []
        for text in texts:
            vector = [0.0] * self.dimension
            for word in _WORD.findall(text.lower()):
                vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dimension] += 1.0
            norm = math.sqrt(sum(x * x for x in vector)) or 1.0
            vectors.append([x / norm for x in vector])
        return vectors


@dataclass
class RecordingSearchClient:
    """Records every search body; answers with the given hits or raises the given error."""

    hits: list[dict[str, Any]] = field(default_factory=list)
    error: Exception | None = None
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def search(self, *, index: str, body: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Record and answer."""
        self.bodies.append({"index": index, **body})
        if self.error is not None:
            raise self.error
        return {"hits": {"total": {"value": len(self.hits)}, "hits": self.hits}}

    def msearch(self, *, body: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        """Record each search of a multi-search and answer each with the same hits."""
        responses = []
        for header, search in zip(body[::2], body[1::2], strict=True):
            responses.append(self.search(index=header["index"], body=search))
        return {"responses": responses}
