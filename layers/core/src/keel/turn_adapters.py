"""Bridges between the turn's ports and the capability packages (audit, escalation, prompts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from keel.audit.records import EscalationDecision, GuardrailVerdict, turn_record
from keel.conversations.ports import Conversation
from keel.escalation.config import BotEscalation
from keel.escalation.decision import Decision, Turn, decide
from keel.escalation.outage import OutageHandoffs
from keel.turn import Handoff, TurnFacts

_OUTPUT_DECISIONS = {"deliver": "allow", "low_confidence": "flag", "withhold": "block", "escalate": "flag"}


class AuditTurnSink:
    """Turns the facts of a turn into its audit record and hands it to the audit trail."""

    def __init__(self, trail: Any, new_id: Callable[[], str]) -> None:
        self._trail = trail
        self._new_id = new_id

    def record_turn(self, facts: TurnFacts) -> None:
        """Build the versioned record (masked text only) and queue it durably; raises AuditUnavailable."""
        record = turn_record(
            record_id=self._new_id(),
            principal=facts.principal,
            occurred_at=facts.occurred_at,
            correlation_id=facts.correlation_id,
            channel=facts.channel,
            bot=facts.bot,
            conversation_id=facts.conversation_id,
            message_id=facts.message_id,
            input_masked=facts.input_masked,
            output_masked=facts.output_masked,
            outcome=facts.outcome,
            latency_ms=facts.latency_ms,
            passages=facts.passages,
            cited=facts.cited,
            completion=facts.completion,
            prompt_version=facts.prompt_version,
            guardrails=[_guardrail(v) for v in facts.guardrails],
            escalation=_escalation(facts.escalation),
            degradations=facts.degradations,
        )
        self._trail.record(record)


class EscalationBridge:
    """Per-bot escalation settings, the decision, and the handoff workflow."""

    def __init__(
        self,
        service: Any,
        bots: Mapping[str, BotEscalation] | None = None,
        *,
        heads: Any | None = None,
        second_opinion: Any | None = None,
        unavailable_message: str = (
            "I'd like to hand you to a person, but our handoff service is not available right now. "
            "Please try again shortly; nothing you wrote is lost."
        ),
        outage: OutageHandoffs | None = None,
    ) -> None:
        self._service = service
        self._bots: Mapping[str, BotEscalation] = bots if bots is not None else {}  # live: follows the tenant
        self._heads = heads
        self._second = second_opinion
        self._unavailable = unavailable_message
        self._outage = outage

    def decide(self, transcript: list[dict[str, Any]], bot: str) -> Decision:
        """The escalation decision on the masked transcript so far."""
        turns = [Turn.model_validate(t) for t in transcript]
        settings = self._bots.get(bot)
        return decide(turns, settings.policy if settings else None, heads=self._heads, second_opinion=self._second)

    def hold_outage_handoff(self, conversation_id: str, user_text: str) -> tuple[str, str] | None:
        """Hold a system-failure handoff that is not actionable, a repeat, or over the incident's limit."""
        if self._outage is None:
            return None
        decision = self._outage.admit(conversation_id, user_text)
        return None if decision.admitted else (decision.message, decision.verdict)

    def hand_over(self, handoff: Handoff) -> tuple[str, dict[str, Any]]:
        """Start the workflow; what to tell the user and the handoff facts to keep on the reply.

        For signs of self-harm the user first reads the bot's support resources, in the same reply.
        """
        conversation = Conversation(
            conversation_id=handoff.conversation_id,
            owner=handoff.principal.subject,
            bot=handoff.bot,
            channel=handoff.channel,
            created_at="",
        )
        decision = Decision.model_validate(
            {
                "escalate": True,
                "reason": handoff.reason,
                "detail": handoff.detail,
                "intent": handoff.intent,
                "urgency": handoff.urgency,
                "language": handoff.language,
            }
        )
        last_user = next((t["text"] for t in reversed(handoff.transcript) if t["role"] == "user"), "")
        # The support text is settled before the workflow starts: a settings lookup that failed after it would
        # leave a handoff in flight and the user without the support message.
        self_harm = handoff.reason == "vulnerable_customer" and handoff.intent == "self_harm"
        support = (self._bots.get(handoff.bot) or BotEscalation()).support_text(handoff.language) if self_harm else ""
        outcome = self._service.escalate(conversation, handoff.principal, decision, summary=last_user)
        meta: dict[str, Any] = outcome.meta() if hasattr(outcome, "meta") else {}
        message = str(outcome.message)
        if self_harm:
            message = f"{support}\n\n{message}"
            meta["support_message"] = True
        return message, meta


class PromptComposer:
    """The bot's versioned prompt from the prompt library."""

    def __init__(self, library: Any) -> None:
        self._library = library

    def system_prompt(self, bot: str) -> tuple[str, str]:
        """System prompt text and version label."""
        text, version = self._library.system_prompt(bot)
        return str(text), str(version)


def _guardrail(verdict: Mapping[str, Any]) -> GuardrailVerdict:
    decision = verdict["decision"]
    return GuardrailVerdict(
        stage=str(verdict["stage"]),
        decision=_OUTPUT_DECISIONS.get(decision, decision),
        categories=tuple(verdict.get("categories", ())),
        score=verdict.get("score"),
        note=verdict.get("note"),
        cost_usd=verdict.get("second_opinion_cost_usd"),
    )


def _escalation(escalation: Mapping[str, Any]) -> EscalationDecision:
    if escalation.get("decision") != "escalate":
        return EscalationDecision(decision="none")
    return EscalationDecision(decision="handoff", reason=str(escalation.get("reason") or ""))
