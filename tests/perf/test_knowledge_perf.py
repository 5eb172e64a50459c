"""Knowledge base benchmarks on osmem-server: ingest throughput and filtered retrieval p50/p95 (printed only)."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

import numpy as np
import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for
from keel.identity.principal import Principal
from keel.knowledge.documents import SourceFile
from keel.knowledge.embeddings import OnnxMiniLMEmbedder
from keel.knowledge.ingest import IndexNames, Ingestor
from keel.knowledge.opensearch import VECTOR_FIELD, ChunkIndex, OpenSearchRetriever, opensearch_client
from keel.tenant.loader import load_tenant

SIZES = (1_000, 10_000, 50_000)
QUERIES = 60
DIM = 384
GROUPS = ["all-staff", "engineering", "hr", "hr-admins", "payroll-admins", "finance", "sales", "it"]
DEPARTMENTS = ["hr", "it", "finance", "sales", "customer"]
CLASSES = ["internal", "confidential", "restricted"]
rng = random.Random(7)
WORDS = [
    f"{a}{b}"
    for a in ("leave", "vpn", "pay", "laptop", "travel", "card", "budget", "remote", "wifi", "mfa")
    for b in ("", "s", "ing", "ed", "er", "al", "ion", "ity", "ment", "ness")
] + [f"term{n}" for n in range(900)]


class FixedEmbedder:
    """Returns precomputed random unit vectors, so retrieval timing excludes the query embedding."""

    model_id = "fixed-random"
    dimension = DIM

    def __init__(self) -> None:
        self._rng = np.random.default_rng(11)

    def embed(self, texts: list[str]) -> list[list[float]]:
        v = self._rng.standard_normal((len(texts), DIM)).astype(np.float32)
        return (v / np.linalg.norm(v, axis=1, keepdims=True)).round(4).tolist()


def synthetic_chunks(start: int, count: int) -> list[dict[str, Any]]:
    vectors = FixedEmbedder().embed(["x"] * count)
    chunks = []
    for n in range(start, start + count):
        chunks.append(
            {
                "doc_id": f"doc-{n // 4}",
                "chunk_id": f"doc-{n // 4}#{n % 4}",
                "chunk_no": n % 4,
                "chunk_count": 4,
                "title": " ".join(rng.choices(WORDS, k=4)),
                "heading": " ".join(rng.choices(WORDS, k=3)),
                "text": " ".join(rng.choices(WORDS, k=120)),
                "version": 1,
                "classification": rng.choice(CLASSES),
                "acl_groups": rng.sample(GROUPS, k=2),
                "department": rng.choice(DEPARTMENTS),
                VECTOR_FIELD: vectors[n - start],
            }
        )
    return chunks


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


@pytest.fixture(scope="module")
def client(opensearch_stack: Any) -> Any:
    return opensearch_client(opensearch_stack.url, timeout=120)


def test_ingest_throughput(client: Any) -> None:
    docs = []
    for n in range(40):
        body = "\n\n".join(f"## Section {s}\n" + " ".join(rng.choices(WORDS, k=90)) for s in range(4))
        front = f"---\nid: perf-{n}\nacl_groups: [all-staff]\nclassification: internal\ndepartment: hr\n---\n"
        docs.append(SourceFile(f"perf-{n}.md", (front + f"# Doc {n}\n" + body).encode()))
    names = IndexNames("perf-ingest-int", "perf-ingest-ext")
    embedder = OnnxMiniLMEmbedder()
    embedder.embed(["warm up"])
    store = ChunkIndex(client, indices=(names.internal, names.external), knn=False)
    ingestor = Ingestor(store, embedder, names, progress=False)
    started = time.perf_counter()
    report = ingestor.ingest(docs, origin="perf")
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = ingestor.ingest(docs, origin="perf")
    second = time.perf_counter() - started
    texts = [" ".join(rng.choices(WORDS, k=150)) for _ in range(64)]
    started = time.perf_counter()
    embedder.embed(texts)
    embed_rate = len(texts) / (time.perf_counter() - started)
    print(
        f"\n[kb perf] ingest: {len(docs)} docs / {report.chunks_written} chunks in {first:.2f} s = "
        f"{len(docs) / first:.1f} docs/s ({report.chunks_written / first:.1f} chunks/s); "
        f"unchanged re-ingest {len(docs) / second:.0f} docs/s ({again.changes} changes); "
        f"MiniLM alone {embed_rate:.1f} chunks/s of ~150 words"
    )
    assert again.changes == 0


def test_filtered_retrieval_latency(client: Any) -> None:
    index = "perf-retrieval"
    client.indices.delete(index=index, ignore=[404])
    store = ChunkIndex(client, indices=(index,), knn=False)
    store.ensure(DIM)
    pdp = PolicyDecisionPoint.for_tenant(load_tenant())
    emma = Principal("sub-emma", "emma", frozenset({"all-staff", "engineering"}), "demo", department="engineering")
    scope = scope_for(emma, "hr", pdp, indexes=Indexes(index, "perf-external"))
    retriever = OpenSearchRetriever(client, FixedEmbedder(), knn=False)
    minilm = OnnxMiniLMEmbedder()
    minilm.embed(["warm up"])
    indexed = 0
    for size in SIZES:
        started = time.perf_counter()
        while indexed < size:
            batch = synthetic_chunks(indexed, min(2_000, size - indexed))
            store.write(index, batch)
            indexed += len(batch)
        store.refresh()
        load = time.perf_counter() - started
        queries = [" ".join(rng.choices(WORDS, k=4)) for _ in range(QUERIES)]
        timings = []
        returned = 0
        for query in queries:
            t = time.perf_counter()
            passages = retriever.search(scope, query, k=5)
            timings.append((time.perf_counter() - t) * 1000)
            returned += len(passages)
            assert all(set(p.acl_groups) & scope.groups and p.department == "hr" for p in passages)
        t = time.perf_counter()
        for query in queries[:20]:
            minilm.embed([query])
        embed_ms = (time.perf_counter() - t) * 1000 / 20
        print(
            f"\n[kb perf] {size:>6} chunks (bulk {load:.1f} s): filtered retrieval "
            f"p50 {percentile(timings, 50):.1f} ms, "
            f"p95 {percentile(timings, 95):.1f} ms over {QUERIES} queries ({returned / QUERIES:.1f} passages each); "
            f"+ MiniLM query embedding {embed_ms:.1f} ms"
        )
    client.indices.delete(index=index, ignore=[404])
