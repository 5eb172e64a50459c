"""ActionService: authorise with Cedar, confirm destructive actions, execute, one audit record per action."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import BaseModel

from keel.access.pdp import RESOURCE_ACTIONS
from keel.actions.ports import ActionResult
from keel.actions.registry import ActionRegistry, ActionSpec
from keel.actions.service import NO_LIVE_SESSION, UNKNOWN_ACTION, ActionContext, ActionService
from keel.audit.trail import AuditTrail
from keel.errors import AuditUnavailable, ConfigurationError, ServiceUnavailable
from keel.models.ports import ToolCall
from tests.fakes.actions import InMemoryPendingActions
from tests.fakes.audit import InMemoryAuditSink
from tests.fakes.identity import SettableSession
from tests.unit.actions.conftest import ADMIN, ENGINEER, INSTANCE, Rig, person


def ctx(principal=ADMIN, turn: int = 0, conversation: str = "conv-1") -> ActionContext:
    return ActionContext(principal, "it", conversation, "api", "corr-1", turn)


def call(name: str, **inputs: object) -> ToolCall:
    return ToolCall("tooluse-1", name, dict(inputs))


def test_a_read_action_runs_at_once_and_is_audited_with_the_permitting_policy(rig: Rig) -> None:
    outcome = rig.service.propose(ctx(ENGINEER), call("describe_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "done"
    assert "running" in outcome.text
    [record] = rig.sink.sent
    assert record.kind == "action" and record.action is not None
    assert record.action.decision == "allow"
    assert record.action.policy_ids == ("action.cloud.view",)
    assert record.action.confirmation == "not_required" and record.action.result == "succeeded"
    assert record.action.policy == 'Keel::Action::"viewResource"'


def test_a_viewer_asking_to_delete_is_refused_and_the_record_names_the_deciding_policy(rig: Rig) -> None:
    outcome = rig.service.propose(ctx(ENGINEER), call("delete_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "refused" and outcome.turn_outcome == "refused"
    assert rig.ec2.calls == [] and rig.pending.items == {}
    # The refusal names no policy and no group that would allow it.
    assert "cloud-admins" not in outcome.text and "policy" not in outcome.text.lower()
    [record] = rig.sink.sent
    assert record.action is not None
    assert record.action.decision == "deny"
    assert record.action.policy_ids == ("action.cloud.delete.only-cloud-admins",)
    assert record.action.result == "not_run"
    assert record.actor.subject == ENGINEER.subject


def test_an_external_principal_is_refused_by_the_named_forbid_policy(rig: Rig) -> None:
    customer = person("sub-carla", "customers", "cloud-admins", external=True)

    outcome = rig.service.propose(ctx(customer), call("delete_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "refused"
    assert rig.sink.sent[0].action is not None
    assert "action.external-principals-never-act" in rig.sink.sent[0].action.policy_ids


def test_a_destructive_action_asks_first_and_changes_nothing(rig: Rig) -> None:
    outcome = rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "confirm"
    assert "yes" in outcome.text and INSTANCE in outcome.text
    assert rig.ec2.instances[INSTANCE] == "running" and rig.ec2.calls == []
    assert rig.sink.sent == []  # the one record is written when the action concludes
    assert rig.pending.latest("conv-1") is not None


def test_an_explicit_yes_on_the_next_turn_runs_it_and_writes_one_record(rig: Rig) -> None:
    rig.service.propose(ctx(ADMIN, turn=0), call("delete_instance", instance_id=INSTANCE))

    outcome, consumed = rig.service.resolve(ctx(ADMIN, turn=1), "Yes!")

    assert consumed and outcome is not None and outcome.status == "done"
    assert rig.ec2.instances[INSTANCE] == "shutting-down"
    [record] = rig.sink.sent
    assert record.action is not None
    assert record.action.confirmation == "confirmed" and record.action.result == "succeeded"
    assert record.action.policy_ids == ("action.cloud.delete.cloud-admins",)
    assert rig.pending.latest("conv-1") is None


@pytest.mark.parametrize("session", [SettableSession(live=False), None], ids=["ended-at-the-idp", "no-proof"])
def test_a_confirmed_destructive_action_does_not_run_without_a_live_session_at_the_idp(
    rig: Rig, session: SettableSession | None
) -> None:
    # Given a cloud admin whose token still verifies, but whose session the IdP no longer vouches for
    admin = replace(ADMIN, session=session)
    rig.service.propose(ctx(admin, turn=0), call("delete_instance", instance_id=INSTANCE))

    # When they confirm the deletion
    outcome, consumed = rig.service.resolve(ctx(admin, turn=1), "yes")

    # Then nothing is deleted, the user is told to sign in again, and the record names why
    assert consumed and outcome is not None and outcome.status == "refused"
    assert "sign in again" in outcome.text.lower()
    assert rig.ec2.instances[INSTANCE] == "running" and rig.ec2.calls == []
    [record] = rig.sink.sent
    assert record.action is not None and record.action.result == "not_run"
    assert record.action.decision == "deny" and record.action.error_code == "no_live_session"
    assert record.action.policy_ids[-1] == NO_LIVE_SESSION


def test_a_read_action_needs_no_live_session_proof(rig: Rig) -> None:
    engineer = replace(ENGINEER, session=None)
    outcome = rig.service.propose(ctx(engineer), call("describe_instance", instance_id=INSTANCE))
    assert outcome is not None and outcome.status == "done"


def test_the_idp_is_asked_once_per_high_assurance_action(rig: Rig) -> None:
    session = SettableSession()
    admin = replace(ADMIN, session=session)
    rig.service.propose(ctx(admin, turn=0), call("delete_instance", instance_id=INSTANCE))
    assert session.checks == 0  # asking for confirmation costs nothing at the IdP
    outcome, _ = rig.service.resolve(ctx(admin, turn=1), "yes")
    assert outcome is not None and outcome.status == "done" and session.checks == 1


@pytest.mark.parametrize("answer", ["no", "Cancel.", "nein", "non"])
def test_an_explicit_no_cancels_and_is_recorded_as_declined(rig: Rig, answer: str) -> None:
    rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))

    outcome, consumed = rig.service.resolve(ctx(ADMIN, turn=1), answer)

    assert consumed and outcome is not None and outcome.status == "cancelled"
    assert rig.ec2.instances[INSTANCE] == "running"
    assert rig.sink.sent[0].action is not None
    assert rig.sink.sent[0].action.confirmation == "declined"
    assert rig.sink.sent[0].action.result == "not_run"


@pytest.mark.parametrize("answer", ["ok", "sure, why not", "yes but not that one", "what is a VPN?", "yess"])
def test_anything_but_an_explicit_yes_cancels_and_the_message_is_left_to_the_turn(rig: Rig, answer: str) -> None:
    rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))

    outcome, consumed = rig.service.resolve(ctx(ADMIN, turn=1), answer)

    assert outcome is None and not consumed
    assert rig.ec2.calls == []
    assert rig.sink.sent[0].action is not None and rig.sink.sent[0].action.confirmation == "declined"
    # The pending action is gone: a later yes does nothing.
    assert rig.service.resolve(ctx(ADMIN, turn=2), "yes") == (None, False)


def test_a_yes_after_the_expiry_does_nothing(rig: Rig) -> None:
    rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))
    rig.clock.now += 301

    outcome, consumed = rig.service.resolve(ctx(ADMIN, turn=1), "yes")

    assert consumed and outcome is not None and outcome.status == "expired"
    assert rig.ec2.calls == []
    assert rig.sink.sent[0].action is not None and rig.sink.sent[0].action.confirmation == "expired"


def test_a_yes_that_is_not_the_very_next_user_turn_does_nothing(rig: Rig) -> None:
    rig.service.propose(ctx(ADMIN, turn=3), call("delete_instance", instance_id=INSTANCE))

    outcome, _ = rig.service.resolve(ctx(ADMIN, turn=5), "yes")

    assert outcome is not None and outcome.status == "expired"
    assert rig.ec2.calls == []


def test_a_second_yes_cannot_run_the_action_twice(rig: Rig) -> None:
    rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))
    rig.service.resolve(ctx(ADMIN, turn=1), "yes")

    assert rig.service.resolve(ctx(ADMIN, turn=2), "yes") == (None, False)
    assert rig.ec2.calls == [("terminate", INSTANCE)]
    assert len(rig.sink.sent) == 1


def test_the_confirmation_is_authorised_again_with_the_current_groups(rig: Rig) -> None:
    rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))
    demoted = person(ADMIN.subject, "all-staff", "it")

    outcome, consumed = rig.service.resolve(ctx(demoted, turn=1), "yes")

    assert consumed and outcome is not None and outcome.status == "refused"
    assert rig.ec2.calls == []
    record = rig.sink.sent[0].action
    assert record is not None and record.decision == "deny" and record.confirmation == "confirmed"


def test_someone_else_cannot_confirm_a_pending_action(rig: Rig) -> None:
    rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id=INSTANCE))
    other_admin = person("sub-olga", "cloud-admins")

    assert rig.service.resolve(ctx(other_admin, turn=1), "yes") == (None, False)
    assert rig.ec2.calls == []


def test_an_adapter_error_is_a_clear_failure_and_is_audited(rig: Rig) -> None:
    rig.ec2.fail_with = ServiceUnavailable("EC2 down")

    outcome = rig.service.propose(ctx(ENGINEER), call("describe_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "failed" and "not available" in outcome.text
    record = rig.sink.sent[0].action
    assert record is not None and record.result == "failed" and record.error_code == "service_unavailable"


def test_an_unknown_instance_is_reported_as_not_found(rig: Rig) -> None:
    outcome = rig.service.propose(ctx(ENGINEER), call("describe_instance", instance_id="i-00000000deadbeef0"))

    assert outcome is not None and outcome.status == "failed" and "not found" in outcome.text
    assert rig.sink.sent[0].action is not None and rig.sink.sent[0].action.error_code == "not_found"


def test_an_unexpected_adapter_bug_still_leaves_a_record(rig: Rig) -> None:
    rig.ec2.fail_with = RuntimeError("boom")

    outcome = rig.service.propose(ctx(ENGINEER), call("describe_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "failed" and "boom" not in outcome.text
    assert rig.sink.sent[0].action is not None and rig.sink.sent[0].action.error_code == "internal"


def test_bad_inputs_are_explained_and_nothing_is_authorised_or_run(rig: Rig) -> None:
    outcome = rig.service.propose(ctx(ADMIN), call("delete_instance", instance_id="the big one"))

    assert outcome is not None and outcome.status == "invalid"
    assert "instance_id" in outcome.text and "i-0123456789abcdef0" in outcome.text
    assert rig.sink.sent == [] and rig.ec2.calls == []


def test_a_tool_the_bot_does_not_offer_is_ignored(rig: Rig) -> None:
    assert rig.service.propose(ctx(ADMIN), call("format_disk", device="sda")) is None
    other_bot = ActionContext(ADMIN, "hr", "conv-1", "api", "corr-1")
    assert rig.service.propose(other_bot, call("delete_instance", instance_id=INSTANCE)) is None
    assert rig.sink.sent == []


def test_an_action_the_policy_point_does_not_know_is_refused(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a tool whose Cedar action the policy point has never heard of
    monkeypatch.delitem(RESOURCE_ACTIONS, "stopResource")
    outcome = rig.service.propose(ctx(ADMIN), call("stop_instance", instance_id=INSTANCE))

    assert outcome is not None and outcome.status == "refused"
    assert rig.sink.sent[0].action is not None and rig.sink.sent[0].action.policy_ids == (UNKNOWN_ACTION,)
    assert rig.ec2.calls == []


def test_when_the_audit_trail_is_down_a_refusal_is_not_returned_unrecorded(rig: Rig) -> None:
    rig.sink.down = True

    with pytest.raises(AuditUnavailable):
        rig.service.propose(ctx(ENGINEER), call("delete_instance", instance_id=INSTANCE))


class Refund(BaseModel):
    order_id: str
    amount_cents: int


def refund_service(pdp, ran: list[str]) -> tuple[ActionService, InMemoryAuditSink]:
    registry = ActionRegistry()
    registry.register(
        ActionSpec(
            name="refund_order",
            description="Refund an order",
            input_model=Refund,
            side_effect="money_moving",
            cedar_action="refund",
            resource=lambda _, r: r.order_id,
            run=lambda _, r: ran.append(r.order_id) or ActionResult(f"Refunded {r.amount_cents} cents."),
            summary=lambda r: f"refund {r.amount_cents / 100:.2f} on order {r.order_id}",
            amount_cents=lambda r: r.amount_cents,
        ),
        ["customer-care"],
    )
    sink = InMemoryAuditSink()
    return ActionService(registry, pdp, InMemoryPendingActions(), AuditTrail(sink)), sink


def test_a_money_moving_action_within_the_limit_asks_then_runs(pdp) -> None:
    ran: list[str] = []
    service, sink = refund_service(pdp, ran)
    agent = person("sub-sue", "support-agents")
    context = ActionContext(agent, "customer-care", "conv-9", "api", "corr-9", 0)

    asked = service.propose(context, ToolCall("t", "refund_order", {"order_id": "o-1", "amount_cents": 5000}))
    assert asked is not None and asked.status == "confirm" and "moves money" in asked.text and ran == []
    done, _ = service.resolve(ActionContext(agent, "customer-care", "conv-9", "api", "corr-9", 1), "confirm")

    assert done is not None and done.status == "done" and ran == ["o-1"]
    assert sink.sent[0].action is not None
    assert sink.sent[0].action.policy_ids == ("action.refund.support-agents-up-to-100",)


def test_a_money_moving_action_over_the_limit_is_refused_without_asking(pdp) -> None:
    ran: list[str] = []
    service, sink = refund_service(pdp, ran)
    agent = person("sub-sue", "support-agents")
    context = ActionContext(agent, "customer-care", "conv-9", "api", "corr-9", 0)

    outcome = service.propose(context, ToolCall("t", "refund_order", {"order_id": "o-1", "amount_cents": 50_000}))

    assert outcome is not None and outcome.status == "refused" and ran == []
    assert sink.sent[0].action is not None and sink.sent[0].action.decision == "deny"


def test_a_money_moving_action_must_say_how_to_read_its_amount() -> None:
    with pytest.raises(ConfigurationError, match="amount"):
        ActionSpec(
            name="refund_order",
            description="Refund",
            input_model=Refund,
            side_effect="money_moving",
            cedar_action="refund",
            resource=lambda _, r: r.order_id,
            run=lambda _, r: ActionResult("x"),
            summary=lambda r: "refund",
        )


def test_a_flagged_message_gets_no_tool_call_without_confirmation_even_a_read(rig: Rig) -> None:
    outcome = rig.service.propose(ctx(ENGINEER), call("describe_instance", instance_id=INSTANCE), step_up=True)

    assert outcome is not None and outcome.status == "confirm"
    assert "flagged for review" in outcome.text and outcome.data["step_up"] is True
    assert rig.ec2.calls == [] and rig.sink.sent == []

    done, consumed = rig.service.resolve(ctx(ENGINEER, turn=1), "yes")
    assert consumed and done is not None and done.status == "done"
    [record] = rig.sink.sent
    assert record.action is not None and record.action.confirmation == "confirmed"
