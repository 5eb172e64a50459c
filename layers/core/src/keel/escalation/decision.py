"""The escalation decision (R17): pure, per-bot thresholds, one reason recorded for every answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from difflib import SequenceMatcher
from itertools import pairwise
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from keel.escalation import lexicon
from keel.escalation.heads import (
    HEADS,
    HIGH_RISK_HEADS,
    VULNERABILITY_KINDS,
    ConversationFeatures,
    HeadScores,
    packaged_heads,
)
from keel.escalation.language import detect as detect_language
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
Urgency = Literal["normal", "high", "urgent"]
URGENCIES: tuple[Urgency, ...] = ("urgent", "high", "normal")
# Kinds of vulnerability that cannot wait for the queue, and intents an agent should see before routine ones.
URGENT_KINDS = frozenset({"self_harm", "safety"})
INTENT_URGENCY: dict[str, Urgency] = {"fraud": "high", "legal_threat": "high"}
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
    # A turn the input screen refused (the message and its refusal): kept for the person who takes over, never given
    # to the second stage's model (tests/security/test_refused_turns.py).
    refused: bool = False


class EscalationPolicy(BaseModel):
    """Per-bot thresholds; the defaults suit a general employee assistant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low_confidence_below: float = Field(default=0.35, ge=0.0, le=1.0)
    low_confidence_turns: int = Field(default=3, ge=1, le=20)
    rephrase_similarity: float = Field(default=0.6, gt=0.0, le=1.0)
    rephrase_cosine: float = Field(default=0.75, gt=0.0, le=1.0)
    rephrase_turns: int = Field(default=3, ge=2, le=20)
    negative_sentiment_below: float = Field(default=-0.7, ge=-1.0, le=0.0)
    frustrated_sentiment_below: float = Field(default=-0.25, ge=-1.0, le=1.0)
    failure_events: int = Field(default=1, ge=1, le=20)
    high_risk_intents: frozenset[str] = frozenset(HIGH_RISK_INTENTS)
    shouting_words: int = Field(default=3, ge=1, le=50)
    # The trained heads (keel.escalation.heads) beside the phrase patterns; off means the patterns alone.
    semantic: bool = True


class Decision(BaseModel):
    """Escalate or not, why, how urgently, in which language, and the evidence; recorded on every turn."""

    model_config = ConfigDict(frozen=True)

    escalate: bool
    reason: Reason
    detail: str = ""
    intent: str = "general"
    urgency: Urgency = "normal"
    language: str = "und"
    signals: dict[str, Any] = Field(default_factory=dict)


class Scorer(Protocol):
    """The intent heads as the decision needs them (keel.escalation.heads.IntentHeads)."""

    def score(self, text: str, features: ConversationFeatures) -> HeadScores:
        """Every head's probability for one user message in its conversation."""
        ...

    def encode(self, texts: Sequence[str]) -> Any:
        """Unit-length embeddings of several texts."""
        ...


class SecondOpinion(Protocol):
    """A second stage asked only in the uncertainty band (keel.escalation.second_stage)."""

    def judge(self, turns: Sequence[Turn], candidates: Sequence[str]) -> Any:
        """A verdict (escalate, reason, intent, urgency, language, cost_usd) or None when it cannot tell in time."""
        ...


def decide(
    turns: Sequence[Turn],
    policy: EscalationPolicy | None = None,
    *,
    heads: Scorer | None = None,
    second_opinion: SecondOpinion | None = None,
) -> Decision:
    """Whether the conversation so far should go to a human, by the first reason that holds in priority order.

    Signs of self-harm first (pattern or head: urgent). Then the high-precision phrase patterns in reason
    order: vulnerability, explicit requests (always honoured), high-risk intents, system events, frustration.
    Then the trained heads in the same order, then low confidence over several turns. The second stage,
    when there is one, is asked only when no reason holds and a head came within its uncertainty band.
    """
    policy = policy or EscalationPolicy()
    users = [t for t in turns if t.role == "user"]
    last_user = users[-1].text if users else ""
    folded = lexicon.fold(last_user)
    rule_intents = _rule_intents(folded, policy) if last_user else []
    failures = _failure_events(turns)
    scorer = (heads or packaged_heads()) if policy.semantic and last_user else None
    features = conversation_features(turns, policy, scorer)
    low_streak, rephrases = features.hedges, features.rephrases
    signals: dict[str, Any] = {
        "failure_events": len(failures),
        "low_confidence_streak": low_streak,
        "rephrase_streak": rephrases,
        "asked_after_hedge": _asked_after_hedge(turns, policy),
    }
    language = detect_language([u.text for u in users]) if users else "und"
    scores: HeadScores | None = None
    if scorer is not None:
        scores = scorer.score(last_user, features)
        signals["heads"] = scores.rounded()
    found = _by_priority(last_user, folded, rule_intents, scores, failures, low_streak, rephrases, policy, signals)
    if found is None and scores is not None and second_opinion is not None and scores.uncertain():
        found = _second_opinion(second_opinion, turns, scores, signals)
    if found is None:
        return Decision(escalate=False, reason="none", language=language, signals=signals)
    return found.model_copy(update={"language": language, "signals": signals})


