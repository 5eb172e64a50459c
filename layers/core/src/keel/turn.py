"""The chat turn: one pipeline for every message from every channel (see ARCHITECTURE.md).

Plain Python that takes its collaborators as arguments; it never imports an AWS SDK or a search client.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from keel.conversations.models import ChatReply, ChatRequest, Citation, Outcome
from keel.conversations.ports import Conversation, ConversationStore, StoredMessage
from keel.errors import Forbidden, InvalidRequest, NotFound
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage, Retriever, SearchScope
from keel.models.ports import ChatMessage, Completion

NO_ANSWER = "I could not find this in the sources available to me."
AUTO_BOT = "auto"
HISTORY_TURNS = 6
PASSAGES_PER_TURN = 5
SNIPPET_CHARS = 240
_CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.:-]*)\]")
_WORD = re.compile(r"[a-z0-9]{3,}")


class Authenticator(Protocol):
    """Turns a bearer token into a principal (verification and revocation)."""

    def authenticate(self, token: str) -> Principal:
        """The principal, or raise Unauthenticated."""
        ...


class AccessControl(Protocol):
    """The policy decision point as the turn needs it (R6, R7)."""

    def authorize_bot(self, principal: Principal, bot: str) -> None:
        """Raise Forbidden (or NotFound for an unknown bot) unless the principal may use the bot."""
        ...

    def scope_for(self, principal: Principal, bot: str) -> SearchScope:
        """The retrieval scope of this principal through this bot."""
        ...

    def bots_for(self, principal: Principal) -> list[str]:
        """The bots this principal may use, in order of preference."""
        ...


class AnswerGenerator(Protocol):
    """The model router: generates a grounded draft and survives provider failures (R2, R3)."""

    def generate(
        self, bot: str, system: str, messages: list[ChatMessage], passages: list[Passage]
    ) -> Completion:
        """A completion; degradations are recorded on it rather than raised."""
        ...


class PromptBuilder(Protocol):
    """Builds the hardened system prompt and the delimited user message for a bot."""

    def system_prompt(self, bot: str) -> tuple[str, str]:
        """The system prompt and its version."""
        ...

    def user_message(self, question: str, passages: list[Passage]) -> str:
        """The user turn with passages delimited and marked as data."""
        ...


@dataclass
class TurnDependencies:
    """Everything the turn talks to; bootstrap.py wires the concrete adapters."""

    authenticator: Authenticator
    access: AccessControl
    retriever: Retriever
    generator: AnswerGenerator
    prompts: PromptBuilder
    conversations: ConversationStore
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class TurnResult:
    """The reply plus the facts the record stage keeps about it."""

    reply: ChatReply
    principal: Principal
    passages: list[Passage]
    completion: Completion | None
    prompt_version: str
    latency_ms: float


class ChatService:
    """Runs the turn: identify, route, retrieve, generate, check, decide, record, respond."""

    def __init__(self, deps: TurnDependencies) -> None:
        self._deps = deps

    def identify(self, token: str) -> Principal:
        """The principal behind a bearer token (verified, not revoked), or Unauthenticated."""
        return self._deps.authenticator.authenticate(token)

    def reply(self, token: str, request: ChatRequest, *, channel: str) -> TurnResult:
        """Identify the caller from a bearer token, then run the turn."""
        return self.reply_as(self.identify(token), request, channel=channel)

    def reply_as(self, principal: Principal, request: ChatRequest, *, channel: str) -> TurnResult:
        """Run the turn for an already identified principal (channels with their own identity mapping)."""
        started = time.perf_counter()
        deps = self._deps
        request = self._route(principal, request)
        deps.access.authorize_bot(principal, request.bot)
        conversation = self._conversation(principal, request, channel)
        history = deps.conversations.messages(conversation.conversation_id, limit=HISTORY_TURNS * 2)

        scope = deps.access.scope_for(principal, request.bot)
        passages = deps.retriever.search(scope, request.message, k=PASSAGES_PER_TURN)

        system, prompt_version = deps.prompts.system_prompt(request.bot)
        messages = [ChatMessage(role=m.role, text=m.text) for m in history if m.role in ("user", "assistant")]
        messages.append(ChatMessage(role="user", text=deps.prompts.user_message(request.message, passages)))
        completion = deps.generator.generate(request.bot, system, messages, passages)

        answer, citations, confidence = _ground(completion.text, passages)
        outcome = _outcome(completion, citations)
        reply = ChatReply(
            conversation_id=conversation.conversation_id,
            message_id=deps.new_id(),
            answer=answer,
            citations=citations,
            confidence=confidence,
            outcome=outcome,
            degradations=list(completion.degradations),
        )
        latency_ms = (time.perf_counter() - started) * 1000
        self._record(conversation, history, request, reply, completion, prompt_version, latency_ms)
        return TurnResult(reply, principal, passages, completion, prompt_version, latency_ms)

    def _route(self, principal: Principal, request: ChatRequest) -> ChatRequest:
        """Resolve bot "auto": the conversation's bot, else the permitted bot whose sources best match."""
        if request.bot != AUTO_BOT:
            return request
        if request.conversation_id is not None:
            found = self._deps.conversations.get(request.conversation_id)
            if found is not None and found.owner == principal.subject:
                return request.model_copy(update={"bot": found.bot})
        candidates = self._deps.access.bots_for(principal)
        if not candidates:
            raise Forbidden("no bot is available to you; ask your administrator for access")
        best, best_score = candidates[0], float("-inf")
        for bot in candidates:
            hits = self._deps.retriever.search(
                self._deps.access.scope_for(principal, bot), request.message, k=1
            )
            if hits and hits[0].score > best_score:
                best, best_score = bot, hits[0].score
        return request.model_copy(update={"bot": best})

    def _conversation(self, principal: Principal, request: ChatRequest, channel: str) -> Conversation:
        store = self._deps.conversations
        if request.conversation_id is None:
            conversation = Conversation(
                conversation_id=self._deps.new_id(),
                owner=principal.subject,
                bot=request.bot,
                channel=channel,
                created_at=self._deps.clock().isoformat(),
            )
            store.create(conversation)
            return conversation
        found = store.get(request.conversation_id)
        # Someone else's conversation is reported as missing, so ids cannot be probed.
        if found is None or found.owner != principal.subject:
            raise NotFound(f"conversation {request.conversation_id} does not exist")
        if found.bot != request.bot:
            raise InvalidRequest(f"conversation {found.conversation_id} belongs to bot {found.bot!r}")
        if found.status == "closed":
            raise Forbidden(f"conversation {found.conversation_id} is closed; start a new one")
        return found

    def _record(
        self,
        conversation: Conversation,
        history: list[StoredMessage],
        request: ChatRequest,
        reply: ChatReply,
        completion: Completion,
        prompt_version: str,
        latency_ms: float,
    ) -> None:
        store = self._deps.conversations
        now = self._deps.clock().isoformat()
        seq = history[-1].seq + 1 if history else 0
        store.append(
            StoredMessage(
                conversation.conversation_id, self._deps.new_id(), seq, "user", request.message, now
            )
        )
        store.append(
            StoredMessage(
                conversation.conversation_id,
                reply.message_id,
                seq + 1,
                "assistant",
                reply.answer,
                now,
                meta={
                    "citations": [c.model_dump() for c in reply.citations],
                    "confidence": reply.confidence,
                    "outcome": reply.outcome,
                    "model_id": completion.model_id,
                    "prompt_version": prompt_version,
                    "input_tokens": completion.input_tokens,
                    "output_tokens": completion.output_tokens,
                    "cost_usd": completion.cost_usd,
                    "latency_ms": round(latency_ms, 1),
                    "degradations": list(completion.degradations),
                },
            )
        )


