"""The chat turn: one pipeline for every message from every channel (see ARCHITECTURE.md).

identify -> route -> screen in -> protect -> retrieve -> screen ctx -> generate -> check out -> decide
-> record -> respond. Plain Python that takes its collaborators as arguments; it never imports an AWS
SDK, a search client or a model SDK, so it runs unchanged in Lambda, in the local stack and in tests.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, cast

from keel.access.filters import passage_in_scope
from keel.access.scope import union_scope
from keel.analytics.logs import current_correlation
from keel.conversations.models import ChatReply, ChatRequest, Citation, EscalationStatus, Outcome
from keel.conversations.ports import Conversation, ConversationStore, StoredMessage, next_user_turn
from keel.conversations.vaults import VaultStore
from keel.errors import Conflict, Forbidden, InvalidRequest, KeelError, NotFound, RateLimited, SearchUnavailable
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage, Retriever, SearchScope
from keel.models.deadline import model_deadline
from keel.models.ports import ChatMessage, Completion
from keel.privacy.vault import Vault

NO_ANSWER = "I could not find this in the sources available to me."
WITHHELD_ANSWER = (
    "I can't give a reliable answer to that from the sources I can see. Try rephrasing, or ask for a person."
)
AUTO_BOT = "auto"
WITH_AGENT = "with_agent"
SEARCH_DOWN_ANSWER = (
    "I can't search our documents right now, so I can't give you an answer I can back with a source. "
    "Please try again in a few minutes. If it can't wait, say \"talk to a person\" and I'll hand you over."
)
RELAYED = "Your message was passed to the support agent who has your conversation; they will reply here."
HISTORY_TURNS = 6
# Messages read per turn. The record (what the escalation decision and the actions read) is the last HISTORY_TURNS * 2
# of them; the history (what the screen and the model read) is the last HISTORY_TURNS * 2 not refused, so up to
# HISTORY_TURNS refused turns (each a message and its refusal) no longer push the conversation's context out.
READ_MESSAGES = HISTORY_TURNS * 4
STORE_ATTEMPTS = 5
PASSAGES_PER_TURN = 5
FLAG_NOTE = "flagged: tools need explicit confirmation, retrieved context screened at lower thresholds"
# "auto" searches the union of the permitted bots once; this many passages are enough to choose and answer.
AUTO_PASSAGES = 20
SNIPPET_CHARS = 240
LOW_CONFIDENCE_CAP = 0.4
# Reasons decided before any answer is generated: the user gets a person (and, for a vulnerable customer,
# the support message) in this turn, never a generated answer or "I could not find this".
PRE_ANSWER_REASONS = ("explicit_request", "vulnerable_customer", "high_risk_intent")
_CITATION = re.compile(r"\[([A-Za-z0-9][A-Za-z0-9_.:-]*)\]")

# What a turn's record may say; "denied" (a bot or conversation refused before the turn) never reaches a reply.
TurnOutcome = Outcome | Literal["denied"]


class Authenticator(Protocol):
    """Turns a bearer token into a principal (verification and revocation)."""

    def authenticate(self, token: str) -> Principal:
        """The principal, or raise Unauthenticated."""
        ...

    def session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The principal and the verified claims a channel keeps instead of the token."""
        ...

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of kept claims, checked again (expiry, revocation), or raise Unauthenticated."""
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
        self,
        bot: str,
        system: str,
        messages: list[ChatMessage],
        passages: list[Passage],
        task: str = "answer",
        *,
        principal: Principal | None = None,
    ) -> Completion:
        """A completion; degradations are recorded on it rather than raised."""
        ...


class PromptBuilder(Protocol):
    """The bot's versioned, hardened system prompt (R23)."""

    def system_prompt(self, bot: str) -> tuple[str, str]:
        """The system prompt and its version label."""
        ...


class InputScreen(Protocol):
    """Screens what the user sent before the model sees it (R10)."""

    def screen(self, text: str, history: list[str] | None = None, *, bot: str | None = None) -> Any:
        """A verdict with decision (block, flag, allow), score, categories and message, under the bot's policy."""
        ...


class ContextScreen(Protocol):
    """Screens retrieved passages for hidden instructions (R10)."""

    def screen(self, passages: Sequence[Passage], *, strict: bool = False) -> list[Any]:
        """One verdict per passage (decision, categories)."""
        ...


