"""The escalation decision (R17): pure, per-bot thresholds, one reason recorded for every answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from keel.escalation import lexicon
from keel.lazy import once

Reason = Literal[
    "explicit_request",
    "vulnerable_customer",
    "high_risk_intent",
    "system_failure",
    "negative_sentiment",
    "low_confidence",
    "none",
]
Role = Literal["user", "assistant", "event", "agent"]
REASONS: tuple[Reason, ...] = (
    "explicit_request",
    "vulnerable_customer",
    "high_risk_intent",
    "system_failure",
    "negative_sentiment",
    "low_confidence",
    "none",
)
HIGH_RISK_INTENTS = tuple(lexicon.HIGH_RISK)
_WORD = re.compile(r"[a-z0-9]+")
_LETTERS = re.compile(r"[A-Za-z]{4,}")
_CITED = re.compile(r"\[[A-Za-z0-9][A-Za-z0-9_.:-]*\]")
_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "to",
        "of",
        "and",
        "or",
        "is",
        "are",
        "i",
        "my",
        "me",
        "you",
        "your",
        "it",
        "do",
        "does",
        "how",
        "can",
        "what",
        "for",
        "in",
        "on",
        "with",
        "be",
        "this",
        "that",
        "please",
        "again",
        "still",
    ]
)


class Turn(BaseModel):
    """One entry of a transcript: a user or assistant message, an agent message or a system event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    role: Role
    text: str = Field(max_length=20_000)
    # Grounding confidence of an assistant answer (0..1) when the turn knows it; None when unknown.
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)


