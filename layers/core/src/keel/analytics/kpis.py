"""Conversation outcomes and the business KPIs computed from the conversation store (R16).

Every definition here is written down in docs/kpis.md; the two must say the same thing.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from keel.analytics.ports import ConversationAnalyticsSource, ConversationRecord, FeedbackItem
from keel.analytics.timeutil import parse_instant
from keel.analytics.topics import TopicGroup, group_by_topic
from keel.conversations.ports import StoredMessage

ConversationOutcome = Literal["resolved", "escalated", "abandoned", "open"]
ENDED: tuple[ConversationOutcome, ...] = ("resolved", "escalated", "abandoned")
ABANDON_AFTER = timedelta(minutes=30)
LOW_CONFIDENCE = 0.5
SATISFIED_CSAT = 4
ANSWERING_OUTCOMES = frozenset({"answered", "degraded", "no_answer", "ungrounded"})
ERROR_OUTCOMES = frozenset({"maintenance", "error"})
ESCALATED_STATUSES = frozenset({"escalated", "with_agent"})

# A user saying the answer worked. Deliberately explicit: "thanks, but..." is not a confirmation.
_CONFIRMATION = re.compile(
    r"^\s*(?:ok(?:ay)?[,!.]?\s+)?(?:great[,!.]?\s+|perfect[,!.]?\s+)?"
    r"(?:thanks?(?: you)?(?: so much| a lot)?|that (?:helped|helps|works|worked|solved it|answers it|did it)|"
    r"(?:this|it) (?:worked|works|helped|solved it)|problem solved|solved|resolved|all good|got it)"
    r"(?:[,!.]?\s*(?:thanks?(?: you)?|that (?:helped|works|worked|solved it)|it works))?\s*[!.]*\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    """One bot answer (an assistant message with its meta) and the user query it answered."""

    conversation_id: str
    bot: str
    day: date
    query: str
    outcome: str
    confidence: float
    grounded: bool
    latency_ms: float | None
    tokens: int
    cost_usd: float


@dataclass(frozen=True)
class ConversationSummary:
    """One conversation's outcome and what it cost."""

    conversation_id: str
    bot: str
    channel: str
    day: date
    outcome: ConversationOutcome
    turns: tuple[Turn, ...]
    feedback: tuple[FeedbackItem, ...]
    first_query: str


def is_confirmation(text: str) -> bool:
    """True when a user message says the answer solved the problem ("thanks, that worked")."""
    return bool(_CONFIRMATION.match(text or ""))


def is_positive(item: FeedbackItem) -> bool:
    """A thumbs up, or a CSAT of 4 or 5 with no thumbs down on the same answer."""
    if item.rating == "up":
        return True
    return item.rating != "down" and item.csat is not None and item.csat >= SATISFIED_CSAT


def classify(record: ConversationRecord, as_of: datetime, abandon_after: timedelta = ABANDON_AFTER) -> str:
    """resolved, escalated, abandoned or open, by the rules in docs/kpis.md (escalated wins over resolved)."""
    messages = record.messages
    if record.conversation.status in ESCALATED_STATUSES or any(
        m.role == "agent" or (m.role == "assistant" and m.meta.get("outcome") == "escalated") for m in messages
    ):
        return "escalated"
    if any(is_positive(f) for f in record.feedback) or _confirmed(messages):
        return "resolved"
    if as_of - last_activity(record) >= abandon_after:
        return "abandoned"
    return "open"


def last_activity(record: ConversationRecord) -> datetime:
    """The latest of the conversation's creation, its messages and its feedback."""
    instants = [parse_instant(record.conversation.created_at)]
    instants += [parse_instant(m.created_at) for m in record.messages]
    instants += [parse_instant(f.recorded_at) for f in record.feedback]
    return max(instants)


def _confirmed(messages: Sequence[StoredMessage]) -> bool:
    answered = False
    for message in messages:
        if message.role == "assistant":
            answered = True
        elif answered and (
            (message.role in ("user", "event") and message.meta.get("resolved") is True)
            or (message.role == "user" and is_confirmation(message.text))
        ):
            return True
    return False


