"""The actions a bot offers follow the tenant: an AppConfig deployment that offers cloud actions through a bot
reaches running functions without a cold start; a setting fixed by the platform team wins; a tenant source that
fails keeps what was offered."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keel.access.pdp import RESOURCE_ACTIONS
from keel.actions.wiring import ActionsConfig, build_registry
from keel.tenant.appconfig import AppConfigTenant
from keel.tenant.derived import Derived
from tests.unit.tenant.test_appconfig import DOCUMENT, Deployments


class NoClients:
    """The integrations are built but never called while offering."""

    def client(self, name: str, **_: Any) -> object:
        return object()


def _offering(cloud: list[str]) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["tenant"]["actions"] = {"cloud": cloud}
    return document


def _names(registry: Any, bot: str) -> list[str]:
    return [spec.name for spec in registry.for_bot(bot)]


def test_a_deployment_that_offers_cloud_actions_through_a_bot_reaches_the_next_message() -> None:
    served = Deployments(_offering([]))
    offered = Derived(AppConfigTenant(served, source="t").current, lambda t: t.spec.actions, "offered actions")
    registry = build_registry(
        ActionsConfig(conversations_table="conversations"), NoClients(), known_actions=RESOURCE_ACTIONS,
        offered=offered.current,
    )  # fmt: skip
    assert _names(registry, "hr") == []

    served.document = _offering(["hr"])
    names = _names(registry, "hr")
    assert names and all(registry.get("hr", n) is not None for n in names)
    assert registry.get("other-bot", names[0]) is None

    served.document = _offering([])
    assert _names(registry, "hr") == [] and registry.get("hr", names[0]) is None


def test_bots_fixed_by_the_platform_setting_win_over_the_tenant() -> None:
    served = Deployments(_offering(["hr"]))
    offered = Derived(AppConfigTenant(served, source="t").current, lambda t: t.spec.actions, "offered actions")
    config = ActionsConfig(conversations_table="conversations", cloud_actions_bots=("ops",))
    registry = build_registry(config, NoClients(), known_actions=RESOURCE_ACTIONS, offered=offered.current)
    assert _names(registry, "hr") == [] and _names(registry, "ops")


def test_a_tenant_source_that_fails_keeps_what_was_offered(caplog: pytest.LogCaptureFixture) -> None:
    served = Deployments(_offering(["hr"]))
    source = AppConfigTenant(served, source="t")
    failing = False

    def current() -> Any:
        if failing:
            raise ConnectionError("AppConfig unreachable")
        return source.current()

    offered = Derived(current, lambda t: t.spec.actions, "offered actions")
    registry = build_registry(
        ActionsConfig(conversations_table="conversations"), NoClients(), known_actions=RESOURCE_ACTIONS,
        offered=offered.current,
    )  # fmt: skip
    before = _names(registry, "hr")
    failing = True
    assert _names(registry, "hr") == before and before
    assert _names(registry, "hr") == before
    assert [r.message for r in caplog.records].count(
        "tenant source failed; keeping the last offered actions: AppConfig unreachable"
    ) == 1


def test_a_tenant_source_that_fails_before_anything_was_offered_is_an_error() -> None:
    def current() -> Any:
        raise ConnectionError("AppConfig unreachable")

    with pytest.raises(ConnectionError):
        Derived(current, lambda t: t.spec.actions, "offered actions").current()


def test_a_lookup_asks_the_tenant_once_per_family_not_once_per_action() -> None:
    asked: list[int] = []

    class Offered:
        cloud = ("hr",)

    def offered() -> Offered:
        asked.append(1)
        return Offered()

    registry = build_registry(
        ActionsConfig(conversations_table="conversations"), NoClients(), known_actions=RESOURCE_ACTIONS,
        offered=offered,
    )  # fmt: skip
    assert len(_names(registry, "hr")) > 1
    assert len(asked) == 1
