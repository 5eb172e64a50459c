"""OpenSearch adapters: the chunk index (mapping, bulk writes, indexed state) and the hybrid retriever."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from keel.access.filters import scope_filter
from keel.errors import SearchUnavailable
from keel.knowledge.ports import Embedder, Passage, SearchScope

VECTOR_FIELD = "embedding"
LEXICAL_FIELDS = ("title^3", "heading^2", "text")
SOURCE_FIELDS = (
    "doc_id",
    "chunk_id",
    "chunk_no",
    "title",
    "heading",
    "text",
    "version",
    "classification",
    "acl_groups",
    "department",
    "updated_at",
)
_PAGE = 500


def _search_errors() -> tuple[type[Exception], ...]:
    from opensearchpy.exceptions import OpenSearchException

    return (OpenSearchException, OSError)


def index_body(dimension: int, *, knn: bool) -> dict[str, Any]:
    """Settings and mapping of a chunk index; the vector is a knn_vector only where k-NN exists."""
    vector: dict[str, Any]
    if knn:
        vector = {
            "type": "knn_vector",
            "dimension": dimension,
            "method": {"name": "hnsw", "engine": "faiss", "space_type": "innerproduct"},
        }
    else:
        # Engines without k-NN keep the vector in _source only (unparsed: osmem-server takes about 70 ms
        # a document to index a 384-float array as `float`, against well under 1 ms when not parsed).
        vector = {"type": "object", "enabled": False}
    keyword = {"type": "keyword"}
    return {
        "settings": {"index": {"knn": True}} if knn else {},
        "mappings": {
            "properties": {
                "doc_id": keyword,
                "chunk_id": keyword,
                "chunk_no": {"type": "integer"},
                "chunk_count": {"type": "integer"},
                "title": {"type": "text"},
                "heading": {"type": "text"},
                "text": {"type": "text"},
                "version": {"type": "integer"},
                "classification": keyword,
                "acl_groups": keyword,
                "department": keyword,
                "owner": keyword,
                "source": keyword,
                "status": keyword,
                "origin": keyword,
                "file": keyword,
                "fingerprint": keyword,
                "content_hash": keyword,
                "embedding_model": keyword,
                "updated_at": {"type": "date"},
                VECTOR_FIELD: vector,
            }
        },
    }


@dataclass(frozen=True)
class IndexedDocument:
    """What the index holds for one document (read from its first chunk)."""

    doc_id: str
    index: str
    fingerprint: str
    origin: str
    file: str
    source: str | None
    version: int
    chunks: int


class ChunkIndex:
    """Writes and reads chunk documents in the internal and external indices."""

    def __init__(self, client: Any, *, indices: Sequence[str], knn: bool) -> None:
        self._client = client
        self.indices = tuple(indices)
        self.knn = knn

    def ensure(self, dimension: int) -> None:
        """Create any missing index with the chunk mapping."""
        try:
            for name in self.indices:
                if not self._client.indices.exists(index=name):
                    self._client.indices.create(index=name, body=index_body(dimension, knn=self.knn))
        except _search_errors() as exc:
            raise SearchUnavailable("the knowledge base index could not be prepared") from exc

    def state(self) -> dict[str, IndexedDocument]:
        """Every indexed document, by id, from chunk 0 of each (paged with search_after)."""
        found: dict[str, IndexedDocument] = {}
        try:
            for name in self.indices:
                for hit in self._scan(name, {"term": {"chunk_no": 0}}):
                    src = hit["_source"]
                    found[src["doc_id"]] = IndexedDocument(
                        doc_id=src["doc_id"],
                        index=name,
                        fingerprint=src.get("fingerprint", ""),
                        origin=src.get("origin", ""),
                        file=src.get("file", ""),
                        source=src.get("source"),
                        version=int(src.get("version", 1)),
                        chunks=int(src.get("chunk_count", 0)),
                    )
        except _search_errors() as exc:
            raise SearchUnavailable("the knowledge base index could not be read") from exc
        return found

    def _scan(self, index: str, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if not self._client.indices.exists(index=index):
            return
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {
                "size": _PAGE,
                "query": query,
                "sort": [{"chunk_id": "asc"}],
                "_source": {"excludes": [VECTOR_FIELD, "text"]},
            }
            if after is not None:
                body["search_after"] = after
            hits = self._client.search(index=index, body=body)["hits"]["hits"]
            yield from hits
            if len(hits) < _PAGE:
                return
            after = hits[-1]["sort"]

    def write(self, index: str, documents: list[dict[str, Any]]) -> None:
        """Bulk-index chunk documents (each carries chunk_id, used as _id)."""
        actions: list[dict[str, Any]] = []
        for doc in documents:
            actions.append({"index": {"_index": index, "_id": doc["chunk_id"]}})
            actions.append(doc)
        self._bulk(actions)

    def delete_documents(self, index: str, doc_ids: Sequence[str]) -> None:
        """Remove every chunk of the given documents from index."""
        if not doc_ids:
            return
        try:
            self._client.delete_by_query(
                index=index, body={"query": {"terms": {"doc_id": sorted(doc_ids)}}}, refresh=True
            )
        except _search_errors() as exc:
            raise SearchUnavailable("documents could not be removed from the knowledge base") from exc

    def refresh(self) -> None:
        """Make writes visible to search."""
        try:
            for name in self.indices:
                if self._client.indices.exists(index=name):
                    self._client.indices.refresh(index=name)
        except _search_errors() as exc:
            raise SearchUnavailable("the knowledge base index could not be refreshed") from exc

    def _bulk(self, actions: list[dict[str, Any]]) -> None:
        if not actions:
            return
        try:
            response = self._client.bulk(body=actions)
        except _search_errors() as exc:
            raise SearchUnavailable("the knowledge base index could not be written") from exc
        if response.get("errors"):
            reasons = {
                str(item.get(op, {}).get("error", {}).get("reason", "unknown"))
                for item in response.get("items", [])
                for op in item
                if item.get(op, {}).get("error")
            }
            raise SearchUnavailable(f"some chunks were not indexed: {'; '.join(sorted(reasons)[:3])}")


class Reranker(Protocol):
    """Reorders passages for a query (optional stage after fusion)."""

    def rerank(self, query: str, passages: list[Passage]) -> list[Passage]:
        """The same passages, best first."""
        ...


def aws_hybrid_body(
    scope: SearchScope, query: str, vector: list[float], *, size: int, knn_k: int, vector_boost: float
) -> dict[str, Any]:
    """One request: BM25 and k-NN under `bool.should`, the permission filter inside both and around them."""
    permission = scope_filter(scope)
    return {
        "size": size,
        "_source": list(SOURCE_FIELDS),
        "query": {
            "bool": {
                "should": [
                    {
                        "bool": {
                            "must": [{"multi_match": {"query": query, "fields": list(LEXICAL_FIELDS)}}],
                            "filter": permission,
                            "_name": "lexical",
                        }
                    },
                    {
                        "knn": {
                            VECTOR_FIELD: {
                                "vector": vector,
                                "k": knn_k,
                                # Inside the k-NN clause: efficient filtering, so k hits all lie in scope.
                                "filter": {"bool": {"filter": permission}},
                                "boost": vector_boost,
                                "_name": "vector",
                            }
                        }
                    },
                ],
                "minimum_should_match": 1,
                "filter": permission,
            }
        },
    }


def lexical_body(scope: SearchScope, query: str, *, size: int) -> dict[str, Any]:
    """BM25 candidates inside the permission filter (vectors included for local scoring)."""
    return {
        "size": size,
        "_source": [*SOURCE_FIELDS, VECTOR_FIELD],
        "query": {
            "bool": {
                "must": [{"multi_match": {"query": query, "fields": list(LEXICAL_FIELDS)}}],
                "filter": scope_filter(scope),
            }
        },
    }


def filtered_body(scope: SearchScope, *, size: int) -> dict[str, Any]:
    """Every chunk inside the permission filter (used when the permitted set is small enough to scan)."""
    return {
        "size": size,
        "_source": [*SOURCE_FIELDS, VECTOR_FIELD],
        "sort": [{"chunk_id": "asc"}],
        "query": {"bool": {"filter": scope_filter(scope)}},
    }


class OpenSearchRetriever:
    """Hybrid BM25 + vector retrieval, scoped by the permission filter inside the request (R7)."""

    def __init__(
        self,
        client: Any,
        embedder: Embedder,
        knn: bool,
        *,
        candidates: int = 50,
        scan_limit: int = 1000,
        max_per_doc: int = 2,
        vector_boost: float = 10.0,
        rrf_k: int = 60,
        reranker: Reranker | None = None,
    ) -> None:
        self._client = client
        self._embedder = embedder
        self.knn = knn
        self._candidates = candidates
        self._scan_limit = scan_limit
        self._max_per_doc = max_per_doc
        self._vector_boost = vector_boost
        self._rrf_k = rrf_k
        self._reranker = reranker

    def search(self, scope: SearchScope, query: str, *, k: int = 5) -> list[Passage]:
        """At most k passages inside scope; SearchUnavailable when the engine or embedder fails."""
        query = query.strip()
        if not query or k < 1:
            return []
        vector = self._embedder.embed([query])[0]
        try:
            if self.knn:
                passages = self._search_knn(scope, query, vector, k)
            else:
                passages = self._search_local(scope, query, vector, k)
        except _search_errors() as exc:
            raise SearchUnavailable("the knowledge base cannot be searched right now") from exc
        if self._reranker is not None:
            passages = self._reranker.rerank(query, passages)
        return _diversify(passages, k, self._max_per_doc)

    def _search_knn(self, scope: SearchScope, query: str, vector: list[float], k: int) -> list[Passage]:
        size = max(k * 4, 20)
        body = aws_hybrid_body(scope, query, vector, size=size, knn_k=size, vector_boost=self._vector_boost)
        hits = self._client.search(index=scope.index, body=body)["hits"]["hits"]
        passages = []
        for hit in hits:
            named = hit.get("matched_queries") or []
            matched = tuple(part for part in ("lexical", "vector") if part in named) or ("hybrid",)
            passages.append(_passage(hit["_source"], float(hit.get("_score") or 0.0), matched, hit.get("_index")))
        return passages

    def _search_local(self, scope: SearchScope, query: str, vector: list[float], k: int) -> list[Passage]:
        # Every request carries the permission filter: nothing outside scope is ever fetched.
        count_body = {"size": 0, "track_total_hits": True, "query": {"bool": {"filter": scope_filter(scope)}}}
        responses = self._client.msearch(
            body=[
                {"index": scope.index},
                lexical_body(scope, query, size=self._candidates),
                {"index": scope.index},
                count_body,
            ]
        )["responses"]
        for response in responses:
            if "error" in response:
                raise SearchUnavailable("the knowledge base cannot be searched right now")
        lexical_hits = responses[0]["hits"]["hits"]
        # Keyed by index and id: a search over several indices keeps where each chunk came from.
        pool: dict[str, dict[str, Any]] = {_pool_key(hit): _located(hit) for hit in lexical_hits}
        # A small permitted set is scored exhaustively; a large one falls back to the BM25 candidates.
        if 0 < _total(responses[1]["hits"]) <= self._scan_limit:
            scan = self._client.search(index=scope.index, body=filtered_body(scope, size=self._scan_limit))
            for hit in scan["hits"]["hits"]:
                pool.setdefault(_pool_key(hit), _located(hit))
        return self._fuse(pool, {_pool_key(hit): rank for rank, hit in enumerate(lexical_hits)}, vector, k)

    def _fuse(
        self, pool: dict[str, dict[str, Any]], lexical_rank: dict[str, int], vector: list[float], k: int
    ) -> list[Passage]:
        import numpy as np

        if not pool:
            return []
        ids = list(pool)
        query = np.asarray(vector, dtype=np.float32)
        matrix = np.zeros((len(ids), query.shape[0]), dtype=np.float32)
        usable = np.zeros(len(ids), dtype=bool)
        for row, chunk in enumerate(ids):
            stored = pool[chunk].get(VECTOR_FIELD)
            if isinstance(stored, list) and len(stored) == query.shape[0]:
                matrix[row] = stored
                usable[row] = True
        similarities = np.where(usable, matrix @ query, -np.inf)
        order = sorted(range(len(ids)), key=lambda r: (-float(similarities[r]), ids[r]))
        vector_rank = {ids[r]: rank for rank, r in enumerate(order)}
        vector_hits = {ids[r] for r in order[: max(k * 4, 20)] if usable[r]}
        fused = []
        for row, chunk in enumerate(ids):
            # A chunk without a usable vector (another model's dimension) competes on BM25 alone.
            score = 1.0 / (self._rrf_k + vector_rank[chunk] + 1) if usable[row] else 0.0
            if chunk in lexical_rank:
                score += 1.0 / (self._rrf_k + lexical_rank[chunk] + 1)
            matched = tuple(
                part for part, hit in (("lexical", chunk in lexical_rank), ("vector", chunk in vector_hits)) if hit
            )
            fused.append(_passage(pool[chunk], score, matched or ("vector",), pool[chunk].get(_INDEX_KEY)))
        fused.sort(key=lambda p: (-p.score, p.chunk_id))
        return fused


def _total(hits: dict[str, Any]) -> int:
    total = hits.get("total", 0)
    return int(total.get("value", 0) if isinstance(total, dict) else total)


# Where a pooled chunk's index is kept beside its source fields (no document field starts with a space).
_INDEX_KEY = " index"


def _pool_key(hit: dict[str, Any]) -> str:
    return f"{hit.get('_index', '')}/{hit['_id']}"


def _located(hit: dict[str, Any]) -> dict[str, Any]:
    return {**hit["_source"], _INDEX_KEY: hit.get("_index")}


def _passage(src: dict[str, Any], score: float, matched: tuple[str, ...], index: str | None = None) -> Passage:
    return Passage(
        doc_id=src["doc_id"],
        chunk_id=src["chunk_id"],
        title=src.get("title", ""),
        text=src.get("text", ""),
        score=round(score, 6),
        version=int(src.get("version", 1)),
        classification=src.get("classification", "internal"),
        acl_groups=tuple(src.get("acl_groups") or ()),
        department=src.get("department"),
        heading=src.get("heading"),
        matched=matched,
        index=index,
    )


def _diversify(passages: list[Passage], k: int, max_per_doc: int) -> list[Passage]:
    # A long document must not crowd out every other source from the top k.
    taken: list[Passage] = []
    per_doc: dict[str, int] = {}
    for passage in passages:
        if per_doc.get(passage.doc_id, 0) >= max_per_doc:
            continue
        per_doc[passage.doc_id] = per_doc.get(passage.doc_id, 0) + 1
        taken.append(passage)
        if len(taken) == k:
            break
    return taken


def detect_knn(client: Any) -> bool:
    """True when the engine has the k-NN plugin (AWS OpenSearch); osmem-server and plain engines do not."""
    try:
        plugins = client.cat.plugins(format="json")
    except _search_errors():
        return False
    return any(str(p.get("component", "")).startswith("opensearch-knn") for p in plugins or [])


def opensearch_client(url: str, *, region: str | None = None, credentials: Any = None, timeout: float = 10.0) -> Any:
    """An opensearch-py client: plain HTTP for the local osmem-server, SigV4-signed HTTPS for AWS."""
    from opensearchpy import OpenSearch, RequestsHttpConnection
    from opensearchpy.helpers.signer import RequestsAWSV4SignerAuth

    if credentials is None:
        return OpenSearch(hosts=[url], timeout=timeout, max_retries=1, retry_on_timeout=False)
    if not url.startswith("https://"):
        raise ValueError("an AWS OpenSearch endpoint must be https://")
    return OpenSearch(
        hosts=[url],
        http_auth=RequestsAWSV4SignerAuth(credentials, region or "us-east-1", "es"),
        use_ssl=True,
        verify_certs=True,
        connection_class=RequestsHttpConnection,
        timeout=timeout,
        max_retries=2,
    )
