"""Property on a real OpenSearch protocol (osmem-server): a scoped search never returns a document outside
the principal's entitlements, and agrees with the in-memory evaluation of the same filter."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keel.access.filters import admits, permission_filter, search_body
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for
from keel.errors import Forbidden
from keel.identity.principal import Principal
from keel.tenant.loader import load_tenant
from tests.unit.access.test_filters import Doc, docs, entitled, principals

INDEXES = Indexes("it-internal", "it-external")
_counter = itertools.count()


@pytest.fixture(scope="module")
def search(opensearch_stack: Any) -> Iterator[Any]:
    from opensearchpy import OpenSearch

    client = OpenSearch(hosts=[opensearch_stack.url], timeout=10)
    mapping = {
        "mappings": {
            "properties": {
                "text": {"type": "text"},
                "acl_groups": {"type": "keyword"},
                "classification": {"type": "keyword"},
                "department": {"type": "keyword"},
            }
        }
    }
    for index in (INDEXES.internal, INDEXES.external):
        if client.indices.exists(index=index):
            client.indices.delete(index=index)
        client.indices.create(index=index, body=mapping)
    yield client


@pytest.fixture(scope="module")
def pdp() -> PolicyDecisionPoint:
    return PolicyDecisionPoint.for_tenant(load_tenant())


def load(client: Any, corpus: list[Doc]) -> dict[str, Doc]:
    """Replace both indices' content with corpus; return documents by id."""
    for index in (INDEXES.internal, INDEXES.external):
        client.delete_by_query(index=index, body={"query": {"match_all": {}}}, refresh=True)
    by_id: dict[str, Doc] = {}
    for doc in corpus:
        doc_id = f"d{next(_counter)}"
        index = INDEXES.internal if doc.index == "keel-internal" else INDEXES.external
        client.index(index=index, id=doc_id, body={"text": "policy leave vpn", **doc.fields()}, refresh=False)
        by_id[doc_id] = doc
    for index in (INDEXES.internal, INDEXES.external):
        client.indices.refresh(index=index)
    return by_id


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    principal=principals,
    bot=st.sampled_from(["hr", "it", "finance", "sales", "customer"]),
    corpus=st.lists(docs, min_size=1, max_size=20),
)
def test_search_results_stay_inside_the_entitlements(
    search: Any, pdp: PolicyDecisionPoint, principal: Principal, bot: str, corpus: list[Doc]
) -> None:
    by_id = load(search, corpus)
    try:
        scope = scope_for(principal, bot, pdp, indexes=INDEXES)
    except Forbidden:
        return
    body = search_body(scope, {"match": {"text": "policy"}}, size=100)
    hits = search.search(index=scope.index, body=body)["hits"]["hits"]
    returned = {hit["_id"] for hit in hits}
    collections = pdp.bots.get(bot).collections
    home = "keel-internal" if scope.index == INDEXES.internal else "keel-external"
    for doc_id in returned:
        assert entitled(principal, collections, by_id[doc_id]), by_id[doc_id]
    # The engine and the in-memory evaluation of the same filter agree exactly.
    expected = {i for i, d in by_id.items() if d.index == home and admits(permission_filter(scope), d.fields())}
    assert returned == expected


def test_external_principal_search_never_touches_the_internal_index(search: Any, pdp: PolicyDecisionPoint) -> None:
    corpus = [
        Doc("keel-internal", "customer", ("public", "customers"), "public"),
        Doc("keel-external", "customer", ("public",), "public"),
    ]
    by_id = load(search, corpus)
    carla = Principal("sub-carla", "carla", frozenset({"customers"}), "demo", external=True)
    scope = scope_for(carla, "customer", pdp, indexes=INDEXES)
    hits = search.search(index=scope.index, body=search_body(scope, {"match_all": {}}, size=10))["hits"]["hits"]
    assert [by_id[h["_id"]].index for h in hits] == ["keel-external"]
