"""Per-bot settings follow the tenant: an AppConfig deployment that changes a bot's screen or its support
resources reaches the next message, with no code release and no cold start; a broken one changes nothing."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keel.errors import ConfigurationError
from keel.escalation.config import tenant_bot_escalation
from keel.guardrails.input import InputScreen
from keel.guardrails.verdict import tenant_bot_policies
from keel.tenant.appconfig import AppConfigTenant
from keel.tenant.derived import PerBot
from keel.turn_adapters import EscalationBridge
from tests.unit.tenant.test_appconfig import DOCUMENT, Deployments


def _with_bot_settings(guardrails: dict[str, Any], escalation: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["tenant"]["bots"][0]["guardrails"] = guardrails
    document["tenant"]["bots"][0]["escalation"] = escalation
    return document


HELPLINE = {"support_resources": [{"name": "Night line", "contact": "0800 000 000", "hours": "24/7"}]}


def test_a_deployment_that_tightens_a_bots_screen_reaches_the_next_message() -> None:
    served = Deployments(_with_bot_settings({"flag_threshold": 0.5, "block_threshold": 0.8}, {}))
    source = AppConfigTenant(served, source="appconfig:test")
    screen = InputScreen()
    screen.bot_policies = PerBot(source.current, tenant_bot_policies)
    assert screen.policy_for("hr").block_threshold == 0.8

    served.document = _with_bot_settings({"flag_threshold": 0.3, "block_threshold": 0.6}, {})
    assert screen.policy_for("hr").block_threshold == 0.6
    assert screen.policy_for("hr").flag_threshold == 0.3
    assert screen.policy_for("other-bot") is screen.policy, "a bot without its own policy gets the default"


def test_a_new_helpline_reaches_the_support_message_without_a_release() -> None:
    served = Deployments(_with_bot_settings({}, {}))
    bridge = EscalationBridge(
        service=None, bots=PerBot(AppConfigTenant(served, source="t").current, tenant_bot_escalation)
    )
    assert bridge._bots["hr"].support_resources == ()
    served.document = _with_bot_settings({}, HELPLINE)
    assert "0800 000 000" in bridge._bots["hr"].support_text("en")


def test_settings_are_derived_once_per_tenant_document() -> None:
    tenant = AppConfigTenant(Deployments(_with_bot_settings({"block_threshold": 0.7}, {})), source="t").current()
    calls: list[int] = []

    def derive(bots: Any) -> dict[str, Any]:
        calls.append(1)
        return tenant_bot_policies(bots)

    per_bot = PerBot(lambda: tenant, derive)
    for _ in range(5):
        assert per_bot["hr"].block_threshold == 0.7
    assert len(calls) == 1
    assert list(per_bot) == ["hr"] and len(per_bot) == 1


def test_settings_that_fail_keep_the_last_good_ones_and_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    good = AppConfigTenant(Deployments(_with_bot_settings({"block_threshold": 0.7}, {})), source="t").current()
    bad = AppConfigTenant(Deployments(_with_bot_settings({"block_threshold": 0.9}, {})), source="t").current()
    current = [good]

    def derive(bots: Any) -> dict[str, Any]:
        if current[0] is bad:
            raise ConfigurationError("bot 'hr': invalid guardrails settings (a rule this tenant breaks)")
        return tenant_bot_policies(bots)

    per_bot = PerBot(lambda: current[0], derive)
    assert per_bot["hr"].block_threshold == 0.7
    current[0] = bad
    assert per_bot["hr"].block_threshold == 0.7, "the last good settings stay"
    assert per_bot["hr"].block_threshold == 0.7
    refused = [r for r in caplog.records if "keeping the last good ones" in r.message]
    assert len(refused) == 1, [r.message for r in caplog.records]

    fixed = AppConfigTenant(Deployments(_with_bot_settings({"block_threshold": 0.6}, {})), source="t").current()
    current[0] = fixed
    assert per_bot["hr"].block_threshold == 0.6, "a good tenant after a bad one is taken up"


def test_a_tenant_source_that_fails_keeps_the_settings_it_had(caplog: pytest.LogCaptureFixture) -> None:
    tenant = AppConfigTenant(Deployments(_with_bot_settings({"block_threshold": 0.7}, {})), source="t").current()
    reachable = [True]

    def source() -> Any:
        if not reachable[0]:
            raise ConnectionError("AppConfig did not answer")
        return tenant

    per_bot = PerBot(source, tenant_bot_policies)
    assert per_bot["hr"].block_threshold == 0.7
    reachable[0] = False
    for _ in range(3):
        assert per_bot["hr"].block_threshold == 0.7, "the settings it had, not an error per message"
    failed = [r for r in caplog.records if "tenant source failed" in r.message]
    assert len(failed) == 1, "logged once while it keeps failing"
    reachable[0] = True
    assert per_bot["hr"].block_threshold == 0.7


def test_a_tenant_source_that_fails_before_any_settings_is_an_error() -> None:
    def source() -> Any:
        raise ConnectionError("AppConfig did not answer")

    with pytest.raises(ConnectionError, match="did not answer"):
        PerBot(source, tenant_bot_policies)["hr"]


class _Handoffs:
    """The workflow port: records that a handoff started."""

    def __init__(self) -> None:
        self.started = 0

    def escalate(self, *args: Any, **kwargs: Any) -> Any:
        self.started += 1
        return type("Outcome", (), {"message": "A colleague will contact you.", "meta": lambda self: {}})()


def test_the_support_text_is_settled_before_the_handoff_starts() -> None:
    from keel.identity.principal import Principal
    from keel.turn import Handoff

    class Unreachable(dict[str, Any]):
        def get(self, *args: Any, **kwargs: Any) -> Any:
            raise ConnectionError("settings unavailable")

    service = _Handoffs()
    bridge = EscalationBridge(service, bots=Unreachable())
    handoff = Handoff(
        conversation_id="c1",
        principal=Principal("sub-1", "ana", frozenset({"staff"}), "t"),
        bot="hr",
        channel="web",
        reason="vulnerable_customer",
        detail="",
        intent="self_harm",
        urgency="urgent",
        language="en",
        transcript=[{"role": "user", "text": "I can't go on"}],
    )
    with pytest.raises(ConnectionError):
        bridge.hand_over(handoff)
    assert service.started == 0, "no handoff left in flight without its support message"


def test_settings_that_fail_on_the_first_read_are_an_error_that_says_why() -> None:
    tenant = AppConfigTenant(Deployments(_with_bot_settings({}, {})), source="t").current()

    def derive(bots: Any) -> dict[str, Any]:
        raise ConfigurationError("bot 'hr': invalid escalation settings (policy.low_confidence_turns: not a number)")

    with pytest.raises(ConfigurationError, match="low_confidence_turns"):
        PerBot(lambda: tenant, derive)["hr"]
