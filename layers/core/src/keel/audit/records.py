"""The audit record: one versioned, masked account of a turn or an action (R13).

Records carry identifiers, masked text and figures only: never an email, a name, a token or a secret.
`keel.audit.guard` enforces that on every string before a record can be queued.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.models.ports import Completion

SCHEMA_VERSION: Literal[1] = 1
MAX_TEXT_CHARS = 32_000
_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
_TENANT = r"^[a-z0-9][a-z0-9-]{0,62}$"


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Actor(_Part):
    """Who acted: the subject and its groups, never an email or a display name."""

    subject: str = Field(min_length=1, max_length=128)
    groups: tuple[str, ...] = ()
    kind: Literal["internal", "external", "service"] = "internal"

    @field_validator("groups")
    @classmethod
    def _sorted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Sorted so that the same principal always hashes the same way.
        return tuple(sorted(set(value)))


class DocumentUse(_Part):
    """A retrieved passage that informed the answer, with its version and score."""

    doc_id: str = Field(min_length=1, max_length=256)
    version: int = Field(ge=0)
    chunk_id: str | None = Field(default=None, max_length=256)
    score: float
    cited: bool = False


class GuardrailVerdict(_Part):
    """What one guardrail stage decided."""

    stage: str = Field(min_length=1, max_length=64)
    decision: Literal["allow", "flag", "block", "mask", "refuse"]
    categories: tuple[str, ...] = ()
    score: float | None = None
    # A flagged input: what stricter handling the turn got. The second opinion's cost, when one was asked.
    note: str | None = Field(default=None, max_length=256)
    cost_usd: float | None = Field(default=None, ge=0)


class EscalationDecision(_Part):
    """Whether the turn was handed to a human, and why."""

    decision: Literal["none", "handoff", "ticket", "offered"]
    reason: str | None = Field(default=None, max_length=256)
    ticket_id: str | None = Field(default=None, max_length=128)


class Usage(_Part):
    """Latency, tokens and cost of the turn or action."""

    latency_ms: float = Field(ge=0)
    input_tokens: int = Field(default=0, ge=0)
    output_tokens: int = Field(default=0, ge=0)
    cost_usd: float = Field(default=0.0, ge=0)


class TurnDetail(_Part):
    """What was asked and answered, and what informed the answer."""

    input_masked: str = Field(max_length=MAX_TEXT_CHARS)
    output_masked: str = Field(max_length=MAX_TEXT_CHARS)
    outcome: str = Field(min_length=1, max_length=32)
    documents: tuple[DocumentUse, ...] = Field(default=(), max_length=100)
    model_id: str | None = Field(default=None, max_length=256)
    prompt_version: str | None = Field(default=None, max_length=128)
    guardrails: tuple[GuardrailVerdict, ...] = Field(default=(), max_length=50)
    escalation: EscalationDecision = EscalationDecision(decision="none")
    degradations: tuple[str, ...] = ()


class ActionDetail(_Part):
    """The decision path of one action: policy evaluated, decision, confirmation, result."""

    action: str = Field(min_length=1, max_length=128)
    resource: str = Field(min_length=1, max_length=512)
    policy: str = Field(min_length=1, max_length=128)
    decision: Literal["allow", "deny"]
    policy_ids: tuple[str, ...] = ()
    confirmation: Literal["not_required", "requested", "confirmed", "declined", "expired"]
    result: Literal["succeeded", "failed", "not_run"]
    error_code: str | None = Field(default=None, max_length=64)
    arguments_masked: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)


class AuditRecord(_Part):
    """One audit record of a turn or an action; schema_version changes whenever a field changes meaning."""

    schema_version: Literal[1] = SCHEMA_VERSION
    record_id: str = Field(pattern=_ID)
    kind: Literal["turn", "action"]
    tenant: str = Field(pattern=_TENANT)
    occurred_at: datetime
    correlation_id: str = Field(pattern=_ID)
    actor: Actor
    channel: str = Field(min_length=1, max_length=32)
    bot: str = Field(min_length=1, max_length=64)
    conversation_id: str = Field(pattern=_ID)
    message_id: str | None = Field(default=None, pattern=_ID)
    usage: Usage
    turn: TurnDetail | None = None
    action: ActionDetail | None = None

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone (UTC is used in the record)")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _one_detail(self) -> AuditRecord:
        if self.kind == "turn" and (self.turn is None or self.action is not None):
            raise ValueError("a turn record carries `turn` and no `action`")
        if self.kind == "action" and (self.action is None or self.turn is not None):
            raise ValueError("an action record carries `action` and no `turn`")
        return self

    @property
    def day(self) -> str:
        """The UTC day whose chain this record joins (YYYY-MM-DD)."""
        return self.occurred_at.strftime("%Y-%m-%d")

    @property
    def chain_id(self) -> str:
        """The chain this record belongs to: one per tenant per UTC day."""
        return f"{self.tenant}/{self.day}"


def actor_of(principal: Principal) -> Actor:
    """The audit view of a principal: subject, groups and kind only."""
    kind: Literal["internal", "external"] = "external" if principal.external else "internal"
    return Actor(subject=principal.subject, groups=tuple(principal.groups), kind=kind)


def documents_of(passages: Iterable[Passage], cited: Iterable[str] = ()) -> tuple[DocumentUse, ...]:
    """The documents, versions and scores of the passages that informed an answer."""
    cited_ids = set(cited)
    return tuple(
        DocumentUse(doc_id=p.doc_id, version=p.version, chunk_id=p.chunk_id, score=p.score, cited=p.doc_id in cited_ids)
        for p in passages
    )


def turn_record(
    *,
    record_id: str,
    principal: Principal,
    occurred_at: datetime,
    correlation_id: str,
    channel: str,
    bot: str,
    conversation_id: str,
    message_id: str | None,
    input_masked: str,
    output_masked: str,
    outcome: str,
    latency_ms: float,
    passages: Iterable[Passage] = (),
    cited: Iterable[str] = (),
    completion: Completion | None = None,
    prompt_version: str | None = None,
    guardrails: Iterable[GuardrailVerdict] = (),
    escalation: EscalationDecision | None = None,
    degradations: Iterable[str] = (),
) -> AuditRecord:
    """Build the record of one turn from what the turn already holds (text must be masked).

    degradations are the turn's own (search down, the error that ended it), kept before the model's.
    """
    return AuditRecord(
        record_id=record_id,
        kind="turn",
        tenant=principal.tenant,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        actor=actor_of(principal),
        channel=channel,
        bot=bot,
        conversation_id=conversation_id,
        message_id=message_id,
        usage=Usage(
            latency_ms=round(latency_ms, 3),
            input_tokens=completion.input_tokens if completion else 0,
            output_tokens=completion.output_tokens if completion else 0,
            cost_usd=completion.cost_usd if completion else 0.0,
        ),
        turn=TurnDetail(
            input_masked=input_masked,
            output_masked=output_masked,
            outcome=outcome,
            documents=documents_of(passages, cited),
            model_id=completion.model_id if completion else None,
            prompt_version=prompt_version,
            guardrails=tuple(guardrails),
            escalation=escalation or EscalationDecision(decision="none"),
            degradations=(*degradations, *(completion.degradations if completion else ())),
        ),
    )


def action_record(
    *,
    record_id: str,
    principal: Principal,
    occurred_at: datetime,
    correlation_id: str,
    channel: str,
    bot: str,
    conversation_id: str,
    message_id: str | None,
    detail: ActionDetail,
    latency_ms: float,
) -> AuditRecord:
    """Build the record of one action with its decision path."""
    return AuditRecord(
        record_id=record_id,
        kind="action",
        tenant=principal.tenant,
        occurred_at=occurred_at,
        correlation_id=correlation_id,
        actor=actor_of(principal),
        channel=channel,
        bot=bot,
        conversation_id=conversation_id,
        message_id=message_id,
        usage=Usage(latency_ms=round(latency_ms, 3)),
        action=detail,
    )
