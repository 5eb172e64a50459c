"""Property over every tenant (both examples and a random one): no principal ever retrieves a document
that its groups and the tenant's grants do not allow.

The ground truth here is computed from tenant.yaml alone, independently of the Cedar policies the
decision point evaluates; the filter under test is the one every OpenSearch request carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from keel.access.filters import admits, permission_filter
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for
from keel.errors import Forbidden
from keel.identity.principal import Principal
from keel.knowledge.ports import CLASSIFICATIONS
from keel.tenant.loader import Tenant, TenantInvalid, default_tenant_dir, load_tenant, tenant_from_data

LAKESIDE = Path(__file__).resolve().parents[3] / "examples" / "lakeside-health"
INDEXES = Indexes()


@dataclass(frozen=True)
class Doc:
    index: str
    collection: str
    acl_groups: tuple[str, ...]
    classification: str

    def fields(self) -> dict[str, object]:
        return {
            "department": self.collection,
            "acl_groups": list(self.acl_groups),
            "classification": self.classification,
        }


def may_use(tenant: Tenant, principal: Principal, bot_id: str) -> bool:
    bot = next(b for b in tenant.spec.bots if b.id == bot_id)
    if bot.audience == "external":
        return True
    if principal.external:
        return False
    return bool(principal.groups & set(bot.allowed_groups)) or principal.department in bot.collections


def entitled(tenant: Tenant, principal: Principal, bot_id: str, doc: Doc) -> bool:
    """May principal see doc through bot, by tenant.yaml's rules alone?"""
    spec = tenant.spec
    bot = next(b for b in spec.bots if b.id == bot_id)
    groups = set(principal.groups) | {"public"}
    if doc.collection not in bot.collections or not groups & set(doc.acl_groups):
        return False
    audience = tenant.collections[doc.collection]
    if audience == "external" or principal.external or bot.audience == "external":
        return audience == "external" and doc.classification == "public"
    if doc.classification in spec.everyone_reads:
        return True
    readers = {
        g
        for a in spec.access
        if (a.collection, a.classification) == (doc.collection, doc.classification)
        for g in a.groups
    }
    return bool(groups & readers)


def tenant_groups(tenant: Tenant) -> list[str]:
    spec = tenant.spec
    found = {g for b in spec.bots for g in b.allowed_groups} | {g for a in spec.access for g in a.groups}
    return sorted(found | {"public", "somebody-else"})


def check(tenant: Tenant, pdp: PolicyDecisionPoint, data: Any) -> None:
    groups = tenant_groups(tenant)
    collections = [*sorted(tenant.collections), "not-a-collection"]
    principal = Principal(
        subject="sub-x",
        username="x",
        groups=frozenset(data.draw(st.sets(st.sampled_from(groups), max_size=4))),
        tenant="t",
        department=data.draw(st.one_of(st.none(), st.sampled_from(collections))),
        external=data.draw(st.booleans()),
    )
    bot = data.draw(st.sampled_from([b.id for b in tenant.spec.bots]))
    corpus = data.draw(
        st.lists(
            st.builds(
                Doc,
                st.sampled_from([INDEXES.internal, INDEXES.external]),
                st.sampled_from(collections),
                st.lists(st.sampled_from(groups), min_size=1, max_size=3).map(tuple),
                st.sampled_from(CLASSIFICATIONS),
            ),
            max_size=20,
        )
    )
    try:
        scope = scope_for(principal, bot, pdp, indexes=INDEXES)
    except Forbidden:
        return
    assert may_use(tenant, principal, bot), (principal, bot)
    clause = permission_filter(scope)
    for doc in corpus:
        # A search runs against scope.indices only: a document in another index is never a candidate.
        if doc.index in scope.indices and admits(clause, doc.fields()):
            assert entitled(tenant, principal, bot, doc), (principal, bot, doc)


ACME = load_tenant(default_tenant_dir())
LAKESIDE_TENANT = load_tenant(LAKESIDE)
ACME_PDP = PolicyDecisionPoint.for_tenant(ACME)
LAKESIDE_PDP = PolicyDecisionPoint.for_tenant(LAKESIDE_TENANT)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_acme_never_admits_a_document_outside_the_grants(data: Any) -> None:
    check(ACME, ACME_PDP, data)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_lakeside_never_admits_a_document_outside_the_grants(data: Any) -> None:
    check(LAKESIDE_TENANT, LAKESIDE_PDP, data)


GROUP_NAMES = ["g-a", "g-b", "g-c", "g-d", "g-e"]


@st.composite
def random_tenants(draw: Any) -> dict[str, Any]:
    ids = draw(st.lists(st.sampled_from(["c1", "c2", "c3", "c4", "c5"]), min_size=1, max_size=5, unique=True))
    audience = {c: draw(st.sampled_from(["internal", "external"])) for c in ids}
    bots = []
    for number in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["internal", "external"]))
        usable = [c for c in ids if kind == "internal" or audience[c] == "external"]
        assume(usable)
        bots.append(
            {
                "id": f"bot{number}",
                "name": f"Bot {number}",
                "audience": kind,
                "collections": draw(st.lists(st.sampled_from(usable), min_size=1, max_size=3, unique=True)),
                "allowed_groups": draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=2, unique=True)),
                "owner": "owner@example.org",
            }
        )
    internal = [c for c in ids if audience[c] == "internal"]
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(internal), st.sampled_from(["internal", "confidential", "restricted"])),
            unique=True,
            max_size=6,
        )
        if internal
        else st.just([])
    )
    return {
        "name": "Random Org",
        "collections": [{"id": c, "audience": audience[c]} for c in ids],
        "bots": bots,
        "everyone_reads": draw(st.lists(st.sampled_from(["public", "internal"]), unique=True)),
        "access": [
            {
                "collection": c,
                "classification": k,
                "groups": draw(st.lists(st.sampled_from(GROUP_NAMES), min_size=1, max_size=3, unique=True)),
            }
            for c, k in pairs
        ],
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(raw=random_tenants(), data=st.data())
def test_a_random_tenant_never_admits_a_document_outside_the_grants(raw: dict[str, Any], data: Any) -> None:
    try:
        tenant = tenant_from_data(raw, source="random")
    except TenantInvalid as exc:  # only refusals the generator cannot avoid (none expected)
        raise AssertionError(exc.problems) from None
    check(tenant, PolicyDecisionPoint.for_tenant(tenant), data)


def test_an_internal_bot_reads_its_external_collection_where_it_lives_and_only_public() -> None:
    nurse = Principal("sub-n", "nina", frozenset({"staff", "nursing"}), "lakeside", department="clinical")
    scope = scope_for(nurse, "ward-assistant", LAKESIDE_PDP, indexes=INDEXES)
    # One request over both indices; the filter keeps the external collection to public documents.
    assert scope.indices == (INDEXES.internal, INDEXES.external)
    clause = permission_filter(scope)
    leaflet = Doc(INDEXES.external, "patients", ("public",), "public")
    assert admits(clause, leaflet.fields())
    assert not admits(clause, Doc(INDEXES.external, "patients", ("nursing",), "internal").fields())
    assert not admits(clause, Doc(INDEXES.external, "people", ("staff",), "internal").fields())
    # A bot with only internal collections still searches the internal index alone.
    staff = Principal("sub-s", "sam", frozenset({"staff"}), "lakeside")
    assert scope_for(staff, "people-desk", LAKESIDE_PDP, indexes=INDEXES).indices == (INDEXES.internal,)