def summarise(
    record: ConversationRecord, as_of: datetime, abandon_after: timedelta = ABANDON_AFTER
) -> ConversationSummary:
    """The conversation's outcome and its turns."""
    header = record.conversation
    day = parse_instant(header.created_at).astimezone(UTC).date()
    turns: list[Turn] = []
    query = ""
    first_query = ""
    for message in record.messages:
        if message.role == "user":
            query = message.text
            first_query = first_query or message.text
        elif message.role == "assistant" and "outcome" in message.meta:
            turns.append(_turn(header.conversation_id, header.bot, day, query, message.meta))
    outcome: Any = classify(record, as_of, abandon_after)
    return ConversationSummary(
        header.conversation_id, header.bot, header.channel, day, outcome, tuple(turns), record.feedback, first_query
    )


def _turn(conversation_id: str, bot: str, day: date, query: str, meta: Mapping[str, Any]) -> Turn:
    outcome = str(meta.get("outcome"))
    latency = meta.get("latency_ms")
    return Turn(
        conversation_id=conversation_id,
        bot=bot,
        day=day,
        query=query,
        outcome=outcome,
        confidence=_number(meta.get("confidence")),
        grounded=not _ungrounded(outcome, meta),
        latency_ms=float(latency) if isinstance(latency, int | float) and not isinstance(latency, bool) else None,
        tokens=int(_number(meta.get("input_tokens")) + _number(meta.get("output_tokens"))),
        cost_usd=_number(meta.get("cost_usd")),
    )


def _ungrounded(outcome: str, meta: Mapping[str, Any]) -> bool:
    if outcome == "ungrounded" or meta.get("grounded") is False:
        return True
    return any(
        isinstance(g, Mapping) and g.get("stage") == "output" and "ungrounded" in (g.get("categories") or [])
        for g in meta.get("guardrails") or []
    )


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least q of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def _ratio(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


@dataclass(frozen=True)
class Kpis:
    """The KPI values over one set of conversations (the whole window, or one day of it)."""

    conversations: int
    outcomes: dict[str, int]
    deflection_rate: float | None
    resolution_rate: float | None
    escalation_rate: float | None
    abandonment_rate: float | None
    csat_average: float | None
    csat_satisfied_rate: float | None
    csat_responses: int
    thumbs_up: int
    thumbs_down: int
    turns: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    answers: int
    hallucination_rate: float | None
    errors: int
    error_rate: float | None
    tokens: int
    tokens_per_query: float | None
    cost_usd: float
    cost_per_conversation: float | None
    low_confidence: int

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in vars(self).items()}


def kpis_of(conversations: Sequence[ConversationSummary], low_confidence: float = LOW_CONFIDENCE) -> Kpis:
    """The KPIs of a set of summarised conversations (see docs/kpis.md for each definition)."""
    outcomes = Counter(c.outcome for c in conversations)
    ended = sum(outcomes[o] for o in ENDED)
    feedback = [f for c in conversations for f in c.feedback]
    scores = [f.csat for f in feedback if f.csat is not None]
    turns = [t for c in conversations for t in c.turns]
    latencies = [t.latency_ms for t in turns if t.latency_ms is not None]
    answers = [t for t in turns if t.outcome in ANSWERING_OUTCOMES]
    errors = sum(1 for t in turns if t.outcome in ERROR_OUTCOMES)
    tokens = sum(t.tokens for t in turns)
    cost = math.fsum(t.cost_usd for t in turns)
    return Kpis(
        conversations=len(conversations),
        outcomes={o: outcomes[o] for o in (*ENDED, "open")},
        deflection_rate=_ratio(ended - outcomes["escalated"], ended),
        resolution_rate=_ratio(outcomes["resolved"], ended),
        escalation_rate=_ratio(outcomes["escalated"], ended),
        abandonment_rate=_ratio(outcomes["abandoned"], ended),
        csat_average=_ratio(sum(scores), len(scores)),
        csat_satisfied_rate=_ratio(sum(1 for s in scores if s >= SATISFIED_CSAT), len(scores)),
        csat_responses=len(scores),
        thumbs_up=sum(1 for f in feedback if f.rating == "up"),
        thumbs_down=sum(1 for f in feedback if f.rating == "down"),
        turns=len(turns),
        latency_p50_ms=percentile(latencies, 0.50),
        latency_p95_ms=percentile(latencies, 0.95),
        answers=len(answers),
        hallucination_rate=_ratio(sum(1 for t in answers if not t.grounded), len(answers)),
        errors=errors,
        error_rate=_ratio(errors, len(turns)),
        tokens=tokens,
        tokens_per_query=_ratio(tokens, len(turns)),
        cost_usd=cost,
        cost_per_conversation=_ratio(cost, len(conversations)),
        low_confidence=sum(1 for t in answers if t.confidence < low_confidence),
    )


