"""The three layers of policy on the demo users, and the policy ids each decision names."""

from __future__ import annotations

import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.errors import InvalidRequest, NotFound
from keel.identity.principal import Principal
from tests.unit.access.conftest import AGENT, CARLA, EMMA, FINN, HANA, IVAN, PAULA, SIMON, person

# --- functional access ---


@pytest.mark.parametrize(
    ("principal", "bot", "allowed"),
    [
        (EMMA, "hr", True),
        (EMMA, "it", True),
        (EMMA, "sales", False),
        (SIMON, "sales", True),
        (CARLA, "customer", True),
        (CARLA, "hr", False),
        (CARLA, "sales", False),
        (EMMA, "customer", True),
    ],
)
def test_who_may_use_which_bot(pdp: PolicyDecisionPoint, principal: Principal, bot: str, allowed: bool) -> None:
    assert pdp.may_use(principal, bot).allowed is allowed


def test_employee_reaches_their_departments_bot_without_the_group(pdp: PolicyDecisionPoint) -> None:
    # Not in the bot's allowed groups, but the bot serves the employee's own department.
    seller = person("x", "contractors", department="sales")
    decision = pdp.may_use(seller, "sales")
    assert decision.allowed and decision.policy_ids == ("functional.internal-bot-by-department",)


def test_external_principal_is_stopped_by_the_forbid_even_with_internal_groups(pdp: PolicyDecisionPoint) -> None:
    crafted = person("mallory", "customers", "all-staff", "payroll-admins", department="hr", external=True)
    decision = pdp.may_use(crafted, "hr")
    assert not decision.allowed
    assert decision.policy_ids == ("functional.external-principals-external-bots-only",)


def test_denial_without_a_permit_names_no_policy(pdp: PolicyDecisionPoint) -> None:
    decision = pdp.may_use(EMMA, "sales")
    assert decision.policy_ids == ()
    assert "default deny" in decision.explanation


def test_unknown_bot_is_not_found(pdp: PolicyDecisionPoint) -> None:
    with pytest.raises(NotFound, match="known bots"):
        pdp.may_use(EMMA, "payroll")


# --- data access ---


@pytest.mark.parametrize(
    ("principal", "bot", "expected"),
    [
        (EMMA, "hr", {"hr": {"public", "internal"}}),
        (HANA, "hr", {"hr": {"public", "internal", "confidential"}}),
        (PAULA, "hr", {"hr": {"public", "internal", "confidential", "restricted"}}),
        (FINN, "finance", {"finance": {"public", "internal", "confidential"}}),
        (IVAN, "it", {"it": {"public", "internal", "confidential"}}),
        (CARLA, "customer", {"customer": {"public"}}),
        (CARLA, "hr", {}),
    ],
)
def test_retrievable_collections_and_classifications(
    pdp: PolicyDecisionPoint, principal: Principal, bot: str, expected: dict[str, set[str]]
) -> None:
    assert pdp.retrievable(principal, pdp.bots.get(bot)) == expected


def test_payroll_is_decided_by_the_payroll_policy(pdp: PolicyDecisionPoint) -> None:
    hr = pdp.bots.get("hr")
    assert pdp.may_retrieve(PAULA, hr, "hr", "restricted").policy_ids == ("grant.hr.restricted",)
    assert not pdp.may_retrieve(HANA, hr, "hr", "restricted").allowed


def test_bot_never_reads_outside_its_collections(pdp: PolicyDecisionPoint) -> None:
    decision = pdp.may_retrieve(PAULA, pdp.bots.get("it"), "hr", "internal")
    assert not decision.allowed and decision.policy_ids == ("data.bot-own-collections-only",)


def test_unknown_classification_is_invalid(pdp: PolicyDecisionPoint) -> None:
    with pytest.raises(InvalidRequest, match="accepted"):
        pdp.may_retrieve(EMMA, pdp.bots.get("hr"), "hr", "secret")


# --- action permissions ---


def test_engineer_may_view_but_not_delete_a_cloud_resource(pdp: PolicyDecisionPoint) -> None:
    assert pdp.may_act(EMMA, "viewResource", "i-0abc").policy_ids == ("action.cloud.view",)
    assert not pdp.may_act(EMMA, "deleteResource", "i-0abc").allowed


def test_cloud_admin_may_delete(pdp: PolicyDecisionPoint) -> None:
    assert pdp.may_act(IVAN, "deleteResource", "i-0abc").policy_ids == ("action.cloud.delete.cloud-admins",)


@pytest.mark.parametrize(
    ("principal", "cents", "allowed"),
    [
        (AGENT, 10_000, True),
        (AGENT, 10_001, False),
        (FINN, 500_000, True),
        (FINN, 500_001, False),
        (FINN, 0, False),
        (EMMA, 100, False),
        (person("c", "customers", "finance", external=True), 100, False),
    ],
)
def test_refund_limits(pdp: PolicyDecisionPoint, principal: Principal, cents: int, allowed: bool) -> None:
    assert pdp.may_act(principal, "refund", "order-1", amount_cents=cents).allowed is allowed


def test_refund_without_an_amount_is_invalid(pdp: PolicyDecisionPoint) -> None:
    with pytest.raises(InvalidRequest, match="amount_cents"):
        pdp.may_act(FINN, "refund", "order-1")


def test_unknown_action_is_invalid(pdp: PolicyDecisionPoint) -> None:
    with pytest.raises(InvalidRequest, match="accepted"):
        pdp.may_act(IVAN, "rebootEverything", "i-1")


def test_group_names_with_quotes_cannot_inject_policy_syntax(pdp: PolicyDecisionPoint) -> None:
    odd = person('x"; permit(principal,action,resource);', 'all-staff" || true || "', department="it")
    assert not pdp.may_act(odd, "deleteResource", "i-1").allowed