class OutputCheck(Protocol):
    """Checks a draft before it leaves: leaks, toxicity, grounding, loops (R11)."""

    def check(
        self,
        answer: str,
        passages: Sequence[Passage],
        system_prompt: str,
        user_text: str,
        history_replies: Sequence[str],
        *,
        canary: str | None = None,
        vault: Vault | None = None,
    ) -> Any:
        """A verdict with action (deliver, low_confidence, withhold, escalate), problems and grounding."""
        ...


class Masker(Protocol):
    """Replaces PII with typed placeholders before any model call (R9)."""

    def mask(self, text: str, vault: Vault, origin: str = "user") -> Any:
        """Masked text (``.text``) and the replaced entities (``.entities``)."""
        ...


class Escalation(Protocol):
    """Decides whether to hand over, and hands over (R17, R18)."""

    def decide(self, transcript: list[dict[str, Any]], bot: str) -> Any:
        """A decision with escalate, reason, detail and intent."""
        ...

    def hand_over(self, handoff: Handoff) -> tuple[str, dict[str, Any]]:
        """Start the handoff workflow; what to tell the user, and what to keep on the reply's record."""
        ...

    def hold_outage_handoff(self, conversation_id: str, user_text: str) -> tuple[str, str] | None:
        """For a system-failure handoff: None to go ahead, else (what to tell the user, why it is held)."""
        ...


class AuditSink(Protocol):
    """Writes one audit record per turn before the reply is returned (R13, R14)."""

    def record_turn(self, facts: TurnFacts) -> None:
        """Durably queue the turn's record, or raise AuditUnavailable (fail closed)."""
        ...


class ActionPort(Protocol):
    """Tools the bot runs for the user: authorised, confirmed where it matters, audited (R6, R19)."""

    def handle(
        self,
        principal: Principal,
        conversation_id: str,
        bot: str,
        masked_user_text: str,
        history: Sequence[StoredMessage],
        *,
        channel: str = "api",
        correlation_id: str = "",
        step_up: bool = False,
    ) -> Any:
        """An outcome (text, turn_outcome) when the message asks for or confirms an action; None otherwise.
        step_up: the message was flagged, so no tool runs without the user's explicit confirmation."""
        ...


class Telemetry(Protocol):
    """Stage timings, traces and metrics (R15)."""

    def stage(self, name: str) -> AbstractContextManager[None]:
        """Time one stage of the turn."""
        ...

    def observe(self, facts: TurnFacts) -> None:
        """Emit the turn's metrics."""
        ...


@dataclass(frozen=True)
class Handoff:
    """What the escalation workflow needs: who, which conversation, why, and the masked transcript."""

    principal: Principal
    conversation_id: str
    bot: str
    channel: str
    reason: str
    intent: str
    detail: str
    transcript: list[dict[str, Any]]
    urgency: str = "normal"
    language: str = "und"


@dataclass
class TurnDependencies:
    """Everything the turn talks to; bootstrap.py wires the concrete adapters."""

    authenticator: Authenticator
    access: AccessControl
    retriever: Retriever
    generator: AnswerGenerator
    prompts: PromptBuilder
    conversations: ConversationStore
    vaults: VaultStore
    input_screen: InputScreen
    context_screen: ContextScreen
    output_check: OutputCheck
    masker: Masker
    escalation: Escalation
    audit: AuditSink
    telemetry: Telemetry | None = None
    actions: ActionPort | None = None
    wrap_passages: Callable[[Sequence[Passage], Sequence[Any]], str] | None = None
    new_canary: Callable[[], str] | None = None
    # No model call starts later than this many seconds after the turn's first one (None: each call's timeout).
    model_deadline_seconds: float | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))


