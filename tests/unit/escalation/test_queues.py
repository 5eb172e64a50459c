"""Agent queues follow the tenant: a deployment that assigns a group to a bot's queue reaches the agent console
without a cold start, one that removes it closes the console to them; a failing tenant source keeps the last."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keel.errors import Forbidden
from keel.escalation.queues import AgentQueues
from keel.identity.principal import Principal
from keel.tenant.appconfig import AppConfigTenant
from tests.unit.tenant.test_appconfig import DOCUMENT, Deployments

AGENT = Principal("sub-sam", "sam", frozenset({"staff", "hr-support"}), "northwind")


def _queues(*groups: str) -> dict[str, Any]:
    document = copy.deepcopy(DOCUMENT)
    document["tenant"]["escalation"] = {"agent_queues": [{"group": g, "bots": ["hr"]} for g in groups]}
    return document


def test_a_new_queue_assignment_reaches_the_console_and_a_removed_one_closes_it() -> None:
    served = Deployments(_queues())
    queues = AgentQueues.following(AppConfigTenant(served, source="t").current)
    with pytest.raises(Forbidden):
        queues.require_agent(AGENT)

    served.document = _queues("hr-support")
    assert queues.require_agent(AGENT) == {"hr"}
    queues.require(AGENT, "hr")

    served.document = _queues("someone-else")
    with pytest.raises(Forbidden):
        queues.require(AGENT, "hr")


def test_a_failing_tenant_source_keeps_the_last_assignment() -> None:
    source = AppConfigTenant(Deployments(_queues("hr-support")), source="t")
    failing = False

    def current() -> Any:
        if failing:
            raise ConnectionError("AppConfig unreachable")
        return source.current()

    queues = AgentQueues.following(current)
    failing = True
    assert queues.bots_for(AGENT) == {"hr"}


def test_a_fixed_assignment_still_works_and_external_users_are_never_agents() -> None:
    queues = AgentQueues({"hr": ["hr-support"]})
    assert queues.bots_for(AGENT) == {"hr"}
    customer = Principal("sub-c", "c", frozenset({"hr-support"}), "northwind", external=True)
    assert queues.bots_for(customer) == frozenset()
