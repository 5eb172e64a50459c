"""Wiring: actions are off unless switched on, and tools the policy point cannot decide are not offered."""

from __future__ import annotations

from typing import Any

import pytest

from keel.access.pdp import RESOURCE_ACTIONS
from keel.actions.wiring import ActionsConfig, build_action_planner, build_registry
from keel.errors import ConfigurationError


class Clients:
    dynamodb = object()

    def __init__(self) -> None:
        self.made: list[str] = []

    def client(self, service: str, **_: Any) -> object:
        self.made.append(service)
        return object()


def test_actions_are_off_by_default() -> None:
    config = ActionsConfig(conversations_table="keel-local-conversations")
    planner = build_action_planner(
        config,
        Clients(),
        authorizer=None,
        audit=None,
        proposer=None,
        known_actions=RESOURCE_ACTIONS,  # type: ignore[arg-type]
    )
    assert planner is None


def test_only_actions_with_a_known_cedar_action_are_offered() -> None:
    config = ActionsConfig(
        conversations_table="keel-local-conversations",
        actions_enabled=True,
        cloud_actions_bots=("it",),
        hr_actions_bots=("hr",),
        hr_url="http://127.0.0.1:1",
        hr_secret_id="keel/hr",
    )
    clients = Clients()

    registry = build_registry(config, clients, known_actions=RESOURCE_ACTIONS)

    assert [s.name for s in registry.for_bot("it")] == ["describe_instance", "stop_instance", "delete_instance"]
    assert [s.name for s in registry.for_bot("hr")] == ["leave_balance"]
    narrowed = build_registry(config, clients, known_actions=set(RESOURCE_ACTIONS) - {"readLeaveBalance"})
    assert narrowed.for_bot("hr") == []
    assert "secretsmanager" in clients.made


def test_bad_settings_name_the_variable() -> None:
    class Settings:
        def model_dump(self) -> dict[str, Any]:
            return {"conversations_table": "keel-local-conversations", "action_confirm_seconds": 5}

    with pytest.raises(ConfigurationError, match="KEEL_ACTION_CONFIRM_SECONDS"):
        ActionsConfig.from_settings(Settings())  # type: ignore[arg-type]
