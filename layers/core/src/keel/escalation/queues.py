"""Which escalations an agent may see and handle: the queues of the bots their groups are assigned to (R6, R18).

The assignment lives in the tenant (tenant.yaml ``escalation.agent_queues``, which gives each bot its
``agent_groups``); a person in no bot's agent groups
is not an agent at all. An escalation of a bot nobody is assigned to reaches no agent (fail closed): it is
still ticketed in the helpdesk. `AgentQueues.following` reads the assignment of the current tenant at each
check, so an AppConfig deployment that adds or removes a group reaches the console without a cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from keel.errors import Forbidden
from keel.identity.principal import Principal


class AgentQueues:
    """Bot id to the groups whose members handle its escalations."""

    def __init__(self, assignments: Mapping[str, Iterable[str]] | Callable[[], Mapping[str, frozenset[str]]]) -> None:
        if callable(assignments):
            self._current = assignments
        else:
            fixed = {bot: frozenset(groups) for bot, groups in assignments.items()}
            self._current = lambda: fixed

    @classmethod
    def following(cls, tenants: Callable[[], Any]) -> AgentQueues:
        """The assignment of the tenant `tenants()` returns now, derived again only when it returns another one;
        a tenant source that fails keeps the last assignment (keel.tenant.derived.Derived)."""
        from keel.access.bots import BotRegistry
        from keel.tenant.derived import Derived

        def assignment(tenant: Any) -> dict[str, frozenset[str]]:
            return {bot.id: frozenset(bot.agent_groups) for bot in BotRegistry.from_tenant(tenant)}

        derived = Derived(tenants, assignment, "agent queues")
        derived.current()  # a tenant that does not answer stops the cold start, not the first agent
        return cls(derived.current)

    def bots_for(self, principal: Principal) -> frozenset[str]:
        """The bots whose escalations this principal handles (empty for everyone but agents)."""
        if principal.external:
            return frozenset()
        return frozenset(bot for bot, groups in self._current().items() if groups & principal.groups)

    def require_agent(self, principal: Principal) -> frozenset[str]:
        """The principal's bots, or Forbidden when they handle no queue."""
        bots = self.bots_for(principal)
        if not bots:
            raise Forbidden("the agent console is for members of a support queue; ask an administrator to assign you")
        return bots

    def require(self, principal: Principal, bot: str) -> None:
        """Forbidden unless this principal handles this bot's queue (the message names no other queue)."""
        if bot not in self.require_agent(principal):
            raise Forbidden("this conversation is not in a queue you are assigned to")