def _ground(text: str, passages: list[Passage]) -> tuple[str, list[Citation], float]:
    """Keep citations that point at retrieved passages and score how well the answer is supported."""
    by_doc = {p.doc_id: p for p in passages}
    cited: list[Citation] = []
    for doc_id in dict.fromkeys(_CITATION.findall(text)):
        passage = by_doc.get(doc_id)
        if passage is not None:
            cited.append(
                Citation(
                    doc_id=doc_id,
                    title=passage.title,
                    snippet=_snippet(passage.text),
                    version=passage.version,
                )
            )
    if not cited:
        return (text.strip() or NO_ANSWER), [], 0.0
    support = _support(text, [by_doc[c.doc_id].text for c in cited])
    return text.strip(), cited, round(support, 3)


def _support(answer: str, sources: list[str]) -> float:
    """Share of the answer's content words that occur in its cited sources."""
    words = [w for w in _WORD.findall(_CITATION.sub(" ", answer).lower())]
    if not words:
        return 0.0
    vocabulary = set(_WORD.findall(" ".join(sources).lower()))
    return sum(1 for w in words if w in vocabulary) / len(words)


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _outcome(completion: Completion, citations: list[Citation]) -> Outcome:
    if "maintenance" in completion.degradations:
        return "maintenance"
    if not citations:
        return "no_answer"
    return "degraded" if completion.degradations else "answered"
