"""Attacker stories against "auto"'s one search over several indices, played on osmem-server over HTTP (#19).

"auto" chooses the bot with ONE request over the union of the user's permitted scopes. An employee allowed
on the customer bot reads two indices in that request: the internal one (their internal bots) and the
external one (the customer bot, public content only). Joining the bots' filters naively (any permitted
department, any permitted classification, either index) would open two holes, each planted here by someone
who can write a document's metadata (a misfiled upload, a compromised source system):
- an internal-classified chunk filed under the customer collection's department in the external index
  (the customer bot admits public only);
- a chunk filed under an internal department (hr) but stored in the external index, or filed under the
  customer department but stored in the internal index (each bot reads its own index only).
None may be returned, and the chosen bot's passages must lie inside that bot's own scope.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from keel.access.filters import passage_in_scope
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for, union_scope
from keel.identity.principal import Principal
from keel.knowledge.opensearch import OpenSearchRetriever, index_body
from keel.knowledge.ports import SearchScope
from keel.tenant.loader import load_tenant
from tests.fakes.knowledge import HashingEmbedder

pytestmark = pytest.mark.integration

INDEXES = Indexes("sec-auto-internal", "sec-auto-external")
EMBEDDER = HashingEmbedder(64)
TEXT = "refund policy for annual leave and vpn access"
_ids = itertools.count()


def _principal() -> Principal:
    # An engineer: internal bots (hr, it, finance) and the customer bot, as the demo tenant grants.
    return Principal(
        subject="sub-sec-auto",
        username="sec-auto",
        groups=frozenset({"all-staff", "engineering"}),
        tenant="demo",
    )


@pytest.fixture(scope="module")
def client(opensearch_stack: Any) -> Iterator[Any]:
    from opensearchpy import OpenSearch

    search = OpenSearch(hosts=[opensearch_stack.url], timeout=10)
    for index in (INDEXES.internal, INDEXES.external):
        if search.indices.exists(index=index):
            search.indices.delete(index=index)
        search.indices.create(index=index, body=index_body(EMBEDDER.dimension, knn=False))
    yield search


@pytest.fixture(scope="module")
def pdp() -> PolicyDecisionPoint:
    return PolicyDecisionPoint.for_tenant(load_tenant())


def _put(client: Any, index: str, doc_id: str, *, department: str, classification: str, acl: list[str]) -> None:
    number = next(_ids)
    client.index(
        index=index,
        id=f"{doc_id}#{number}",
        body={
            "doc_id": doc_id,
            "chunk_id": f"{doc_id}#{number}",
            "title": doc_id,
            "text": TEXT,
            "classification": classification,
            "acl_groups": acl,
            "department": department,
            "version": 1,
            "embedding": EMBEDDER.embed([TEXT])[0],
        },
    )


def _scopes(pdp: PolicyDecisionPoint, principal: Principal) -> dict[str, SearchScope]:
    allowed = [b.id for b in pdp.bots if pdp.may_use(principal, b.id).allowed]
    return {bot: scope_for(principal, bot, pdp, indexes=INDEXES) for bot in allowed}


def test_one_search_over_both_indices_returns_nothing_a_bot_would_not(client: Any, pdp: PolicyDecisionPoint) -> None:
    principal = _principal()
    scopes = _scopes(pdp, principal)
    customer = next(bot for bot, s in scopes.items() if s.index == INDEXES.external)
    external_department = sorted(scopes[customer].departments or ())[0]
    internal_bot = next(bot for bot, s in scopes.items() if s.index == INDEXES.internal)
    internal_department = sorted(scopes[internal_bot].departments or ())[0]
    # What the bots may legitimately return: a public FAQ in the external index, an internal page in the internal one.
    _put(client, INDEXES.external, "ok-faq", department=external_department, classification="public", acl=["public"])
    _put(
        client,
        INDEXES.internal,
        "ok-internal",
        department=internal_department,
        classification="internal",
        acl=["all-staff"],
    )
    # The planted chunks: each passes a naive join of the bots' filters.
    planted = {
        "planted-internal-in-external": (INDEXES.external, external_department, "internal", ["all-staff"]),
        "planted-internal-dept-in-external": (INDEXES.external, internal_department, "internal", ["all-staff"]),
        "planted-customer-dept-in-internal": (INDEXES.internal, external_department, "public", ["public"]),
        "planted-other-group": (INDEXES.internal, internal_department, "internal", ["payroll-admins"]),
    }
    for doc_id, (index, department, classification, acl) in planted.items():
        _put(client, index, doc_id, department=department, classification=classification, acl=acl)
    for index in (INDEXES.internal, INDEXES.external):
        client.indices.refresh(index=index)

    union = union_scope(list(scopes.values()))
    assert set(union.indices) == {INDEXES.internal, INDEXES.external} and union.index_branches is not None
    retriever = OpenSearchRetriever(client, EMBEDDER, knn=False, max_per_doc=5)
    found = retriever.search(union, TEXT, k=50)
    found_ids = {p.doc_id for p in found}

    assert found_ids == {"ok-faq", "ok-internal"}, found_ids
    for passage in found:
        # Each passage says where it came from, and one bot's own search of that index admits it.
        assert passage.index in union.indices
        assert any(passage_in_scope(scope, passage) for scope in scopes.values()), passage
    faq = next(p for p in found if p.doc_id == "ok-faq")
    assert passage_in_scope(scopes[customer], faq) and not passage_in_scope(scopes[internal_bot], faq)

    # The naive join (one flat filter over both indices) would have returned the planted chunks: the
    # story is real, and the branches are what close it.
    naive = client.search(
        index=union.index,
        body={
            "size": 50,
            "query": {
                "bool": {
                    "filter": [
                        {"terms": {"acl_groups": sorted(union.groups)}},
                        {"terms": {"classification": sorted(union.classifications)}},
                        {"terms": {"department": sorted(union.departments or ())}},
                    ]
                }
            },
        },
    )
    naive_ids = {hit["_source"]["doc_id"] for hit in naive["hits"]["hits"]}
    assert {"planted-internal-in-external", "planted-customer-dept-in-internal"} <= naive_ids