def conversation_features(
    turns: Sequence[Turn], policy: EscalationPolicy | None = None, scorer: Scorer | None = None
) -> ConversationFeatures:
    """The bot's hedges in a row, the user's repeated questions, and uncertain system events."""
    policy = policy or EscalationPolicy()
    return ConversationFeatures(
        hedges=_low_confidence_streak(turns, policy),
        rephrases=_rephrase_streak(turns, policy, _embeddings(turns, policy, scorer)),
        uncertain_event=any(uncertain for _, uncertain in _failure_events(turns)),
    )


def _embeddings(turns: Sequence[Turn], policy: EscalationPolicy, scorer: Scorer | None) -> dict[str, Any]:
    """The embeddings the decision needs, from ONE encoder call: the latest user message and the earlier user
    messages the rephrase check may compare it with (the last few, back to a confident answer). Only user
    messages are embedded, never the assistant's replies; in a turn the input screen has already embedded
    all of them (the message and the recent user turns), so the encoder's cache answers."""
    if scorer is None:
        return {}
    window = _rephrase_window(turns, policy)
    if not window:
        return {}
    texts = list(dict.fromkeys(turns[i].text for i in window))
    return dict(zip(texts, scorer.encode(texts), strict=True))


def _rephrase_window(turns: Sequence[Turn], policy: EscalationPolicy) -> list[int]:
    """Positions of the latest user turns the rephrase streak can span, newest first."""
    positions = [i for i, t in enumerate(turns) if t.role == "user"]
    if not positions:
        return []
    window = [positions[-1]]
    for older, newer in zip(reversed(positions[:-1]), reversed(positions[1:]), strict=True):
        if len(window) >= policy.rephrase_turns:
            break
        if any(t.role == "assistant" and _is_confident(t, policy) for t in turns[older + 1 : newer]):
            break
        window.append(older)
    return window


def _by_priority(
    last_user: str,
    folded: str,
    rule_intents: list[str],
    scores: HeadScores | None,
    failures: list[tuple[str, bool]],
    low_streak: int,
    rephrases: int,
    policy: EscalationPolicy,
    signals: dict[str, Any],
) -> Decision | None:
    """Signs of self-harm first; then the phrase patterns (high precision) in reason order; then the heads."""
    # The look-alike guards of the phrase patterns ("human resources", "close a ticket", "fraud awareness
    # training") hold for the heads too: a head never fires on a message that only has the look-alike use.
    heads = {h for h in HEADS if scores is not None and scores.fires(h)} - _guarded(folded)
    distress = _self_harm(folded, heads) if last_user else None
    if distress is not None:
        return distress
    if last_user and "vulnerable_customer" in rule_intents:
        return _vulnerable(scores.vulnerability if scores is not None else "vulnerable_customer")
    rule_risk = next((i for i in rule_intents if i != "vulnerable_customer"), None)
    if last_user and _explicit_request(folded):
        return _explicit(rule_risk, "the user asked for a human")
    # An indirect request ("could someone ring me back?") is always honoured too; fraud the heads or patterns see
    # in the same message names the reason instead ("a fake bank app took my money, can someone call me?").
    indirect = bool(last_user) and _explicit_indirect(folded)
    if indirect and rule_risk != "fraud" and "fraud" not in heads:
        return _explicit(rule_risk, "the user asked for a person (indirectly)")
    if rule_risk:
        return _high_risk(rule_risk, "phrase")
    if len(failures) >= policy.failure_events:
        text, uncertain = failures[-1]
        prefix = "system event with an uncertain outcome" if uncertain else "system event"
        return Decision(escalate=True, reason="system_failure", detail=f"{prefix}: {text[:200]}")
    frustration = _frustration(last_user, folded, low_streak, policy) if last_user else {}
    signals.update(frustration)
    if frustration.get("frustrated"):
        return Decision(escalate=True, reason="negative_sentiment", detail=", ".join(frustration["cues"]))
    if scores is not None:
        found = _by_heads(scores, heads, policy)
        if found is not None:
            return found
    if indirect:
        return _explicit(None, "the user asked for a person (indirectly)")
    # The decision runs before the bot answers the latest message: a user asking again after the bot hedged
    # low_confidence_turns - 1 times in a row would otherwise read the last hedge before anyone could help.
    asked_again = low_streak >= 1 and signals.get("asked_after_hedge", False)
    if low_streak + asked_again >= policy.low_confidence_turns or rephrases >= policy.rephrase_turns:
        detail = (
            f"{low_streak} low-confidence answers in a row" + (" and the user asked again" if asked_again else "")
            if low_streak + asked_again >= policy.low_confidence_turns
            else f"the user rephrased the same question {rephrases} times"
        )
        return Decision(escalate=True, reason="low_confidence", detail=detail)
    return None


