"""The policy decision point as the turn and every channel use it: route, then scope (R6, R7, R20)."""

from __future__ import annotations

from collections.abc import Callable

from keel.access.pdp import AccessDecision, PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for
from keel.errors import Forbidden
from keel.identity.principal import Principal
from keel.knowledge.ports import SearchScope


class PolicyAccessControl:
    """Implements the turn's AccessControl port over the Cedar policy decision point."""

    def __init__(
        self, pdp: PolicyDecisionPoint | Callable[[], PolicyDecisionPoint], indexes: Indexes | None = None
    ) -> None:
        """pdp is a decision point, or a callable returning the current one (a tenant that can change)."""
        self._source = pdp
        self._indexes = indexes or Indexes()

    @property
    def _pdp(self) -> PolicyDecisionPoint:
        return self._source if isinstance(self._source, PolicyDecisionPoint) else self._source()

    def authorize_bot(self, principal: Principal, bot: str) -> None:
        """Raise Forbidden (NotFound for an unknown bot) unless principal may use bot."""
        decision = self.route(principal, bot)
        if not decision.allowed:
            raise Forbidden(f"you may not use the bot {bot!r}", details={"policies": list(decision.policy_ids)})

    def route(self, principal: Principal, bot: str) -> AccessDecision:
        """The functional-access decision, with the deciding policies (for the audit record)."""
        return self._pdp.may_use(principal, bot)

    def bots_for(self, principal: Principal) -> list[str]:
        """The bots this principal may use, in registry order."""
        pdp = self._pdp
        return [bot.id for bot in pdp.bots if pdp.may_use(principal, bot.id).allowed]

    def scope_for(self, principal: Principal, bot: str) -> SearchScope:
        """The retrieval scope of principal through bot."""
        return scope_for(principal, bot, self._pdp, indexes=self._indexes)

    def may_act(
        self, principal: Principal, action: str, resource_id: str, *, amount_cents: int | None = None
    ) -> AccessDecision:
        """Action permission for a tool a bot runs on the user's behalf."""
        return self._pdp.may_act(principal, action, resource_id, amount_cents=amount_cents)