@dataclass
class TurnFacts:
    """Everything the record stage keeps about one turn (masked text only)."""

    principal: Principal
    channel: str
    bot: str
    conversation_id: str
    message_id: str
    correlation_id: str
    occurred_at: datetime
    input_masked: str
    output_masked: str = ""
    outcome: TurnOutcome = "answered"
    passages: list[Passage] = field(default_factory=list)
    cited: list[str] = field(default_factory=list)
    completion: Completion | None = None
    prompt_version: str | None = None
    guardrails: list[dict[str, Any]] = field(default_factory=list)
    escalation: dict[str, Any] = field(default_factory=lambda: {"decision": "none"})
    pii_types: list[str] = field(default_factory=list)
    confidence: float = 0.0
    grounded: bool = True
    loop_stopped: bool = False
    handoff_meta: dict[str, Any] = field(default_factory=dict)
    # The escalation second stage's calls this turn (outcome, cost_usd, latency_ms), when it was asked.
    escalation_cost: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0
    stage_ms: dict[str, float] = field(default_factory=dict)
    # What the turn did without (search down) or why it ended early ("error:<code>"), beside the model's.
    degradations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TurnResult:
    """The reply plus the facts recorded about it."""

    reply: ChatReply
    facts: TurnFacts

    @property
    def principal(self) -> Principal:
        """Who asked."""
        return self.facts.principal

    @property
    def passages(self) -> list[Passage]:
        """What was retrieved (after context screening)."""
        return self.facts.passages

    @property
    def completion(self) -> Completion | None:
        """What the model router returned, if it was called."""
        return self.facts.completion

    @property
    def latency_ms(self) -> float:
        """Wall time of the turn."""
        return self.facts.latency_ms


