"""Property: a filter built from a principal's scope never admits a document outside the entitlements."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.access.filters import admits, permission_filter, scope_filter, search_body
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import scope_for
from keel.errors import Forbidden
from keel.identity.principal import Principal
from keel.knowledge.ports import CLASSIFICATIONS

GROUPS = [
    "all-staff",
    "engineering",
    "hr",
    "hr-admins",
    "payroll-admins",
    "finance",
    "sales",
    "sales-managers",
    "it",
    "it-admins",
    "cloud-admins",
    "customers",
    "public",
    "contractors",
]
DEPARTMENTS = ["hr", "it", "finance", "sales", "customer", "engineering"]
# Who may read confidential / restricted in each collection: the intent the Cedar policies must encode,
# written here independently of them.
CONFIDENTIAL = {
    "hr": {"hr-admins", "payroll-admins"},
    "it": {"it-admins", "cloud-admins"},
    "finance": {"finance"},
    "sales": {"sales"},
}
RESTRICTED = {"hr": {"payroll-admins"}}


@dataclass(frozen=True)
class Doc:
    index: str
    department: str
    acl_groups: tuple[str, ...]
    classification: str

    def fields(self) -> dict[str, object]:
        return {
            "department": self.department,
            "acl_groups": list(self.acl_groups),
            "classification": self.classification,
        }


def entitled(principal: Principal, bot_collections: tuple[str, ...], doc: Doc) -> bool:
    """The ground truth: may principal see doc through a bot reading bot_collections?"""
    groups = set(principal.groups) | {"public"}
    if doc.department not in bot_collections or not groups & set(doc.acl_groups):
        return False
    if principal.external or doc.department == "customer":
        return doc.index == "keel-external" and doc.classification == "public" and doc.department == "customer"
    if doc.index != "keel-internal":
        return False
    if doc.classification in ("public", "internal"):
        return True
    readers = (CONFIDENTIAL if doc.classification == "confidential" else RESTRICTED).get(doc.department, set())
    return bool(groups & readers)


principals = st.builds(
    lambda name, groups, department, external: Principal(
        subject=f"sub-{name}",
        username=name,
        groups=frozenset(groups),
        tenant="demo",
        department=department,
        external=external,
    ),
    st.text(alphabet="abcdefgh", min_size=1, max_size=6),
    st.sets(st.sampled_from(GROUPS), max_size=5),
    st.one_of(st.none(), st.sampled_from(DEPARTMENTS)),
    st.booleans(),
)
docs = st.builds(
    Doc,
    st.sampled_from(["keel-internal", "keel-external"]),
    st.sampled_from(DEPARTMENTS),
    st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3).map(tuple),
    st.sampled_from(CLASSIFICATIONS),
)


@settings(max_examples=300, deadline=None)
@given(
    principal=principals,
    bot=st.sampled_from(["hr", "it", "finance", "sales", "customer"]),
    corpus=st.lists(docs, max_size=25),
)
def test_filter_never_admits_a_document_outside_the_entitlements(
    pdp: PolicyDecisionPoint, principal: Principal, bot: str, corpus: list[Doc]
) -> None:
    try:
        scope = scope_for(principal, bot, pdp)
    except Forbidden:
        return  # no scope, no search
    clause = permission_filter(scope)
    collections = pdp.bots.get(bot).collections
    for doc in corpus:
        # The search runs only against scope.index, so a document in the other index is never a candidate.
        admitted = doc.index == scope.index and admits(clause, doc.fields())
        if admitted:
            assert entitled(principal, collections, doc), (principal, bot, doc)


@settings(max_examples=100, deadline=None)
@given(principal=principals, corpus=st.lists(docs, max_size=25))
def test_external_principals_never_get_internal_documents(
    pdp: PolicyDecisionPoint, principal: Principal, corpus: list[Doc]
) -> None:
    external = Principal(principal.subject, principal.username, principal.groups, "demo", external=True)
    scope = scope_for(external, "customer", pdp)
    assert scope.index == "keel-external"
    for doc in corpus:
        if admits(permission_filter(scope), doc.fields()):
            assert doc.classification == "public" and doc.department == "customer"


def test_filter_shape_is_bool_filter_with_terms(pdp: PolicyDecisionPoint) -> None:
    principal = Principal("s", "emma", frozenset({"all-staff"}), "demo", department="engineering")
    scope = scope_for(principal, "hr", pdp)
    assert permission_filter(scope) == {
        "bool": {
            "filter": [
                {"terms": {"acl_groups": ["all-staff", "public"]}},
                {"terms": {"classification": ["internal", "public"]}},
                {"terms": {"department": ["hr"]}},
            ]
        }
    }
    assert scope_filter(scope) == permission_filter(scope)["bool"]["filter"]
    body = search_body(scope, {"match": {"text": "leave"}}, size=5)
    assert body["query"]["bool"]["filter"] == scope_filter(scope)


def test_admits_refuses_clauses_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="supported"):
        admits({"script": {}}, {})


def test_per_department_classifications_become_branches() -> None:
    clause = {
        "bool": {
            "filter": [
                {"terms": {"acl_groups": ["a"]}},
                {
                    "bool": {
                        "should": [
                            {
                                "bool": {
                                    "filter": [
                                        {"term": {"department": "hr"}},
                                        {"terms": {"classification": ["internal"]}},
                                    ]
                                }
                            },
                            {
                                "bool": {
                                    "filter": [
                                        {"term": {"department": "it"}},
                                        {"terms": {"classification": ["confidential"]}},
                                    ]
                                }
                            },
                        ],
                        "minimum_should_match": 1,
                    }
                },
            ]
        }
    }
    assert admits(clause, {"acl_groups": ["a"], "department": "it", "classification": "confidential"})
    assert not admits(clause, {"acl_groups": ["a"], "department": "hr", "classification": "confidential"})