def _self_harm(folded: str, heads: set[str]) -> Decision | None:
    """Words of self-harm, or the self-harm head; a plain request for a person that only the head hears distress in
    is handed over urgently with a note, not answered with crisis lines."""
    if lexicon.SELF_HARM.search(folded) or ("self_harm" in heads and not _explicit_request(folded)):
        return _vulnerable("self_harm")
    if "self_harm" in heads:
        return Decision(
            escalate=True,
            reason="explicit_request",
            detail="the user asked for a human; the self-harm head also fired, so the handoff is urgent",
            urgency="urgent",
        )
    return None


def _guarded(folded: str) -> set[str]:
    """Heads whose look-alike guard matches the message and whose own phrase pattern does not match outside it."""
    guarded: set[str] = set()
    if folded and lexicon.EXPLICIT_EXCLUSIONS.search(folded):
        guarded.add("explicit_request")
    for intent, exclusion in lexicon.HIGH_RISK_EXCLUSIONS.items():
        if not folded or not exclusion.search(folded):
            continue
        pattern = lexicon.HIGH_RISK.get(intent)
        if pattern is None or not _matches_outside(pattern, exclusion, folded):
            guarded.add(intent)
    return guarded


def _by_heads(scores: HeadScores, heads: set[str], policy: EscalationPolicy) -> Decision | None:
    risky = _strongest_high_risk(scores, heads, policy)
    # Both heads fired on a plain request for a person that is not urgent: the stronger margin names the reason (a
    # repeated "a person, please" after links is not a sign of cognitive impairment).
    if (
        {"vulnerable_customer", "explicit_request"} <= heads
        and scores.vulnerability not in URGENT_KINDS
        and scores.margin("explicit_request") >= scores.margin("vulnerable_customer")
    ):
        return _explicit(risky, "the user asked for a human (in other words)")
    if "vulnerable_customer" in heads:
        # Fraud told with distress ("I'm shaking, my savings are gone") also lights the vulnerability head: the
        # tie-break learnt on the train split sends it to fraud, except for signs that cannot wait.
        if risky == "fraud" and scores.vulnerability not in URGENT_KINDS and scores.fraud_not_vulnerability():
            return _high_risk("fraud", "heads, over vulnerability")
        return _vulnerable(scores.vulnerability)
    if "explicit_request" in heads:
        return _explicit(risky, "the user asked for a human (in other words)")
    if risky:
        return _high_risk(risky, "heads")
    if "negative_sentiment" in heads:
        tone = scores.probabilities["negative_sentiment"]
        return Decision(escalate=True, reason="negative_sentiment", detail=f"strongly negative tone ({tone:.2f})")
    return None


def _vulnerable(kind: str) -> Decision:
    return Decision(
        escalate=True,
        reason="vulnerable_customer",
        detail=f"vulnerable customer: {kind.replace('_', ' ')}",
        intent=kind,
        urgency="urgent" if kind in URGENT_KINDS else "high",
    )


def _explicit(risky: str | None, detail: str) -> Decision:
    return Decision(
        escalate=True,
        reason="explicit_request",
        detail=detail,
        intent=risky or "general",
        urgency=INTENT_URGENCY.get(risky or "", "normal"),
    )


def _high_risk(intent: str, by: str) -> Decision:
    return Decision(
        escalate=True,
        reason="high_risk_intent",
        detail=f"high-risk intent: {intent} ({by})",
        intent=intent,
        urgency=INTENT_URGENCY.get(intent, "normal"),
    )


def _strongest_high_risk(scores: HeadScores, heads: set[str], policy: EscalationPolicy) -> str | None:
    fired = [h for h in HIGH_RISK_HEADS if h in heads and h in policy.high_risk_intents]
    return max(fired, key=scores.margin) if fired else None