class ChatService:
    """Runs the turn for every channel."""

    def __init__(self, deps: TurnDependencies) -> None:
        self._deps = deps

    def identify(self, token: str) -> Principal:
        """The principal behind a bearer token (verified, not revoked), or Unauthenticated."""
        with self._stage("identify", None):
            return self._deps.authenticator.authenticate(token)

    def identify_session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """As identify, plus the verified claims a channel keeps instead of the bearer token."""
        with self._stage("identify", None):
            return self._deps.authenticator.session(token)

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of a kept session (claims checked again and the revocation check), or Unauthenticated."""
        with self._stage("identify", None):
            return self._deps.authenticator.resume(claims)

    def reply(self, token: str, request: ChatRequest, *, channel: str, correlation_id: str = "") -> TurnResult:
        """Identify the caller from a bearer token, then run the turn."""
        return self.reply_as(self.identify(token), request, channel=channel, correlation_id=correlation_id)

    def reply_as(
        self, principal: Principal, request: ChatRequest, *, channel: str, correlation_id: str = ""
    ) -> TurnResult:
        """Run the turn for an identified principal (channels with their own identity mapping come here)."""
        with model_deadline(self._deps.model_deadline_seconds):
            return self._reply_as(principal, request, channel=channel, correlation_id=correlation_id)

    def _reply_as(self, principal: Principal, request: ChatRequest, *, channel: str, correlation_id: str) -> TurnResult:
        started = time.perf_counter()
        deps = self._deps
        stages: dict[str, float] = {}
        try:
            with self._stage("route", stages):
                request, routed = self._route(principal, request)
                deps.access.authorize_bot(principal, request.bot)
                conversation = self._conversation(principal, request, channel)
                window = deps.conversations.messages(conversation.conversation_id, limit=READ_MESSAGES)
                record, history = window[-HISTORY_TURNS * 2 :], _not_refused(window)[-HISTORY_TURNS * 2 :]
        except (Forbidden, NotFound, InvalidRequest) as exc:
            # Refused before the turn: who asked for which bot or conversation is audited, not what they wrote (it
            # was never screened or masked). The bot and conversation are named as requested (both format-checked).
            # No turn metrics: the bot named here is the caller's own string, not a bot that ran.
            conversation_id = request.conversation_id or deps.new_id()
            refused = self._facts(principal, channel, request.bot, conversation_id, correlation_id, stages)
            self._audit_error(refused, "denied", exc, started)
            raise
        facts = self._facts(principal, channel, request.bot, conversation.conversation_id, correlation_id, stages)
        citations: list[Citation] = []
        try:
            if conversation.status == WITH_AGENT:
                answer = self._relay_to_agent(request, facts)
            else:
                answer, citations = self._run(principal, request, record, history, facts, routed)
        except KeelError as exc:
            # A refused or failed turn is still a request someone made: audit it (before the error reply).
            self._record_failure(facts, exc, started)
            raise
        facts.latency_ms = (time.perf_counter() - started) * 1000
        reply = ChatReply(
            conversation_id=conversation.conversation_id,
            message_id=facts.message_id,
            answer=answer,
            citations=citations,
            confidence=facts.confidence,
            outcome=cast(Outcome, facts.outcome),  # "denied" raises before a reply is built
            degradations=[*facts.degradations, *(facts.completion.degradations if facts.completion else ())],
            escalation=_escalation_status(facts.handoff_meta),
        )
        with self._stage("record", stages):
            deps.audit.record_turn(facts)  # write before reply: an unaudited answer is never returned
            self._store(record, facts, reply)
        if deps.telemetry is not None:
            deps.telemetry.observe(facts)
        return TurnResult(reply, facts)

    def _facts(
        self,
        principal: Principal,
        channel: str,
        bot: str,
        conversation_id: str,
        correlation_id: str,
        stages: dict[str, float],
    ) -> TurnFacts:
        deps = self._deps
        return TurnFacts(
            principal=principal,
            channel=channel,
            bot=bot,
            conversation_id=conversation_id,
            message_id=deps.new_id(),
            correlation_id=correlation_id or current_correlation() or deps.new_id(),
            occurred_at=deps.clock(),
            input_masked="",
            stage_ms=stages,
        )

    def _audit_error(self, facts: TurnFacts, outcome: TurnOutcome, error: KeelError, started: float) -> None:
        """Audit a request that ends in an error (refused, failed, rate limited), before the error reply."""
        facts.outcome = outcome
        facts.degradations.append(f"error:{error.code}")
        facts.output_masked = ""
        facts.latency_ms = (time.perf_counter() - started) * 1000
        with self._stage("record", facts.stage_ms):
            self._deps.audit.record_turn(facts)

    def _record_failure(self, facts: TurnFacts, error: KeelError, started: float) -> None:
        self._audit_error(facts, "rate_limited" if isinstance(error, RateLimited) else "failed", error, started)
        if self._deps.telemetry is not None:
            self._deps.telemetry.observe(facts)

    def _run(
        self,
        principal: Principal,
        request: ChatRequest,
        record: list[StoredMessage],
        history: list[StoredMessage],
        facts: TurnFacts,
        routed: list[Passage] | None = None,
    ) -> tuple[str, list[Citation]]:
        """The stages between routing and recording; returns the answer for the user and its citations.

        ``routed``: the passages "auto" already found for the chosen bot (searched once, reused here). ``record``: the
        latest stored messages; ``history``: the latest ones the screen did not refuse (see READ_MESSAGES).

        A turn the input screen refused stays on the record (the stored conversation, the audit trail, the transcript
        a human agent receives, which the escalation decision reads too, marked) but is never given back: not to the
        screen as an earlier turn, not to the model that answers as history, not to the escalation's second stage
        (tests/security/test_refused_turns.py). The actions read this turn's number from the record's latest user
        message, refused or not (a confirmation counts only on the very next user turn).
        """
        deps, stages = self._deps, facts.stage_ms
        with self._stage("screen_in", stages):
            earlier = [m.text for m in history if m.role == "user"]
            verdict = deps.input_screen.screen(request.message, earlier, bot=request.bot)
        flagged = verdict.decision == "flag"
        facts.guardrails.append(_verdict("input", verdict))
        if flagged:
            # A flag is a risk signal, not a verdict: the turn goes on under stricter handling, noted in the audit.
            facts.guardrails.append({"stage": "input", "decision": "flag", "note": FLAG_NOTE})
        with self._stage("protect", stages):
            vault = deps.vaults.load(facts.conversation_id)
            masked = deps.masker.mask(request.message, vault)
        facts.input_masked = masked.text
        facts.pii_types = sorted({e.type for e in masked.entities})
        if verdict.decision == "block":
            facts.outcome, facts.grounded = "refused", True
            facts.output_masked = verdict.message or "I can't help with that request."
            deps.vaults.save(facts.conversation_id, vault)
            return facts.output_masked, []

        transcript = _transcript(record, masked.text, history)
        with self._stage("decide", stages):
            decision = deps.escalation.decide(transcript, request.bot)
        _note_second_stage(facts, decision)
        if decision.escalate and decision.reason in PRE_ANSWER_REASONS:
            deps.vaults.save(facts.conversation_id, vault)
            return self._escalate(facts, decision, transcript), []

        if deps.actions is not None:
            # Tool calls come only from the user's own (masked) message, never from retrieved text.
            with self._stage("act", stages):
                acted = deps.actions.handle(
                    principal,
                    facts.conversation_id,
                    request.bot,
                    masked.text,
                    record,
                    channel=facts.channel,
                    correlation_id=facts.correlation_id,
                    step_up=flagged,
                )
            if acted is not None:
                facts.outcome = acted.turn_outcome
                # Results can carry data from other systems (CRM names): stored and audited masked.
                facts.output_masked = deps.masker.mask(acted.text, vault, origin="action").text
                deps.vaults.save(facts.conversation_id, vault)
                return str(acted.text), []
        draft, citations = self._answer(principal, request, history, masked.text, vault, facts, routed, strict=flagged)
        transcript.append({"role": "assistant", "text": draft, "confidence": facts.confidence})
        if facts.loop_stopped:
            transcript.append({"role": "event", "text": "the assistant repeated the same reply; loop stopped"})
        completion = facts.completion
        # The operator's maintenance switch is deliberate; only a chain that ran out of models is an outage.
        operator_maintenance = completion is not None and tuple(completion.degradations) == ("maintenance",)
        if completion is not None and completion.model_id == "none" and not operator_maintenance:
            transcript.append({"role": "event", "text": "model outage: no language model answered"})
        with self._stage("decide", stages):
            decision = deps.escalation.decide(transcript, request.bot)
        _note_second_stage(facts, decision)
        held = self._held_for_outage(decision, masked.text, facts) if decision.escalate else None
        if held is not None:
            deps.vaults.save(facts.conversation_id, vault)
            return held, []
        if decision.escalate:
            deps.vaults.save(facts.conversation_id, vault)
            return self._escalate(facts, decision, transcript), []
        # A source may quote contact details the user may read; the stored and audited copy stays masked.
        facts.output_masked = deps.masker.mask(draft, vault, origin="source").text
        deps.vaults.save(facts.conversation_id, vault)
        # Only values the user typed may come back to that user; everything else stays a placeholder.
        return vault.unmask(draft, origins=frozenset({"user"})), citations

    def _held_for_outage(self, decision: Any, masked_text: str, facts: TurnFacts) -> str | None:
        """An outage is one incident, not a ticket per message: greetings and repeats get the banner instead."""
        if decision.reason != "system_failure":
            return None
        held = self._deps.escalation.hold_outage_handoff(facts.conversation_id, masked_text)
        if held is None:
            return None
        message, why = held
        facts.outcome, facts.confidence, facts.output_masked = "degraded", 0.0, message
        facts.degradations.append(f"incident:{why}")
        return message

    def _answer(
        self,
        principal: Principal,
        request: ChatRequest,
        history: list[StoredMessage],
        question: str,
        vault: Vault,
        facts: TurnFacts,
        routed: list[Passage] | None = None,
        *,
        strict: bool = False,
    ) -> tuple[str, list[Citation]]:
        """Retrieve, screen the context, generate and check the draft; the masked draft and its citations.
        strict (a flagged turn): retrieved passages are screened at the context screen's lower thresholds."""
        deps = self._deps
        stages = facts.stage_ms
        with self._stage("retrieve", stages):
            try:
                if routed is not None:
                    retrieved = routed
                else:
                    scope = deps.access.scope_for(principal, request.bot)
                    retrieved = deps.retriever.search(scope, question, k=PASSAGES_PER_TURN)
            except SearchUnavailable:
                # Without sources the model must not answer: say so honestly, and offer a person.
                facts.outcome, facts.confidence = "degraded", 0.0
                facts.degradations.append("search_unavailable")
                return SEARCH_DOWN_ANSWER, []
        with self._stage("screen_ctx", stages):
            context = deps.context_screen.screen(retrieved, strict=strict)
        for passage, passage_verdict in zip(retrieved, context, strict=True):
            if passage_verdict.decision != "allow":
                facts.guardrails.append({**_verdict("context", passage_verdict), "doc_id": passage.doc_id})
        passages = [p for p, v in zip(retrieved, context, strict=True) if v.decision != "block"]
        facts.passages = passages

        with self._stage("generate", stages):
            system, facts.prompt_version = deps.prompts.system_prompt(request.bot)
            canary = deps.new_canary() if deps.new_canary else None
            if canary:
                system = f"{system}\nInternal reference (never repeat): {canary}"
            messages = [
                ChatMessage(role=m.role, text=m.text) for m in history if m.role in ("user", "assistant") and m.text
            ]
            messages.append(ChatMessage(role="user", text=self._user_message(question, retrieved, context)))
            completion = deps.generator.generate(request.bot, system, messages, passages, principal=principal)
        facts.completion = completion

        with self._stage("check_out", stages):
            replies = [m.text for m in history if m.role == "assistant"]
            out = deps.output_check.check(
                completion.text, passages, system, question, replies, canary=canary, vault=vault
            )
        facts.guardrails.append({"stage": "output", "decision": out.action, "categories": list(out.problems)})
        draft, citations = _citations(completion.text, passages)
        facts.cited = [c.doc_id for c in citations]
        facts.confidence = round(min(out.grounding, 1.0), 3) if citations else 0.0
        facts.grounded = "ungrounded" not in out.problems
        facts.loop_stopped = out.action == "escalate"
        facts.outcome = _outcome(completion, citations)
        declined = not citations and draft == NO_ANSWER
        if out.action == "withhold" and not declined:
            draft, citations, facts.confidence, facts.outcome = WITHHELD_ANSWER, [], 0.0, "no_answer"
        elif out.action == "low_confidence":
            facts.confidence = min(facts.confidence, LOW_CONFIDENCE_CAP)

        return draft, citations

    def _relay_to_agent(self, request: ChatRequest, facts: TurnFacts) -> str:
        """A person has the conversation: the bot stays silent and only stores the (masked) message. The message is
        screened all the same and the verdict recorded (the person reads it whatever it says): once the person hands
        the conversation back, a message the screen refuses is not given to the model as history."""
        verdict = self._deps.input_screen.screen(request.message, [], bot=request.bot)
        facts.guardrails.append(_verdict("input", verdict))
        vault = self._deps.vaults.load(facts.conversation_id)
        facts.input_masked = self._deps.masker.mask(request.message, vault).text
        self._deps.vaults.save(facts.conversation_id, vault)
        facts.outcome = "escalated"
        facts.escalation = {"decision": "escalate", "reason": "with_agent", "intent": "general", "detail": ""}
        facts.output_masked = RELAYED
        return RELAYED

    def _escalate(self, facts: TurnFacts, decision: Any, transcript: list[dict[str, Any]]) -> str:
        handoff = Handoff(
            principal=facts.principal,
            conversation_id=facts.conversation_id,
            bot=facts.bot,
            channel=facts.channel,
            reason=decision.reason,
            intent=decision.intent,
            detail=decision.detail,
            transcript=transcript,
            urgency=getattr(decision, "urgency", "normal"),
            language=getattr(decision, "language", "und"),
        )
        message, meta = self._deps.escalation.hand_over(handoff)
        facts.handoff_meta = meta
        facts.outcome = "escalated"
        facts.escalation = {
            "decision": "escalate",
            "reason": handoff.reason,
            "intent": handoff.intent,
            "detail": handoff.detail[:300],
            "urgency": handoff.urgency,
            "language": handoff.language,
        }
        facts.output_masked = message
        return message

    def _user_message(self, question: str, passages: list[Passage], verdicts: list[Any]) -> str:
        if self._deps.wrap_passages is not None:
            sources = self._deps.wrap_passages(passages, verdicts)
        else:
            sources = "\n".join(
                f'<source doc_id="{p.doc_id}" title="{p.title}">\n{p.text}\n</source>' for p in passages
            )
        return f"{sources}\n\n<question>\n{question}\n</question>"

    def _route(self, principal: Principal, request: ChatRequest) -> tuple[ChatRequest, list[Passage] | None]:
        """Resolve bot "auto": the conversation's bot, else the permitted bot whose sources best match.

        Choosing searches once over the union of the permitted bots' scopes (one request over every index
        they read, each bot's filter confined to its own indices) and returns the chosen bot's passages
        from that search, so the answer does not search again.
        """
        if request.bot != AUTO_BOT:
            return request, None
        if request.conversation_id is not None:
            found = self._deps.conversations.get(request.conversation_id)
            if found is not None and found.owner == principal.subject:
                return request.model_copy(update={"bot": found.bot}), None
        candidates = self._deps.access.bots_for(principal)
        if not candidates:
            raise Forbidden("no bot is available to you; ask your administrator for access")
        scopes = {bot: self._deps.access.scope_for(principal, bot) for bot in candidates}
        try:
            hits = self._deps.retriever.search(union_scope(list(scopes.values())), request.message, k=AUTO_PASSAGES)
        except SearchUnavailable:
            # The answer's own search then meets the outage and degrades the turn honestly.
            return request.model_copy(update={"bot": candidates[0]}), None
        hits.sort(key=lambda p: -p.score)
        best = next((bot for bot in candidates if hits and passage_in_scope(scopes[bot], hits[0])), candidates[0])
        passages = [p for p in hits if passage_in_scope(scopes[best], p)][:PASSAGES_PER_TURN]
        return request.model_copy(update={"bot": best}), passages

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

    def _store(self, record: list[StoredMessage], facts: TurnFacts, reply: ChatReply) -> None:
        """Append the user message, then the reply; agents and workers append too, so a taken seq is retried. Once the
        user message is stored it is never stored again: a conflict on the reply retries the reply alone."""
        seq = record[-1].seq + 1 if record else 0
        turn = next_user_turn(record)  # the number the actions read from the same record
        stored_user = False
        for _ in range(STORE_ATTEMPTS):
            try:
                if not stored_user:
                    self._append_user(seq, turn, facts)
                    stored_user, seq = True, seq + 1
                self._append_reply(seq, facts, reply)
                return
            except Conflict:
                # Another writer came first. If it stored a user message (a concurrent turn) before this one's, this
                # one is numbered after it, so a confirmation asked in either turn no longer counts as the very next
                # answer.
                latest = self._deps.conversations.messages(facts.conversation_id, limit=HISTORY_TURNS * 2)
                seq = latest[-1].seq + 1 if latest else seq + 1
                if not stored_user:
                    turn = max(turn, next_user_turn(latest))
        raise Conflict(f"conversation {facts.conversation_id} is too busy to record this turn; try again")

    def _append_user(self, seq: int, turn: int, facts: TurnFacts) -> None:
        self._deps.conversations.append(
            StoredMessage(
                facts.conversation_id,
                self._deps.new_id(),
                seq,
                "user",
                facts.input_masked,
                facts.occurred_at.isoformat(),
                # The input screen's decision on the message itself, so that a refused message is known as such
                # even where its reply is not stored right after it (a concurrent writer took the next seq).
                # Its number among the conversation's user messages: the actions read the next turn's number from it.
                meta={"pii_types": facts.pii_types, "input": _input_decision(facts.guardrails), "turn": turn},
            )
        )

    def _append_reply(self, seq: int, facts: TurnFacts, reply: ChatReply) -> None:
        completion = facts.completion
        self._deps.conversations.append(
            StoredMessage(
                facts.conversation_id,
                facts.message_id,
                seq,
                "assistant",
                facts.output_masked,
                facts.occurred_at.isoformat(),
                meta={
                    "citations": [c.model_dump() for c in reply.citations],
                    "confidence": reply.confidence,
                    "grounded": facts.grounded,
                    "outcome": reply.outcome,
                    "model_id": completion.model_id if completion else None,
                    "prompt_version": facts.prompt_version,
                    "input_tokens": completion.input_tokens if completion else 0,
                    "output_tokens": completion.output_tokens if completion else 0,
                    "cost_usd": completion.cost_usd if completion else 0.0,
                    "latency_ms": round(facts.latency_ms, 1),
                    "degradations": list(completion.degradations) if completion else [],
                    "escalation": facts.escalation,
                    "escalation_second_stage": facts.escalation_cost,
                    "guardrails": facts.guardrails,
                    "correlation_id": facts.correlation_id,
                    **facts.handoff_meta,
                },
            )
        )

    @contextmanager
    def _stage(self, name: str, stages: dict[str, float] | None) -> Iterator[None]:
        started = time.perf_counter()
        telemetry = self._deps.telemetry
        try:
            if telemetry is None:
                yield
            else:
                with telemetry.stage(name):
                    yield
        finally:
            if stages is not None:
                stages[name] = stages.get(name, 0.0) + (time.perf_counter() - started) * 1000


