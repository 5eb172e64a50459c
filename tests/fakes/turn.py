"""Small real implementations of the turn's ports, for unit tests of pure logic."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from keel.access.filters import admits, permission_filter
from keel.access.pdp import PolicyDecisionPoint
from keel.access.service import PolicyAccessControl
from keel.errors import Unauthenticated
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage, SearchScope
from keel.models.ports import ChatMessage, Completion
from keel.tenant.loader import load_tenant

_WORD = re.compile(r"[a-z0-9]{3,}")


class TokenTable:
    """An authenticator that knows a fixed set of tokens."""

    def __init__(self, principals: dict[str, Principal]) -> None:
        self._principals = principals

    def authenticate(self, token: str) -> Principal:
        """The principal for a known token."""
        if token not in self._principals:
            raise Unauthenticated("token is not valid")
        return self._principals[token]

    def session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The principal and claims that name the token (so revoking the token ends the session)."""
        principal = self.authenticate(token)
        return principal, {"sub": principal.subject, "fake:token": token}

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """Identify again from kept claims."""
        return self.authenticate(str(claims.get("fake:token", "")))


def demo_access() -> PolicyAccessControl:
    """The real Cedar policy decision point over the demo bots (pure, no network)."""
    return PolicyAccessControl(PolicyDecisionPoint.for_tenant(load_tenant()))


@dataclass
class InMemoryRetriever:
    """Scores passages by shared words, after the same permission filter the OpenSearch query carries."""

    corpus: dict[str, list[Passage]]
    searches: list[SearchScope] = field(default_factory=list)

    def search(self, scope: SearchScope, query: str, *, k: int = 5) -> list[Passage]:
        """Passages inside scope that share words with query, best first."""
        self.searches.append(scope)
        words = set(_WORD.findall(query.lower()))
        hits = []
        for index in scope.indices:
            for passage in self.corpus.get(index, []):
                document = {
                    "acl_groups": list(passage.acl_groups),
                    "classification": passage.classification,
                    "department": passage.department,
                    "_index": index,
                }
                if not admits(permission_filter(scope), document):
                    continue
                score = len(words & set(_WORD.findall(passage.text.lower())))
                if score:
                    hits.append((score, index, passage))
        hits.sort(key=lambda h: -h[0])
        return [Passage(**{**p.__dict__, "score": float(s), "index": i}) for s, i, p in hits[:k]]


@dataclass
class EchoFirstPassage:
    """A generator that answers with the first sentence of the best passage, citing it."""

    model_id: str = "fake-model"
    calls: list[list[ChatMessage]] = field(default_factory=list)

    def generate(
        self,
        bot: str,
        system: str,
        messages: list[ChatMessage],
        passages: list[Passage],
        task: str = "answer",
        *,
        principal: Principal | None = None,
    ) -> Completion:
        """An extractive completion."""
        self.calls.append(messages)
        if not passages:
            return Completion("I could not find this in the sources available to me.", self.model_id, 10, 10, 1.0)
        first = passages[0].text.split(". ")[0].rstrip(".") + "."
        return Completion(f"{first} [{passages[0].doc_id}]", self.model_id, 20, 12, 1.0, cost_usd=0.0001)


class PlainPrompts:
    """A prompt builder that delimits passages."""

    def system_prompt(self, bot: str) -> tuple[str, str]:
        """A fixed system prompt per bot."""
        return f"You are the {bot} assistant. Answer only from the sources.", f"{bot}/v1"

    def user_message(self, question: str, passages: list[Passage]) -> str:
        """Passages in source blocks, then the question."""
        blocks = "\n".join(f'<source doc_id="{p.doc_id}">{p.text}</source>' for p in passages)
        return f"{blocks}\n<question>{question}</question>"


@dataclass
class ScriptedHandover:
    """The escalation service's role in unit tests: remembers handoffs and answers like the real one."""

    handoffs: list[dict[str, str]] = field(default_factory=list)
    message: str = "I've opened ticket 1001 for you; a person will reply by e-mail within one business day."

    def escalate(self, conversation: object, principal: Principal, decision: object, *, summary: str = "") -> object:
        """Record the handoff; answer with a ticket, as the real service does when no agent is free."""
        from keel.escalation.service import Handoff

        self.handoffs.append(
            {
                "reason": str(getattr(decision, "reason", "")),
                "intent": str(getattr(decision, "intent", "")),
                "urgency": str(getattr(decision, "urgency", "")),
                "language": str(getattr(decision, "language", "")),
                "summary": summary,
            }
        )
        return Handoff(kind="ticket", message=self.message, escalation_id="esc-0001", ticket_id="1001")
