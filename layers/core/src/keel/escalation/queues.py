"""Which escalations an agent may see and handle: the queues of the bots their groups are assigned to (R6, R18).

The assignment lives in the tenant (tenant.yaml ``escalation.agent_queues``, which gives each bot its
``agent_groups``); a person in no bot's agent groups
is not an agent at all. An escalation of a bot nobody is assigned to reaches no agent (fail closed): it is
still ticketed in the helpdesk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from keel.access.bots import BotDefinition
from keel.errors import Forbidden
from keel.identity.principal import Principal


class AgentQueues:
    """Bot id to the groups whose members handle its escalations."""

    def __init__(self, assignments: Mapping[str, Iterable[str]]) -> None:
        self._groups = {bot: frozenset(groups) for bot, groups in assignments.items()}

    @classmethod
    def from_bots(cls, bots: Iterable[BotDefinition]) -> AgentQueues:
        """The assignment the tenant's bot definitions declare."""
        return cls({bot.id: bot.agent_groups for bot in bots})

    def bots_for(self, principal: Principal) -> frozenset[str]:
        """The bots whose escalations this principal handles (empty for everyone but agents)."""
        if principal.external:
            return frozenset()
        return frozenset(bot for bot, groups in self._groups.items() if groups & principal.groups)

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
