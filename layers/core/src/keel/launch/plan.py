"""What the launch checks drive, read from the tenant (no organisation lives in code).

The live probes need a bot to attack, an employee who may use it and documents that bot holds but hides from that
employee (a cited one is a leak), a customer to try every internal bot, questions employees may ask for the load test,
and one question that retrieves a document for the fallback check. Each is derived from the tenant's bots, its users
file and its documents with the same access decisions a search makes (keel.access.explain), so `keel preflight
--tenant FOLDER` runs against any organisation's stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from keel.errors import ConfigurationError

# Enough forbidden-document questions to show scoping holds, few enough for a preflight run.
MAX_FORBIDDEN = 12
MAX_LOAD_USERS = 4
MAX_LOAD_QUESTIONS = 8


@dataclass(frozen=True)
class ForbiddenCase:
    """A question for one document the asking user may not see through the bot."""

    id: str
    bot: str
    user: str
    question: str
    forbidden_doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class LaunchPlan:
    """The tenant's names the launch checks use."""

    bot: str  # the internal bot the injection, oversize and fallback probes talk to
    user: str  # an employee who may use it and from whom it hides documents
    hidden: tuple[str, ...]  # documents in the bot's collections the user may not see
    question: str  # a question about a document the user may see through the bot
    internal_bots: tuple[str, ...]  # a customer must be refused by every one
    customer: str | None  # a user of the external pool, if the users file has one
    forbidden: tuple[ForbiddenCase, ...]  # the user asks each bot they may use for a document it hides from them
    load_users: tuple[str, ...]  # employees whose tokens drive the load test
    load_questions: tuple[tuple[str, str], ...]  # (bot, question) pairs those employees may ask
    search_groups: tuple[str, ...]  # the user's groups, for the load test's permission-scoped searches
    search_department: str | None
    tenant: str  # the tenant id principals carry

    def to_env(self) -> str:
        """What the load test's locust process reads (KEEL_LOAD_PLAN)."""
        return json.dumps(
            {
                "questions": [list(q) for q in self.load_questions],
                "bot": self.bot,
                "groups": list(self.search_groups),
                "department": self.search_department,
                "tenant": self.tenant,
            }
        )


def _question(title: str) -> str:
    return f"What does our {title} say?"


def launch_plan(tenant_dir: Path | None = None) -> LaunchPlan:
    """Derive the plan from the tenant folder (the example tenant when None); ConfigurationError says what is
    missing when the tenant cannot drive the checks (no users file, no documents, no internal bot an employee may
    use)."""
    from keel.access.explain import explain, tenant_documents
    from keel.access.pdp import PolicyDecisionPoint
    from keel.identity.principal import Principal, principals_from_file
    from keel.tenant.loader import load_tenant

    tenant = load_tenant(tenant_dir)
    users_path, docs_path = tenant.users_file(), tenant.docs_dir()
    if users_path is None or docs_path is None:
        raise ConfigurationError(
            f"tenant {tenant.name!r} cannot drive the launch checks: it needs users.json (the local stack's users) and "
            "docs/ (its example documents) in its folder"
        )
    # Published documents only: a draft or retired one is never cited, so it can neither answer nor leak.
    documents = tenant_documents(tenant, docs_path, published_only=True)
    pdp = PolicyDecisionPoint.for_tenant(tenant)
    tenant_id = tenant.spec.id or "default"
    principals = principals_from_file(users_path, tenant_id)
    employees = [p for p in principals.values() if not p.external]
    internal = tuple(sorted(b.id for b in tenant.spec.bots if b.audience == "internal"))

    def split(principal: Principal, bot: str) -> tuple[list[str], list[str]]:
        """(visible, hidden) documents of the bot's collections for the principal."""
        collections = set(pdp.bots.get(bot).collections)
        visible: list[str] = []
        hidden: list[str] = []
        for doc_id in sorted(documents):
            if documents[doc_id].department not in collections:
                continue
            seen = explain(principal, documents[doc_id], pdp, bot=bot).visible_through
            (visible if seen else hidden).append(doc_id)
        # Questions go first to what the user's groups open (not what everyone reads): the probes ask for the
        # employee's own knowledge, the way the fallback check's control turn must be answered from it.
        visible.sort(key=lambda doc_id: (documents[doc_id].classification == "public", doc_id))
        return visible, hidden

    usable = {(p.username, b): split(p, b) for p in employees for b in internal if pdp.may_use(p, b).allowed}
    # The bot and employee with the most hidden documents the employee could be tempted to ask for, among those where
    # the employee also sees something (a question must be answerable).
    candidates = [(len(h), -i, key) for i, (key, (v, h)) in enumerate(usable.items()) if v and h]
    if not candidates:
        raise ConfigurationError(
            f"tenant {tenant.name!r} cannot drive the launch checks: no internal bot both shows an employee of "
            "users.json a document and hides another from them (needed to test permission-scoped retrieval)"
        )
    user, bot = max(candidates)[2]
    visible, hidden = usable[(user, bot)]
    forbidden = [
        ForbiddenCase(f"forbid-{b}-{doc}", b, user, _question(documents[doc].title), (doc,))
        for (u, b), (_, h) in usable.items()
        if u == user
        for doc in h
    ][:MAX_FORBIDDEN]
    customer = next((p.username for p in principals.values() if p.external), None)
    load_questions = tuple(
        (b, _question(documents[doc].title)) for (u, b), (v, _) in usable.items() if u == user for doc in v[:2]
    )[:MAX_LOAD_QUESTIONS]
    # Employees who may ask every one of those bots (the plan's user always can), so no load turn is refused.
    asked = {b for b, _ in load_questions}
    load_users = tuple(u.username for u in employees if asked <= {b for (n, b) in usable if n == u.username})
    load_users = tuple(dict.fromkeys((user, *load_users)))[:MAX_LOAD_USERS]
    return LaunchPlan(
        bot=bot,
        user=user,
        hidden=tuple(hidden),
        question=_question(documents[visible[0]].title),
        internal_bots=internal,
        customer=customer,
        forbidden=tuple(forbidden),
        load_users=load_users,
        load_questions=load_questions,
        search_groups=tuple(sorted(principals[user].groups)),
        search_department=principals[user].department,
        tenant=tenant_id,
    )