def _second_opinion(
    judge: SecondOpinion, turns: Sequence[Turn], scores: HeadScores, signals: dict[str, Any]
) -> Decision | None:
    candidates = scores.uncertain()
    verdict = judge.judge([t for t in turns if not t.refused], candidates)
    signals["second_stage"] = {"asked": True, "candidates": candidates}
    if verdict is None:
        signals["second_stage"]["outcome"] = "no verdict (fell back to the local decision)"
        return None
    signals["second_stage"].update(
        outcome=verdict.reason,
        model_urgency=verdict.urgency,
        model_language=verdict.language,
        cost_usd=verdict.cost_usd,
        latency_ms=verdict.latency_ms,
    )
    if not verdict.escalate or verdict.reason == "none":
        return None
    # The model reads text the user wrote, so it never sets the urgency itself: a user who talks it into
    # "urgent" must not jump the agent queue. Urgency follows from the reason and intent, as for the heads.
    if verdict.reason == "vulnerable_customer":
        kind = verdict.intent if verdict.intent in VULNERABILITY_KINDS else "vulnerable_customer"
        return _vulnerable(kind).model_copy(update={"detail": f"second stage: vulnerable customer ({kind})"})
    intent = verdict.intent if verdict.intent in HIGH_RISK_HEADS else "general"
    return Decision(
        escalate=True,
        reason=verdict.reason,
        detail=f"second stage: {verdict.reason.replace('_', ' ')}",
        intent=intent,
        urgency=INTENT_URGENCY.get(intent, "normal"),
    )


def first_escalation(
    turns: Sequence[Turn], policy: EscalationPolicy | None = None, *, heads: Scorer | None = None
) -> Decision:
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
        decision = decide(turns[: index + 1], policy, heads=heads)
        if decision.escalate:
            return decision
    return decision


def _explicit_request(folded: str) -> bool:
    asked = lexicon.EXPLICIT_REQUEST.search(folded) or lexicon.BARE_PERSON_REQUEST.search(folded)
    return bool(asked) and not lexicon.EXPLICIT_EXCLUSIONS.search(folded)


def _explicit_indirect(folded: str) -> bool:
    return bool(lexicon.EXPLICIT_INDIRECT.search(folded)) and not lexicon.EXPLICIT_EXCLUSIONS.search(folded)


def _rule_intents(folded: str, policy: EscalationPolicy) -> list[str]:
    """High-risk intents (vulnerable_customer among them) whose phrase pattern matches outside a lookalike."""
    found: list[str] = []
    for intent, pattern in lexicon.HIGH_RISK.items():
        if intent not in policy.high_risk_intents or not pattern.search(folded):
            continue
        exclusion = lexicon.HIGH_RISK_EXCLUSIONS.get(intent)
        if exclusion is not None and exclusion.search(folded) and not _matches_outside(pattern, exclusion, folded):
            continue
        found.append(intent)
    return found


def _matches_outside(pattern: re.Pattern[str], exclusion: re.Pattern[str], folded: str) -> bool:
    """True when the intent still matches with the lookalike phrases cut out ("close a ticket and my account")."""
    return bool(pattern.search(exclusion.sub(" ", folded)))


def _failure_events(turns: Sequence[Turn]) -> list[tuple[str, bool]]:
    """Failure events since the last assistant answer, each with whether its outcome is uncertain."""
    recent: list[tuple[str, bool]] = []
    for turn in reversed(turns):
        if turn.role == "assistant":
            break
        if turn.role == "event":
            folded = lexicon.event_form(turn.text)
            uncertain = bool(lexicon.UNCERTAIN_EVENT.search(folded))
            if uncertain or (lexicon.FAILURE_EVENT.search(folded) and not lexicon.BENIGN_EVENT.search(folded)):
                recent.append((turn.text, uncertain))
    return recent


def _asked_after_hedge(turns: Sequence[Turn], policy: EscalationPolicy) -> bool:
    """True when the transcript ends on a user message that follows a low-confidence answer."""
    spoken = [t for t in turns if t.role in ("user", "assistant")]
    return (
        len(spoken) >= 2
        and spoken[-1].role == "user"
        and spoken[-2].role == "assistant"
        and _is_low_confidence(spoken[-2], policy)
    )


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


def _rephrase_streak(turns: Sequence[Turn], policy: EscalationPolicy, vectors: dict[str, Any] | None = None) -> int:
    """How many of the latest user turns in a row ask the same thing in other words (1 = no rephrasing).

    A confident answer in between breaks the streak: a follow-up on a good answer is not a rephrasing.
    With the heads, two messages also count as the same question when their embeddings are close, which
    catches rephrasings that share no words (`vectors`: the embeddings computed once for the turn).
    """
    window = _rephrase_window(turns, policy)
    if not window:
        return 0
    streak = 1
    for newer, older in pairwise(window):
        if not _same_question(turns[older].text, turns[newer].text, policy, vectors or {}):
            break
        streak += 1
    return streak


def _same_question(first: str, second: str, policy: EscalationPolicy, vectors: dict[str, Any]) -> bool:
    if similarity(first, second) >= policy.rephrase_similarity:
        return True
    if first not in vectors or second not in vectors:
        return False
    return float(vectors[first] @ vectors[second]) >= policy.rephrase_cosine


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
