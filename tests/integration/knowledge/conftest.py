"""Knowledge integration fixtures: fresh indices on the session's osmem-server, the packaged MiniLM."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.knowledge.embeddings import OnnxMiniLMEmbedder
from keel.knowledge.ingest import IndexNames, Ingestor
from keel.knowledge.opensearch import ChunkIndex, opensearch_client
from keel.tenant.loader import load_tenant

_COUNTER = itertools.count()


@pytest.fixture(scope="session")
def minilm() -> OnnxMiniLMEmbedder:
    """The real embedder (loaded once)."""
    return OnnxMiniLMEmbedder()


@pytest.fixture(scope="session")
def pdp() -> PolicyDecisionPoint:
    """The demo policies and bots."""
    return PolicyDecisionPoint.for_tenant(load_tenant())


@pytest.fixture(scope="session")
def search_client(opensearch_stack: Any) -> Any:
    """An opensearch-py client on the local osmem-server."""
    return opensearch_client(opensearch_stack.url, timeout=60)


def _fresh(search_client: Any) -> Iterator[IndexNames]:
    n = next(_COUNTER)
    pair = IndexNames(f"kb-int-{n}", f"kb-ext-{n}")
    yield pair
    for name in (pair.internal, pair.external):
        search_client.indices.delete(index=name, ignore=[404])


@pytest.fixture
def names(search_client: Any) -> Iterator[IndexNames]:
    """Two fresh index names per test, deleted afterwards."""
    yield from _fresh(search_client)


@pytest.fixture(scope="module")
def module_names(search_client: Any) -> Iterator[IndexNames]:
    """Two fresh index names per module (for read-only tests over one ingestion)."""
    yield from _fresh(search_client)


def make_ingestor(search_client: Any, minilm: OnnxMiniLMEmbedder, names: IndexNames) -> Ingestor:
    """The ingest use case on osmem (no k-NN) with the real embedder."""
    store = ChunkIndex(search_client, indices=(names.internal, names.external), knn=False)
    return Ingestor(store, minilm, names, progress=False)


@pytest.fixture
def ingestor(search_client: Any, minilm: OnnxMiniLMEmbedder, names: IndexNames) -> Ingestor:
    """An ingestor over this test's fresh indices."""
    return make_ingestor(search_client, minilm, names)
