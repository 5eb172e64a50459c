"""Scoped retrieval (R7): the only place a SearchScope is built, always from a verified Principal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keel.access.bots import BotDefinition
from keel.access.pdp import AccessDecision, PolicyDecisionPoint
from keel.errors import Forbidden
from keel.identity.principal import Principal
from keel.knowledge.ports import _SCOPE_GRANT, SearchScope

# Everyone may read documents marked for the public.
PUBLIC_GROUP = "public"


@dataclass(frozen=True)
class Indexes:
    """The two indices: internal knowledge, and the public content external bots read."""

    internal: str = "keel-internal"
    external: str = "keel-external"

    def __post_init__(self) -> None:
        if not self.internal or not self.external or self.internal == self.external:
            raise ValueError("internal and external bots need two different, non-empty index names")


def scope_for(
    principal: Principal,
    bot: BotDefinition | str,
    pdp: PolicyDecisionPoint,
    *,
    indexes: Indexes | None = None,
) -> SearchScope:
    """The principal's retrieval scope through bot; Forbidden when the principal may not use it."""
    if not isinstance(principal, Principal):
        raise TypeError("scope_for needs a verified Principal")
    definition = pdp.bots.get(bot) if isinstance(bot, str) else pdp.bots.get(bot.id)
    decision = pdp.may_use(principal, definition.id)
    if not decision.allowed:
        raise _forbidden(decision)
    indexes = indexes or Indexes()
    external = principal.external or definition.external
    if principal.external and not definition.external:
        # Unreachable while the functional forbid policy stands; kept because a policy edit must not open it.
        raise Forbidden("external users only reach external bots", details={"policies": list(decision.policy_ids)})
    grants = pdp.retrievable(principal, definition)
    if external:
        grants = {c: k & {"public"} for c, k in grants.items() if pdp.bots.collection_audience(c) == "external"}
    grants = {c: k for c, k in grants.items() if k}
    if not grants:
        raise Forbidden(
            f"no collection of bot {definition.id!r} may be read for this user",
            details={"policies": list(decision.policy_ids)},
        )
    classifications = frozenset().union(*grants.values())
    uniform = all(k == classifications for k in grants.values())
    if external:
        index = indexes.external
    elif any(pdp.bots.collection_audience(c) == "external" for c in grants):
        # An internal bot that lists an external collection reads its public documents where they are
        # (one request over both indices, OpenSearch's multi-target syntax); the filter still bounds it.
        index = f"{indexes.internal},{indexes.external}"
    else:
        index = indexes.internal
    return SearchScope(
        subject=principal.subject,
        index=index,
        groups=frozenset(principal.groups) | {PUBLIC_GROUP},
        classifications=classifications,
        departments=frozenset(grants),
        department_classifications=None if uniform else tuple(sorted(grants.items())),
        grant=_SCOPE_GRANT,
    )


def union_scope(scopes: Sequence[SearchScope]) -> SearchScope:
    """One scope admitting exactly what at least one of ``scopes`` admits (the bots of one principal).

    Used to choose the bot for "auto" with one search: every department keeps the classifications its
    own bots grant, so the union never admits a document that none of the scopes admits. Scopes of one
    index join into department filters; scopes over different indices (an employee's internal bots and the
    customer bot) join into one branch per (indices, department), each confined to its own indices by the
    ``_index`` field, so one request over every index still admits only what each bot's own search admits.
    """
    if not scopes:
        raise ValueError("union_scope needs at least one scope")
    first = scopes[0]
    if any(s.subject != first.subject or s.groups != first.groups for s in scopes):
        raise ValueError("union_scope joins the scopes of one principal only")
    if any(s.departments is None or s.index_branches is not None for s in scopes):
        raise ValueError("union_scope needs scopes confined to departments (built by scope_for)")
    per_branch: dict[tuple[tuple[str, ...], str], frozenset[str]] = {}
    for scope in scopes:
        granted = dict(scope.department_classifications or ())
        for department in scope.departments or ():
            key = (scope.indices, department)
            per_branch[key] = per_branch.get(key, frozenset()) | granted.get(department, scope.classifications)
    classifications = frozenset().union(*per_branch.values())
    indices = tuple(dict.fromkeys(index for scope in scopes for index in scope.indices))
    if len({scope.indices for scope in scopes}) > 1:
        return SearchScope(
            subject=first.subject,
            index=",".join(indices),
            groups=first.groups,
            classifications=classifications,
            departments=frozenset(department for _, department in per_branch),
            index_branches=tuple(sorted((i, d, k) for (i, d), k in per_branch.items())),
            grant=_SCOPE_GRANT,
        )
    per_department = {department: k for (_, department), k in per_branch.items()}
    uniform = all(k == classifications for k in per_department.values())
    return SearchScope(
        subject=first.subject,
        index=first.index,
        groups=first.groups,
        classifications=classifications,
        departments=frozenset(per_department),
        department_classifications=None if uniform else tuple(sorted(per_department.items())),
        grant=_SCOPE_GRANT,
    )


def _forbidden(decision: AccessDecision) -> Forbidden:
    return Forbidden(
        f"you may not use this bot ({decision.explanation})",
        details={"policies": list(decision.policy_ids)},
    )