@dataclass(frozen=True)
class KpiReport:
    """KPIs over a window, per day, and the queries worth a look grouped by topic."""

    since: datetime
    until: datetime
    abandon_after: timedelta
    totals: Kpis
    daily: list[tuple[date, Kpis]]
    by_bot: dict[str, Kpis]
    low_confidence_topics: list[TopicGroup]
    unresolved_topics: list[TopicGroup]
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what GET /v1/ops/kpis returns)."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "abandon_after_minutes": int(self.abandon_after.total_seconds() // 60),
            "totals": self.totals.to_dict(),
            "daily": [{"date": d.isoformat(), **k.to_dict()} for d, k in self.daily],
            "by_bot": {bot: k.to_dict() for bot, k in sorted(self.by_bot.items())},
            "low_confidence_topics": [g.to_dict() for g in self.low_confidence_topics],
            "unresolved_topics": [g.to_dict() for g in self.unresolved_topics],
            **self.extra,
        }


def build_report(
    records: Iterable[ConversationRecord],
    since: datetime,
    until: datetime,
    *,
    abandon_after: timedelta = ABANDON_AFTER,
    low_confidence: float = LOW_CONFIDENCE,
    top_topics: int = 10,
) -> KpiReport:
    """Summarise every conversation created in [since, until) as of `until` and compute the KPIs."""
    summaries = [
        summarise(r, until, abandon_after) for r in records if since <= parse_instant(r.conversation.created_at) < until
    ]
    days: list[date] = []
    day = since.astimezone(UTC).date()
    last = (until - timedelta(microseconds=1)).astimezone(UTC).date()
    while day <= last:
        days.append(day)
        day += timedelta(days=1)
    daily = [(d, kpis_of([s for s in summaries if s.day == d], low_confidence)) for d in days]
    bots = sorted({s.bot for s in summaries})
    low = [
        (t.bot, t.query)
        for s in summaries
        for t in s.turns
        if t.outcome in ANSWERING_OUTCOMES and t.confidence < low_confidence and t.query
    ]
    unresolved = [
        (s.bot, s.first_query) for s in summaries if s.outcome in ("escalated", "abandoned") and s.first_query
    ]
    return KpiReport(
        since=since,
        until=until,
        abandon_after=abandon_after,
        totals=kpis_of(summaries, low_confidence),
        daily=daily,
        by_bot={b: kpis_of([s for s in summaries if s.bot == b], low_confidence) for b in bots},
        low_confidence_topics=group_by_topic(low, limit=top_topics),
        unresolved_topics=group_by_topic(unresolved, limit=top_topics),
    )


def report_from_source(
    source: ConversationAnalyticsSource,
    window: timedelta,
    *,
    now: datetime | None = None,
    abandon_after: timedelta = ABANDON_AFTER,
) -> KpiReport:
    """The report over the last `window` up to now (UTC), read from an analytics source."""
    until = now or datetime.now(UTC)
    since = until - window
    return build_report(source.conversations(since, until), since, until, abandon_after=abandon_after)
