"""A scripted run of 100 conversations with known outcomes gives exactly the expected KPIs (issue 10).

The expectations below are worked out by hand from the script, not by calling the code under test.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from keel.analytics.kpis import build_report, classify, is_confirmation, percentile, report_from_source
from keel.analytics.memory import InMemoryAnalyticsSource
from keel.analytics.ports import ConversationRecord, FeedbackItem
from keel.conversations.ports import Conversation, StoredMessage

UNTIL = datetime(2026, 11, 8, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)
COST = 2**-10  # exactly representable, so sums are exact


def _conversation(i: int) -> ConversationRecord:
    """Conversation i of the script (see the table in the module's tests for what each range is)."""
    if i >= 90:
        created = UNTIL - timedelta(minutes=20) + timedelta(seconds=i)
    else:
        created = SINCE + timedelta(days=i % 7, hours=9, minutes=i)
    cid = f"conv-{i:04d}"
    bot, query, meta = _plan(i)
    later = (created + timedelta(minutes=1)).isoformat()
    messages = [
        StoredMessage(cid, f"u-{i}", 0, "user", query, created.isoformat(), {}),
        StoredMessage(cid, f"a-{i}", 1, "assistant", "answer", later, {"latency_ms": 100 + i, **meta}),
    ]
    if 40 <= i < 50:
        messages.append(StoredMessage(cid, f"c-{i}", 2, "user", "Thanks, that worked!", later, {}))
    feedback: list[FeedbackItem] = []
    if i < 40:
        feedback.append(FeedbackItem(cid, f"a-{i}", "up", 5 if i % 2 == 0 else 4, later))
    elif 50 <= i < 55:
        feedback.append(FeedbackItem(cid, f"a-{i}", "up", 3, later))
    elif 70 <= i < 75:
        feedback.append(FeedbackItem(cid, f"a-{i}", "down", 2, later))
    status = "escalated" if 50 <= i < 60 else "open"  # half the escalations also show on the header
    return ConversationRecord(
        Conversation(cid, f"user-{i}", bot, "web" if i % 2 else "api", created.isoformat(), status),
        tuple(messages),
        tuple(feedback),
    )


def _answer(outcome: str, confidence: float, grounded: bool = True) -> dict[str, Any]:
    return {
        "outcome": outcome,
        "confidence": confidence,
        "grounded": grounded,
        "input_tokens": 100,
        "output_tokens": 20,
        "cost_usd": COST,
        "model_id": "primary",
    }


def _plan(i: int) -> tuple[str, str, dict[str, Any]]:
    """bot, first query and the assistant meta of conversation i."""
    if i < 50:  # resolved: 0-39 by a thumbs up, 40-49 by the user's confirmation
        return "hr", "How many vacation days do I get?", _answer("answered", 0.9)
    if i < 70:  # escalated (high-risk intent: no model call)
        meta = {"outcome": "escalated", "confidence": 0.0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
        return "customer", "I want to close my account", meta
    if i < 80:  # abandoned after a no-answer
        return "it", "How do I reset my VPN token?", _answer("no_answer", 0.0)
    if i < 84:  # abandoned after an ungrounded, low-confidence answer
        return "hr", "What is the parental leave policy?", _answer("answered", 0.3, grounded=False)
    if i < 88:  # abandoned during a model outage
        meta = {"outcome": "maintenance", "confidence": 0.0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
        return "finance", "Expense report deadline", meta
    if i < 90:  # abandoned after a good answer
        return "it", "Printer on floor three", _answer("answered", 0.8)
    return "sales", "Quote template for renewals", _answer("degraded", 0.7)  # still open


@pytest.fixture(scope="module")
def report() -> Any:
    """The report over the scripted run, plus two conversations outside the window."""
    records = [_conversation(i) for i in range(100)]
    before = Conversation("conv-before", "u", "hr", "api", (SINCE - timedelta(seconds=1)).isoformat())
    after = Conversation("conv-after", "u", "hr", "api", UNTIL.isoformat())
    source = InMemoryAnalyticsSource([*records, ConversationRecord(before), ConversationRecord(after)])
    return report_from_source(source, timedelta(days=7), now=UNTIL)


def test_outcomes_of_the_scripted_run(report: Any) -> None:
    # Given 50 resolved, 20 escalated, 20 abandoned and 10 open conversations in the window
    totals = report.totals
    assert totals.conversations == 100
    assert totals.outcomes == {"resolved": 50, "escalated": 20, "abandoned": 20, "open": 10}


def test_rates_use_ended_conversations_as_denominator(report: Any) -> None:
    totals = report.totals
    assert totals.deflection_rate == 70 / 90
    assert totals.resolution_rate == 50 / 90
    assert totals.escalation_rate == 20 / 90
    assert totals.abandonment_rate == 20 / 90


def test_csat_and_thumbs(report: Any) -> None:
    totals = report.totals
    # 20 fives + 20 fours + 5 threes + 5 twos over 50 responses
    assert totals.csat_responses == 50
    assert totals.csat_average == (20 * 5 + 20 * 4 + 5 * 3 + 5 * 2) / 50
    assert totals.csat_satisfied_rate == 40 / 50
    assert (totals.thumbs_up, totals.thumbs_down) == (45, 5)


def test_turn_kpis(report: Any) -> None:
    totals = report.totals
    assert totals.turns == 100
    # latencies are 100..199 ms: nearest rank 50 is 149, nearest rank 95 is 194
    assert (totals.latency_p50_ms, totals.latency_p95_ms) == (149.0, 194.0)
    # answers exclude the 20 escalations and the 4 outages; 4 of the 76 were ungrounded
    assert totals.answers == 76
    assert totals.hallucination_rate == 4 / 76
    assert (totals.errors, totals.error_rate) == (4, 4 / 100)
    assert totals.tokens == 76 * 120
    assert totals.tokens_per_query == 76 * 120 / 100
    assert totals.cost_usd == 76 * COST
    assert totals.cost_per_conversation == 76 * COST / 100
    assert totals.low_confidence == 14


def test_daily_series_covers_every_day_of_the_window(report: Any) -> None:
    assert [d.isoformat() for d, _ in report.daily] == [f"2026-11-0{n}" for n in range(1, 8)]
    # i % 7 spreads conversations 0..89 as 13 a day (12 on the last day), plus the 10 open ones that day
    assert [k.conversations for _, k in report.daily] == [13, 13, 13, 13, 13, 13, 22]
    assert sum(k.outcomes["open"] for _, k in report.daily) == 10
    assert report.daily[6][1].outcomes["open"] == 10


def test_per_bot_breakdown(report: Any) -> None:
    assert {bot: k.conversations for bot, k in report.by_bot.items()} == {
        "customer": 20,
        "finance": 4,
        "hr": 54,
        "it": 12,
        "sales": 10,
    }
    assert report.by_bot["customer"].escalation_rate == 1.0
    assert report.by_bot["finance"].error_rate == 1.0


def test_low_confidence_queries_grouped_by_topic(report: Any) -> None:
    groups = [(g.label, g.count) for g in report.low_confidence_topics]
    assert groups == [("it: reset token", 10), ("hr: leave parental", 4)]
    assert report.low_confidence_topics[0].examples == ("How do I reset my VPN token?",)


def test_unresolved_queries_grouped_by_topic(report: Any) -> None:
    groups = [(g.label, g.count) for g in report.unresolved_topics]
    assert groups == [
        ("customer: account close", 20),
        ("it: reset token", 10),
        ("finance: deadline expense", 4),
        ("hr: leave parental", 4),
        ("it: floor printer", 2),
    ]


def test_report_serialises_to_json_types(report: Any) -> None:
    data = report.to_dict()
    assert data["totals"]["outcomes"]["resolved"] == 50
    assert data["daily"][0]["date"] == "2026-11-01"
    assert data["abandon_after_minutes"] == 30
    assert data["unresolved_topics"][0]["topic"] == "customer: account close"


def test_empty_window_has_no_rates() -> None:
    report = build_report([], SINCE, UNTIL)
    assert report.totals.conversations == 0
    assert report.totals.deflection_rate is None
    assert report.totals.csat_average is None
    assert report.totals.latency_p95_ms is None
    assert report.totals.cost_per_conversation is None


def test_escalation_wins_over_positive_feedback() -> None:
    record = _conversation(50)
    assert record.feedback[0].rating == "up"
    assert classify(record, UNTIL) == "escalated"


def test_an_agent_message_marks_the_conversation_escalated() -> None:
    base = _conversation(88)
    cid, at = base.conversation.conversation_id, base.messages[0].created_at
    agent = StoredMessage(cid, "g", 2, "agent", "Hi, I'm Ana", at)
    assert classify(base, UNTIL) == "abandoned"
    assert classify(ConversationRecord(base.conversation, (*base.messages, agent)), UNTIL) == "escalated"


def test_abandonment_waits_for_the_inactivity_period() -> None:
    record = _conversation(88)
    last = datetime.fromisoformat(record.messages[-1].created_at)
    assert classify(record, last + timedelta(minutes=29, seconds=59)) == "open"
    assert classify(record, last + timedelta(minutes=30)) == "abandoned"
    assert classify(record, last + timedelta(minutes=5), abandon_after=timedelta(minutes=5)) == "abandoned"


def test_csat_alone_resolves_unless_thumbs_down() -> None:
    base = _conversation(88)
    cid = base.conversation.conversation_id
    at = base.messages[-1].created_at
    happy = ConversationRecord(base.conversation, base.messages, (FeedbackItem(cid, "a-88", None, 4, at),))
    mixed = ConversationRecord(base.conversation, base.messages, (FeedbackItem(cid, "a-88", "down", 5, at),))
    assert classify(happy, UNTIL) == "resolved"
    assert classify(mixed, UNTIL) == "abandoned"


def test_a_resolved_event_from_the_channel_counts_as_confirmation() -> None:
    base = _conversation(88)
    event = StoredMessage(
        base.conversation.conversation_id, "e", 2, "event", "resolved", base.messages[-1].created_at, {"resolved": True}
    )
    assert classify(ConversationRecord(base.conversation, (*base.messages, event)), UNTIL) == "resolved"


def test_thanks_before_any_answer_is_not_a_confirmation() -> None:
    base = _conversation(88)
    cid, at = base.conversation.conversation_id, base.messages[0].created_at
    only_user = (StoredMessage(cid, "x", 0, "user", "Thanks!", at),)
    assert classify(ConversationRecord(base.conversation, only_user), UNTIL) == "abandoned"


@pytest.mark.parametrize(
    "text",
    ["Thanks, that worked!", "thank you", "That helped", "ok thanks", "Perfect, thanks!", "problem solved", "got it"],
)
def test_confirmations(text: str) -> None:
    assert is_confirmation(text)


@pytest.mark.parametrize(
    "text",
    ["thanks, but that did not help", "that did not work", "no thanks", "How do I get a thanks card?", ""],
)
def test_not_confirmations(text: str) -> None:
    assert not is_confirmation(text)


def test_nearest_rank_percentile() -> None:
    assert percentile([], 0.95) is None
    assert percentile([5.0], 0.5) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == 4.0


def test_malformed_meta_values_count_as_zero() -> None:
    base = _conversation(0)
    cid, at = base.conversation.conversation_id, base.messages[0].created_at
    meta = {"outcome": "answered", "confidence": "high", "input_tokens": None, "cost_usd": True, "latency_ms": "x"}
    messages = (base.messages[0], StoredMessage(cid, "a", 1, "assistant", "answer", at, meta))
    report = build_report([ConversationRecord(base.conversation, messages)], SINCE, UNTIL)
    assert (report.totals.tokens, report.totals.cost_usd, report.totals.latency_p50_ms) == (0, 0.0, None)
    assert report.totals.low_confidence == 1