class EscalationPolicy(BaseModel):
    """Per-bot thresholds; the defaults suit a general employee assistant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low_confidence_below: float = Field(default=0.35, ge=0.0, le=1.0)
    low_confidence_turns: int = Field(default=3, ge=1, le=20)
    rephrase_similarity: float = Field(default=0.6, gt=0.0, le=1.0)
    rephrase_turns: int = Field(default=3, ge=2, le=20)
    negative_sentiment_below: float = Field(default=-0.7, ge=-1.0, le=0.0)
    frustrated_sentiment_below: float = Field(default=-0.25, ge=-1.0, le=1.0)
    failure_events: int = Field(default=1, ge=1, le=20)
    high_risk_intents: frozenset[str] = frozenset(HIGH_RISK_INTENTS)
    shouting_words: int = Field(default=3, ge=1, le=50)


class Decision(BaseModel):
    """Escalate or not, why, and the evidence; recorded on every turn."""

    model_config = ConfigDict(frozen=True)

    escalate: bool
    reason: Reason
    detail: str = ""
    intent: str = "general"
    signals: dict[str, Any] = Field(default_factory=dict)


def decide(turns: Sequence[Turn], policy: EscalationPolicy | None = None) -> Decision:
    """Whether the conversation so far should go to a human, by the first reason that holds in priority order.

    Explicit requests always win; then high-risk intents, system failures, frustration, low confidence.
    """
    policy = policy or EscalationPolicy()
    users = [t for t in turns if t.role == "user"]
    last_user = users[-1].text if users else ""
    folded = lexicon.fold(last_user)
    intent = _high_risk_intent(folded, policy)
    signals: dict[str, Any] = {}

    if last_user and _explicit_request(folded):
        return Decision(
            escalate=True,
            reason="explicit_request",
            detail="the user asked for a human",
            intent=intent or "general",
        )
    if intent:
        return Decision(escalate=True, reason="high_risk_intent", detail=f"high-risk intent: {intent}", intent=intent)
    failures = _failure_events(turns)
    signals["failure_events"] = len(failures)
    if len(failures) >= policy.failure_events:
        return Decision(
            escalate=True, reason="system_failure", detail=f"system event: {failures[-1][:200]}", signals=signals
        )
    low_streak = _low_confidence_streak(turns, policy)
    rephrases = _rephrase_streak(turns, policy)
    signals.update(low_confidence_streak=low_streak, rephrase_streak=rephrases)
    if last_user:
        frustration = _frustration(last_user, folded, low_streak, policy)
        signals.update(frustration)
        if frustration["frustrated"]:
            return Decision(
                escalate=True,
                reason="negative_sentiment",
                detail=", ".join(frustration["cues"]) or "negative sentiment",
                signals=signals,
            )
    if low_streak >= policy.low_confidence_turns or rephrases >= policy.rephrase_turns:
        detail = (
            f"{low_streak} low-confidence answers in a row"
            if low_streak >= policy.low_confidence_turns
            else f"the user rephrased the same question {rephrases} times"
        )
        return Decision(escalate=True, reason="low_confidence", detail=detail, signals=signals)
    return Decision(escalate=False, reason="none", signals=signals)


def first_escalation(turns: Sequence[Turn], policy: EscalationPolicy | None = None) -> Decision:
    """Replay a transcript and return the first decision that escalates (else the last one).

    The turn decides after generating and before answering, so a decision point is every position followed
    by an assistant answer, plus the end of the transcript (a conversation that ends on a third failed answer
    would escalate on the user's next message); events of a turn are seen with its user message.
    """
    decision = Decision(escalate=False, reason="none")
    for index in range(len(turns)):
        at_end = index == len(turns) - 1
        if not at_end and (turns[index].role == "assistant" or turns[index + 1].role != "assistant"):
            continue
        decision = decide(turns[: index + 1], policy)
        if decision.escalate:
            return decision
    return decision


def _explicit_request(folded: str) -> bool:
    return bool(lexicon.EXPLICIT_REQUEST.search(folded)) and not lexicon.EXPLICIT_EXCLUSIONS.search(folded)


def _high_risk_intent(folded: str, policy: EscalationPolicy) -> str | None:
    for intent, pattern in lexicon.HIGH_RISK.items():
        if intent not in policy.high_risk_intents or not pattern.search(folded):
            continue
        exclusion = lexicon.HIGH_RISK_EXCLUSIONS.get(intent)
        if exclusion is not None and exclusion.search(folded) and not _matches_outside(pattern, exclusion, folded):
            continue
        return intent
    return None


def _matches_outside(pattern: re.Pattern[str], exclusion: re.Pattern[str], folded: str) -> bool:
    """True when the intent still matches with the lookalike phrases cut out ("close a ticket and my account")."""
    return bool(pattern.search(exclusion.sub(" ", folded)))


def _failure_events(turns: Sequence[Turn]) -> list[str]:
    """Failure events since the last assistant answer (older ones were already decided on)."""
    recent: list[str] = []
    for turn in reversed(turns):
        if turn.role == "assistant":
            break
        if turn.role == "event":
            folded = lexicon.fold(turn.text)
            if lexicon.FAILURE_EVENT.search(folded) and not lexicon.BENIGN_EVENT.search(folded):
                recent.append(turn.text)
    return recent


def _low_confidence_streak(turns: Sequence[Turn], policy: EscalationPolicy) -> int:
    streak = 0
    for turn in reversed([t for t in turns if t.role == "assistant"]):
        if not _is_low_confidence(turn, policy):
            break
        streak += 1
    return streak


def _is_low_confidence(turn: Turn, policy: EscalationPolicy) -> bool:
    if turn.confidence is not None:
        return turn.confidence < policy.low_confidence_below
    # Transcripts without scores: a reply that says it could not answer counts as low confidence.
    return bool(lexicon.NO_ANSWER.search(lexicon.fold(turn.text)))


def _rephrase_streak(turns: Sequence[Turn], policy: EscalationPolicy) -> int:
    """How many of the latest user turns in a row ask the same thing in other words (1 = no rephrasing).

    A confident answer in between breaks the streak: a follow-up on a good answer is not a rephrasing.
    """
    positions = [i for i, t in enumerate(turns) if t.role == "user"]
    if not positions:
        return 0
    streak = 1
    for older, newer in zip(reversed(positions[:-1]), reversed(positions[1:]), strict=True):
        answered = any(t.role == "assistant" and _is_confident(t, policy) for t in turns[older + 1 : newer])
        if answered or similarity(turns[older].text, turns[newer].text) < policy.rephrase_similarity:
            break
        streak += 1
    return streak


def _is_confident(turn: Turn, policy: EscalationPolicy) -> bool:
    if turn.confidence is not None:
        return turn.confidence >= policy.low_confidence_below
    return bool(_CITED.search(turn.text)) and not lexicon.NO_ANSWER.search(lexicon.fold(turn.text))


def similarity(first: str, second: str) -> float:
    """Similarity of two user messages in [0, 1]: the better of content-word overlap and character overlap."""
    a, b = lexicon.fold(first), lexicon.fold(second)
    words_a = {w for w in _WORD.findall(a) if w not in _STOP}
    words_b = {w for w in _WORD.findall(b) if w not in _STOP}
    if not words_a or not words_b:
        return 0.0
    jaccard = len(words_a & words_b) / len(words_a | words_b)
    return max(jaccard, SequenceMatcher(None, a, b).ratio())


def _frustration(raw: str, folded: str, low_streak: int, policy: EscalationPolicy) -> dict[str, Any]:
    cues: list[str] = []
    if lexicon.SARCASM.search(folded):
        cues.append("sarcasm")
    if lexicon.FRUSTRATION.search(folded):
        cues.append("frustration words")
    if _shouting(raw, policy):
        cues.append("all caps")
    compound = sentiment(raw)
    directed = bool(lexicon.DIRECTED_AT_BOT.search(folded))
    negative = compound <= policy.negative_sentiment_below and directed
    # A milder negative tone counts when the bot has already failed the user at least once.
    repeated_failure = low_streak >= 1 and compound <= policy.frustrated_sentiment_below and directed
    if negative:
        cues.append(f"negative sentiment {compound:.2f}")
    elif repeated_failure:
        cues.append(f"negative after a failed answer {compound:.2f}")
    return {"frustrated": bool(cues), "cues": cues, "sentiment": round(compound, 3)}


def _shouting(raw: str, policy: EscalationPolicy) -> bool:
    words = [w for w in _LETTERS.findall(raw) if w.upper() not in lexicon.ACRONYMS]
    shouted = [w for w in words if w.isupper()]
    return len(shouted) >= policy.shouting_words and len(shouted) >= 0.6 * len(words)


def sentiment(text: str) -> float:
    """VADER's compound score in [-1, 1] (English lexicon; other languages lean on the frustration rules)."""
    return float(_analyzer().polarity_scores(text)["compound"])


@once
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()
