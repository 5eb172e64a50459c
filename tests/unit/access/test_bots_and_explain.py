"""The bot registry's validation, multi-collection scopes, explanations and `keel access explain`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from keel.access.bots import BotRegistry
from keel.access.explain import explain_for, tenant_documents
from keel.access.filters import admits, permission_filter
from keel.access.pdp import PolicyDecisionPoint
from keel.access.scope import scope_for
from keel.cli.main import main
from keel.errors import ConfigurationError, NotFound
from keel.tenant.loader import load_tenant
from tests.unit.access.conftest import PAULA


def bot(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "hr",
        "name": "HR",
        "audience": "internal",
        "collections": ["hr"],
        "allowed_groups": ["all-staff"],
        "owner": "hr@acme.example",
    }
    base.update(overrides)
    return base


def write(tmp_path: Path, bots: Any) -> Path:
    path = tmp_path / "bots.json"
    path.write_text(json.dumps(bots))
    return path


@pytest.mark.parametrize(
    ("bots", "message"),
    [
        ([bot(audience="partners")], "audience"),
        ([bot(id="HR Bot")], "id"),
        ([bot(collections=[])], "collections"),
        ([bot(collections=["../etc"])], "collection"),
        ([bot(), bot()], "defined twice"),
        ([bot(), bot(id="cust", audience="external")], "one audience"),
        ([], "empty"),
        ({"id": "hr"}, "invalid"),
    ],
)
def test_invalid_registries_say_what_is_wrong(tmp_path: Path, bots: Any, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        BotRegistry.load(write(tmp_path, bots))


def test_missing_and_broken_files_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        BotRegistry.load(tmp_path / "absent.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        BotRegistry.load(tmp_path / "bad.json")


def test_multi_collection_bot_gets_per_department_classifications(tmp_path: Path) -> None:
    registry = BotRegistry.load(write(tmp_path, [bot(id="people", collections=["hr", "it"])]))
    # The example tenant's grants, over a bot that reads two of its collections.
    pdp = PolicyDecisionPoint(registry, tenant_policies=load_tenant().grant_policies())
    scope = scope_for(PAULA, "people", pdp)
    assert dict(scope.department_classifications or ()) == {
        "hr": {"public", "internal", "confidential", "restricted"},
        "it": {"public", "internal"},
    }
    clause = permission_filter(scope)
    doc = {"acl_groups": ["payroll-admins"], "classification": "restricted"}
    assert admits(clause, {**doc, "department": "hr"})
    assert not admits(clause, {**doc, "department": "it"})


# --- explanations ---


@pytest.fixture(scope="module")
def documents() -> dict[str, Any]:
    return tenant_documents(load_tenant())


def test_engineer_cannot_see_salary_bands_and_is_told_why(pdp: PolicyDecisionPoint, documents: dict[str, Any]) -> None:
    explanation = explain_for(
        user="emma",
        groups=["all-staff", "engineering"],
        doc_id="hr-salary-bands",
        pdp=pdp,
        documents=documents,
        department="engineering",
    )
    assert explanation.visible_through == ()
    hr = next(v for v in explanation.verdicts if v.bot == "hr")
    assert "restricted" in hr.reason and "default deny" in hr.reason


def test_payroll_admin_sees_salary_bands_through_hr(pdp: PolicyDecisionPoint, documents: dict[str, Any]) -> None:
    explanation = explain_for(
        user="paula",
        groups=["all-staff", "payroll-admins"],
        doc_id="hr-salary-bands",
        pdp=pdp,
        documents=documents,
        department="hr",
    )
    assert explanation.visible_through == ("hr",)
    hr = next(v for v in explanation.verdicts if v.bot == "hr")
    assert hr.policy_ids == ("grant.hr.restricted",)


def test_hr_admin_blocked_by_the_document_acl(pdp: PolicyDecisionPoint, documents: dict[str, Any]) -> None:
    explanation = explain_for(
        user="hana",
        groups=["all-staff", "hr-admins"],
        doc_id="hr-payroll-calendar",
        pdp=pdp,
        documents=documents,
        department="hr",
        bot="hr",
    )
    (verdict,) = explanation.verdicts
    assert not verdict.visible and "ACL" in verdict.reason


def test_customer_told_internal_bots_are_forbidden(pdp: PolicyDecisionPoint, documents: dict[str, Any]) -> None:
    explanation = explain_for(
        user="carla", groups=["customers"], external=True, doc_id="it-vpn", pdp=pdp, documents=documents, bot="it"
    )
    (verdict,) = explanation.verdicts
    assert verdict.policy_ids == ("functional.external-principals-external-bots-only",)


def test_unknown_document_and_bot(pdp: PolicyDecisionPoint, documents: dict[str, Any]) -> None:
    with pytest.raises(NotFound, match="no document"):
        explain_for(user="u", groups=[], doc_id="nope", pdp=pdp, documents=documents)
    with pytest.raises(NotFound, match="unknown bot"):
        explain_for(user="u", groups=[], doc_id="it-vpn", pdp=pdp, documents=documents, bot="nope")


def test_cli_explains_and_exits_zero_when_visible(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "access",
            "explain",
            "--user",
            "paula",
            "--groups",
            "all-staff,payroll-admins",
            "--department",
            "hr",
            "--doc",
            "hr-salary-bands",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["visible_through"] == ["hr"]


def test_cli_exits_one_when_hidden_and_two_on_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            ["access", "explain", "--user", "carla", "--groups", "customers", "--external", "--doc", "hr-salary-bands"]
        )
        == 1
    )
    assert "may NOT see" in capsys.readouterr().out
    assert main(["access", "explain", "--user", "u", "--doc", "missing-doc"]) == 2
    assert "no document" in capsys.readouterr().err
