"""The retriever: the AWS request carries the permission filter inside the k-NN clause; errors are translated."""

from __future__ import annotations

from typing import Any

import pytest
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import TransportError

from keel.access.filters import scope_filter
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import scope_for
from keel.errors import SearchUnavailable
from keel.knowledge.opensearch import OpenSearchRetriever, index_body
from tests.fakes.knowledge import HashingEmbedder, RecordingSearchClient
from tests.unit.knowledge.conftest import person

EMMA = person("emma", "all-staff", "engineering", department="engineering")
CARLA = person("carla", "customers", external=True)


def hit(doc_id: str, n: int = 0, score: float = 1.0, named: list[str] | None = None) -> dict[str, Any]:
    source = {
        "doc_id": doc_id,
        "chunk_id": f"{doc_id}#{n}",
        "title": doc_id,
        "text": "text",
        "version": 2,
        "classification": "internal",
        "acl_groups": ["all-staff"],
        "department": "hr",
        "heading": "Heading",
        "embedding": HashingEmbedder().embed([doc_id])[0],
    }
    return {"_id": source["chunk_id"], "_score": score, "_source": source, "matched_queries": named or []}


def test_aws_request_puts_the_permission_filter_inside_the_knn_clause(pdp: PolicyDecisionPoint) -> None:
    scope = scope_for(EMMA, "hr", pdp)
    client = RecordingSearchClient()
    OpenSearchRetriever(client, HashingEmbedder(), knn=True).search(scope, "annual leave", k=5)
    (body,) = client.bodies
    permission = scope_filter(scope)
    lexical, knn = body["query"]["bool"]["should"]
    assert knn["knn"]["embedding"]["filter"] == {"bool": {"filter": permission}}
    assert len(knn["knn"]["embedding"]["vector"]) == 64
    assert lexical["bool"]["filter"] == permission
    assert body["query"]["bool"]["filter"] == permission
    assert body["index"] == "keel-internal"
    assert {"terms": {"acl_groups": sorted(scope.groups)}} in permission


def test_external_scope_searches_only_the_external_index(pdp: PolicyDecisionPoint) -> None:
    client = RecordingSearchClient()
    OpenSearchRetriever(client, HashingEmbedder(), knn=True).search(scope_for(CARLA, "customer", pdp), "refund")
    assert client.bodies[0]["index"] == "keel-external"


def test_aws_hits_become_passages_with_version_score_and_matched_parts(pdp: PolicyDecisionPoint) -> None:
    client = RecordingSearchClient(hits=[hit("hr-leave", score=3.5, named=["lexical", "vector"]), hit("b")])
    passages = OpenSearchRetriever(client, HashingEmbedder(), knn=True).search(scope_for(EMMA, "hr", pdp), "q")
    assert passages[0].doc_id == "hr-leave" and passages[0].version == 2 and passages[0].score == 3.5
    assert passages[0].matched == ("lexical", "vector") and passages[0].heading == "Heading"
    assert passages[1].matched == ("hybrid",)


def test_local_mode_sends_the_permission_filter_in_every_search(pdp: PolicyDecisionPoint) -> None:
    scope = scope_for(EMMA, "hr", pdp)
    client = RecordingSearchClient(hits=[hit("a"), hit("b")])
    passages = OpenSearchRetriever(client, HashingEmbedder(), knn=False).search(scope, "a", k=2)
    # BM25 candidates, the permitted count, then (small permitted set) the exhaustive candidate fetch.
    assert len(client.bodies) == 3
    for body in client.bodies:
        assert body["query"]["bool"]["filter"] == scope_filter(scope)
        assert "knn" not in str(body)
    assert passages[0].doc_id == "a" and "lexical" in passages[0].matched and "vector" in passages[0].matched


def test_large_permitted_sets_are_not_scanned(pdp: PolicyDecisionPoint) -> None:
    client = RecordingSearchClient(hits=[hit("a"), hit("b")])
    retriever = OpenSearchRetriever(client, HashingEmbedder(), knn=False, scan_limit=1)
    assert [p.doc_id for p in retriever.search(scope_for(EMMA, "hr", pdp), "a", k=2)] == ["a", "b"]
    assert len(client.bodies) == 2


def test_one_document_fills_at_most_two_of_the_k_slots(pdp: PolicyDecisionPoint) -> None:
    client = RecordingSearchClient(hits=[hit("a", n) for n in range(5)] + [hit("b")])
    passages = OpenSearchRetriever(client, HashingEmbedder(), knn=True).search(scope_for(EMMA, "hr", pdp), "q")
    assert [p.doc_id for p in passages] == ["a", "a", "b"]


@pytest.mark.parametrize(
    "error", [OpenSearchConnectionError("N/A", "refused", None), TransportError(500, "boom", {}), OSError("reset")]
)
def test_engine_errors_become_search_unavailable(pdp: PolicyDecisionPoint, error: Exception) -> None:
    retriever = OpenSearchRetriever(RecordingSearchClient(error=error), HashingEmbedder(), knn=True)
    with pytest.raises(SearchUnavailable) as caught:
        retriever.search(scope_for(EMMA, "hr", pdp), "leave")
    assert caught.value.__cause__ is error


def test_blank_query_searches_nothing(pdp: PolicyDecisionPoint) -> None:
    client = RecordingSearchClient()
    assert OpenSearchRetriever(client, HashingEmbedder(), knn=True).search(scope_for(EMMA, "hr", pdp), "  ") == []
    assert client.bodies == []


def test_reranker_reorders_before_the_cut(pdp: PolicyDecisionPoint) -> None:
    class Reverse:
        def rerank(self, query: str, passages: list[Any]) -> list[Any]:
            return list(reversed(passages))

    client = RecordingSearchClient(hits=[hit("a"), hit("b"), hit("c")])
    retriever = OpenSearchRetriever(client, HashingEmbedder(), knn=True, reranker=Reverse())
    assert [p.doc_id for p in retriever.search(scope_for(EMMA, "hr", pdp), "q", k=2)] == ["c", "b"]


def test_vector_field_is_knn_only_where_the_engine_has_knn() -> None:
    aws = index_body(1024, knn=True)
    local = index_body(384, knn=False)
    assert aws["mappings"]["properties"]["embedding"]["type"] == "knn_vector"
    assert aws["mappings"]["properties"]["embedding"]["dimension"] == 1024
    assert aws["settings"] == {"index": {"knn": True}}
    assert local["mappings"]["properties"]["embedding"] == {"type": "object", "enabled": False}
    assert aws["mappings"]["properties"]["acl_groups"] == {"type": "keyword"}
