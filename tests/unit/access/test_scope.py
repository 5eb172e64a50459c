"""A SearchScope comes only from scope_for and a Principal; external principals never reach internal data."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for
from keel.errors import Forbidden, NotFound
from keel.knowledge.ports import SearchScope
from tests.unit.access.conftest import CARLA, EMMA, PAULA, person

SRC = Path(__file__).resolve().parents[3] / "layers" / "core" / "src" / "keel"


def test_a_scope_cannot_be_built_directly() -> None:
    with pytest.raises(TypeError, match="scope_for"):
        SearchScope(subject="x", index="keel-internal", groups=frozenset({"a"}), classifications=frozenset({"public"}))


def test_a_scope_cannot_be_widened_with_replace(pdp: PolicyDecisionPoint) -> None:
    scope = scope_for(CARLA, "customer", pdp)
    with pytest.raises(TypeError, match="scope_for"):
        dataclasses.replace(scope, index="keel-internal")


def test_scope_for_needs_a_principal(pdp: PolicyDecisionPoint) -> None:
    with pytest.raises(TypeError, match="Principal"):
        scope_for("sub-emma", "hr", pdp)  # type: ignore[arg-type]


def test_only_the_access_package_builds_scopes() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.is_relative_to(SRC / "access") or path == SRC / "knowledge" / "ports.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
            called = isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "SearchScope"
            if name == "_SCOPE_GRANT" or called:
                offenders.append(str(path.relative_to(SRC)))
    assert offenders == []


def test_employee_scope_uses_the_internal_index_and_the_bots_collections(pdp: PolicyDecisionPoint) -> None:
    scope = scope_for(EMMA, "hr", pdp)
    assert scope.index == "keel-internal"
    assert scope.departments == {"hr"}
    assert scope.classifications == {"public", "internal"}
    assert scope.groups == {"all-staff", "engineering", "public"}


def test_payroll_admin_scope_includes_restricted(pdp: PolicyDecisionPoint) -> None:
    assert "restricted" in scope_for(PAULA, "hr", pdp).classifications


def test_external_principal_gets_the_external_index_and_public_only(pdp: PolicyDecisionPoint) -> None:
    scope = scope_for(CARLA, "customer", pdp, indexes=Indexes("corp-docs", "public-docs"))
    assert scope.index == "public-docs"
    assert scope.classifications == {"public"}
    assert scope.departments == {"customer"}


@pytest.mark.parametrize("bot", ["hr", "it", "finance", "sales"])
def test_external_principal_cannot_reach_an_internal_bot(pdp: PolicyDecisionPoint, bot: str) -> None:
    with pytest.raises(Forbidden):
        scope_for(CARLA, bot, pdp)


@pytest.mark.parametrize(
    "crafted", ["customer/../hr", "keel-internal", "HR", "hr ", "customer,hr", "*", "", "customer\x00hr"]
)
def test_crafted_bot_ids_are_unknown(pdp: PolicyDecisionPoint, crafted: str) -> None:
    with pytest.raises(NotFound):
        scope_for(CARLA, crafted, pdp)


def test_external_principal_with_internal_claims_still_gets_only_public_external(pdp: PolicyDecisionPoint) -> None:
    crafted = person("mallory", "customers", "all-staff", "payroll-admins", department="hr", external=True)
    scope = scope_for(crafted, "customer", pdp)
    assert scope.index == "keel-external" and scope.classifications == {"public"}
    with pytest.raises(Forbidden):
        scope_for(crafted, "hr", pdp)


def test_indexes_must_differ() -> None:
    with pytest.raises(ValueError, match="different"):
        Indexes("same", "same")


def _documents() -> list[dict[str, object]]:
    from keel.knowledge.ports import CLASSIFICATIONS

    groups = ["all-staff", "hr", "payroll-admins", "engineering", "finance", "sales", "sales-managers", "public"]
    departments = ["hr", "it", "finance", "sales", "customer", "legal"]
    return [
        {"acl_groups": [g], "classification": c, "department": d}
        for g in groups
        for c in CLASSIFICATIONS
        for d in departments
    ]


@pytest.mark.parametrize("who", ["emma", "hana", "paula", "finn", "simon", "ivan", "carla"])
def test_the_union_admits_exactly_what_one_of_the_bots_admits(pdp: PolicyDecisionPoint, who: str) -> None:
    # Given every permitted bot's scope for one principal (internal bots and the customer bot, two indices),
    # When they are joined for "auto", Then a document in an index passes the union's filter if and only if
    # one bot searching that index admits it: never anything more, whatever index it sits in.
    from keel.access.filters import admits, permission_filter
    from keel.access.scope import union_scope
    from tests.unit.access import conftest

    principal = getattr(conftest, who.upper())
    scopes = [scope_for(principal, b.id, pdp) for b in pdp.bots if pdp.may_use(principal, b.id).allowed]
    union = union_scope(scopes)
    assert set(union.indices) == {i for s in scopes for i in s.indices}
    for index in ("keel-internal", "keel-external"):
        for document in _documents():
            expected = any(index in s.indices and admits(permission_filter(s), document) for s in scopes)
            located = {**document, "_index": index}
            admitted = index in union.indices and admits(permission_filter(union), located)
            assert admitted is expected, (who, index, document)


def test_the_union_of_one_index_keeps_plain_department_filters(pdp: PolicyDecisionPoint) -> None:
    from keel.access.scope import union_scope

    internal = [scope_for(EMMA, b, pdp) for b in ("hr", "it")]
    union = union_scope(internal)
    assert union.index == "keel-internal" and union.index_branches is None


def test_the_union_refuses_scopes_of_different_principals(pdp: PolicyDecisionPoint) -> None:
    from keel.access.scope import union_scope

    with pytest.raises(ValueError, match="one principal only"):
        union_scope([scope_for(EMMA, "hr", pdp), scope_for(PAULA, "hr", pdp)])
    with pytest.raises(ValueError, match="at least one scope"):
        union_scope([])
    with pytest.raises(ValueError, match="confined to departments"):
        union_scope([union_scope([scope_for(EMMA, "hr", pdp), scope_for(EMMA, "customer", pdp)])])


def test_a_passage_from_another_index_is_outside_a_bots_scope(pdp: PolicyDecisionPoint) -> None:
    # A public FAQ chunk with the right department and ACL, read from the internal index, is not the
    # customer bot's (it searches the external index only); the union's branches say so too.
    from keel.access.filters import passage_in_scope
    from keel.access.scope import union_scope
    from keel.knowledge.ports import Passage

    customer = scope_for(EMMA, "customer", pdp)
    department = sorted(customer.departments or ())[0]
    passage = Passage("d", "d#0", "t", "x", 1.0, classification="public", acl_groups=("public",), department=department)
    assert passage_in_scope(customer, dataclasses.replace(passage, index="keel-external"))
    assert not passage_in_scope(customer, dataclasses.replace(passage, index="keel-internal"))
    union = union_scope([customer, scope_for(EMMA, "hr", pdp)])
    assert passage_in_scope(union, dataclasses.replace(passage, index="keel-external"))
    assert not passage_in_scope(union, dataclasses.replace(passage, index="keel-internal"))
