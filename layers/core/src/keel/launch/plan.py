"""What the launch checks drive, read from the tenant (no organisation lives in code).

The live probes need a bot to attack, an employee who may use it, a question that bot answers for them (the control:
a suite whose user is turned away tests nothing), questions for documents bots hide from their askers, a customer to
try every internal bot and the customer-facing ones, questions for the load test, and, for every (user, bot) pair,
the documents that user may see through that bot: any other document of the tenant cited to them is a leak. Each is
derived from the tenant's bots, its users file and the documents ingest would index from its docs/ folder, with the
same access decisions a search makes (keel.access.explain). That is also the limit of this check: a policy that
wrongly opens a document opens it to the plan as well; the hand-written questions of evals/retrieval/forbidden.jsonl
are the independent check where they fit the tenant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain, zip_longest
from pathlib import Path

from keel.errors import ConfigurationError

# Enough forbidden-document questions to show scoping holds, few enough for a preflight run.
MAX_FORBIDDEN = 12
MAX_CUSTOMER_QUESTIONS = 4
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
    question: str  # a question about a document the user may see through the bot (the control turn)
    bots: tuple[str, ...]  # every bot of the tenant
    internal_bots: tuple[str, ...]  # a customer must be refused by every one
    customer: str | None  # a user of the external pool, if the users file has one
    forbidden: tuple[ForbiddenCase, ...]  # documents bots hide from the user (and from the customer)
    load_users: tuple[str, ...]  # employees whose tokens drive the load test
    load_questions: tuple[tuple[str, str], ...]  # (bot, question) pairs those employees may ask
    search_groups: tuple[str, ...]  # the user's groups, for the load test's permission-scoped searches
    search_department: str | None
    tenant: str  # the tenant id principals carry
    documents: frozenset[str] = frozenset()  # every document id ingest would index
    # (user, bot) -> what the user may see through the bot, for every pair where the tenant lets the user use it.
    visible: Mapping[tuple[str, str], frozenset[str]] = field(default_factory=dict)

    def may_use(self, user: str, bot: str) -> bool:
        """Whether the tenant lets the user use the bot (a 403 there means the probe tested nothing)."""
        return (user, bot) in self.visible

    def leaks(
        self, user: str, bot: str, cited: list[str], forbidden: tuple[str, ...] = ()
    ) -> tuple[list[str], list[str]]:
        """(leaked, unknown): cited documents of the tenant the user may not see through the bot, or named forbidden
        by a hand-written question (checked apart from the access code the plan shares with search), and cited ids
        the plan does not know (the stack serves documents the tenant folder does not hold: the check cannot say
        whether they leak, so the suites fail on them too)."""
        allowed = self.visible.get((user, bot), frozenset())
        leaked = sorted({d for d in cited if (d in self.documents and d not in allowed) or d in forbidden})
        unknown = sorted({d for d in cited if d not in self.documents})
        return leaked, unknown

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


def _interleave(groups: list[list[ForbiddenCase]], limit: int) -> list[ForbiddenCase]:
    """One case from each group in turn, so no group crowds the others out of the limit."""
    return [c for c in chain.from_iterable(zip_longest(*groups)) if c is not None][:limit]


def launch_plan(tenant_dir: Path | None = None) -> LaunchPlan:
    """Derive the plan from the tenant folder (the example tenant when None); ConfigurationError says what is
    missing when the tenant cannot drive the checks (no users file, no documents, no internal bot that both shows an
    employee a document and hides one)."""
    from keel.access.explain import DocumentAccess, explain, tenant_documents
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
    # Every document ingest would index (one version per id, no drafts or retired ones): what can be cited.
    documents = tenant_documents(tenant, docs_path)
    pdp = PolicyDecisionPoint.for_tenant(tenant)
    tenant_id = tenant.spec.id or "default"
    principals = principals_from_file(users_path, tenant_id)
    bots = tuple(sorted(b.id for b in tenant.spec.bots))
    internal = tuple(sorted(b.id for b in tenant.spec.bots if b.audience == "internal"))
    external = tuple(sorted(b.id for b in tenant.spec.bots if b.audience == "external"))

    def sees(principal: Principal, bot: str, document: DocumentAccess) -> bool:
        return bot in explain(principal, document, pdp, bot=bot).visible_through

    visible = {
        (principal.username, bot): frozenset(d for d, document in documents.items() if sees(principal, bot, document))
        for principal in principals.values()
        for bot in bots
        if pdp.may_use(principal, bot).allowed
    }

    def split(user: str, bot: str) -> tuple[list[str], list[str]]:
        """(visible, hidden) documents of the bot's collections for the user; what the user's groups open comes
        before what everyone reads (the probes ask for the employee's own knowledge)."""
        collections = set(pdp.bots.get(bot).collections)
        allowed = visible.get((user, bot), frozenset())
        own = sorted(d for d in documents if documents[d].department in collections)
        shown = sorted((d for d in own if d in allowed), key=lambda d: (documents[d].classification == "public", d))
        return shown, [d for d in own if d not in allowed]

    employees = [p.username for p in principals.values() if not p.external]
    pairs = {(u, b): split(u, b) for u in employees for b in internal if (u, b) in visible}
    # The bot and employee with the most hidden documents, among those where the employee also sees something (the
    # control question must be answerable); ties go to the first in name order.
    candidates = [(len(h), -i, key) for i, (key, (v, h)) in enumerate(pairs.items()) if v and h]
    if not candidates:
        raise ConfigurationError(
            f"tenant {tenant.name!r} cannot drive the launch checks: no internal bot both shows an employee of "
            "users.json a document and hides another from them (needed to test permission-scoped retrieval)"
        )
    user, bot = max(candidates)[2]
    shown, hidden = pairs[(user, bot)]
    by_bot = [
        [ForbiddenCase(f"forbid-{b}-{d}", b, user, _question(documents[d].title), (d,)) for d in h]
        for (u, b), (_, h) in pairs.items()
        if u == user
    ]
    # The plan's own bot first, then the others in turn.
    by_bot.sort(key=lambda cases: not cases or cases[0].bot != bot)
    forbidden = _interleave(by_bot, MAX_FORBIDDEN)
    customer = next((p.username for p in principals.values() if p.external), None)
    if customer is not None:
        # The customer asks each customer-facing bot they may use for internal documents they may not see there.
        customer_cases = [
            [
                ForbiddenCase(f"forbid-{b}-{d}-customer", b, customer, _question(documents[d].title), (d,))
                for d in sorted(documents)
                if d not in visible[(customer, b)]
            ]
            for b in external
            if (customer, b) in visible
        ]
        forbidden += _interleave(customer_cases, MAX_CUSTOMER_QUESTIONS)
    load_questions = tuple(
        (b, _question(documents[d].title)) for (u, b), (v, _) in pairs.items() if u == user for d in v[:2]
    )[:MAX_LOAD_QUESTIONS]
    # Employees who may ask every one of those bots (the plan's user always can), so no load turn is refused.
    asked = {b for b, _ in load_questions}
    able = [u for u in employees if all((u, b) in visible for b in asked)]
    load_users = tuple(dict.fromkeys((user, *able)))[:MAX_LOAD_USERS]
    return LaunchPlan(
        bot=bot,
        user=user,
        hidden=tuple(hidden),
        question=_question(documents[shown[0]].title),
        bots=bots,
        internal_bots=internal,
        customer=customer,
        forbidden=tuple(forbidden),
        load_users=load_users,
        load_questions=load_questions,
        search_groups=tuple(sorted(principals[user].groups)),
        search_department=principals[user].department,
        tenant=tenant_id,
        documents=frozenset(documents),
        visible=visible,
    )