def _input_decision(guardrails: list[dict[str, Any]]) -> str | None:
    """The input screen's decision recorded on a turn (allow, flag or block), or None when it did not run."""
    return next((g["decision"] for g in guardrails if g.get("stage") == "input" and "score" in g), None)


def _not_refused(history: list[StoredMessage]) -> list[StoredMessage]:
    """The history without the turns the input screen refused: a user message marked refused and each refused reply.
    A user message stored before user messages carried the mark goes with the refusal that answers it: the first
    refusal after it before any other reply or user message (another writer's message may sit between). A marked
    message decides for itself, so a concurrent turn's allowed message between a refused message and its refusal
    stays."""
    refused: set[int] = set()
    unmarked: int | None = None  # the latest user message without a mark, not answered yet
    for m in history:
        if m.role == "user":
            if m.meta.get("input") == "block":
                refused.add(m.seq)
            unmarked = m.seq if m.meta.get("input") is None else None
        elif m.role == "assistant":
            if _input_decision(list(m.meta.get("guardrails", ()))) == "block":
                refused.add(m.seq)
                if unmarked is not None:
                    refused.add(unmarked)
            unmarked = None
    return [m for m in history if m.seq not in refused]


def _transcript(history: list[StoredMessage], user_text: str, kept: list[StoredMessage]) -> list[dict[str, Any]]:
    """The masked conversation so far as the escalation decision reads it; a message left out of `kept` (the history
    without the turns the input screen refused) is marked refused (the escalation's second stage, a model, is not
    given it)."""
    kept_seqs = {m.seq for m in kept}
    turns: list[dict[str, Any]] = []
    for message in history:
        entry: dict[str, Any] = {"role": message.role, "text": message.text}
        if message.role == "assistant" and isinstance(message.meta.get("confidence"), int | float):
            entry["confidence"] = float(message.meta["confidence"])
        if message.seq not in kept_seqs:
            entry["refused"] = True
        turns.append(entry)
    turns.append({"role": "user", "text": user_text})
    return turns


def _note_second_stage(facts: TurnFacts, decision: Any) -> None:
    """Keep what the escalation's second stage cost on the turn's record, whether or not it escalated."""
    signals = getattr(decision, "signals", None)
    if isinstance(signals, dict) and "second_stage" in signals:
        facts.escalation_cost.append(dict(signals["second_stage"]))


def _verdict(stage: str, verdict: Any) -> dict[str, Any]:
    out = {
        "stage": stage,
        "decision": verdict.decision,
        "score": round(float(verdict.score), 3),
        "categories": list(verdict.categories),
    }
    cost = float(getattr(verdict, "cost_usd", 0.0) or 0.0)
    if cost:
        out["second_opinion_cost_usd"] = round(cost, 8)  # the judge's cost, counted on this turn
    return out


def _citations(text: str, passages: list[Passage]) -> tuple[str, list[Citation]]:
    """Keep only citations that point at passages the model was given."""
    by_doc = {p.doc_id: p for p in passages}
    cited: list[Citation] = []
    for doc_id in dict.fromkeys(_CITATION.findall(text)):
        passage = by_doc.get(doc_id)
        if passage is not None:
            cited.append(
                Citation(doc_id=doc_id, title=passage.title, snippet=_snippet(passage.text), version=passage.version)
            )
    if not cited:
        return (text.strip() or NO_ANSWER), []
    return text.strip(), cited


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _outcome(completion: Completion, citations: list[Citation]) -> Outcome:
    if "maintenance" in completion.degradations:
        return "maintenance"
    if not citations:
        return "no_answer"
    return "degraded" if completion.degradations else "answered"


def _escalation_status(meta: dict[str, Any]) -> EscalationStatus | None:
    """The handoff the escalation service reported this turn, as the reply shows it (None when none)."""
    handoff = meta.get("escalation")
    if not isinstance(handoff, dict) or handoff.get("kind") not in ("agent", "ticket", "pending"):
        return None
    return EscalationStatus.model_validate({k: handoff.get(k) or "" for k in EscalationStatus.model_fields})
