"""The agent queue's order and language (issue 20): urgency from the reason, then age; the user's language."""

from __future__ import annotations

from keel.escalation.records import EscalationRecord
from keel.escalation.triage import UNKNOWN, Triage, language, ordered, urgency


def record(cid: str, reason: str, created_at: str, summary: str = "") -> EscalationRecord:
    return EscalationRecord(cid, f"e-{cid}", "it", reason, "", "general", summary, {}, created_at)


def test_risky_and_angry_conversations_come_before_requests_and_low_confidence() -> None:
    assert urgency("high_risk_intent") == urgency("negative_sentiment") == "high"
    assert urgency("explicit_request") == urgency("system_failure") == "normal"
    assert urgency("low_confidence") == "low"
    assert urgency("a_reason_added_later") == "normal"


def test_queue_is_most_urgent_first_then_longest_waiting_first() -> None:
    rows = ordered(
        [
            record("low-old", "low_confidence", "2026-12-01T08:00:00+00:00"),
            record("ask-new", "explicit_request", "2026-12-01T10:00:00+00:00"),
            record("risk-new", "high_risk_intent", "2026-12-01T11:00:00+00:00"),
            record("ask-old", "explicit_request", "2026-12-01T09:00:00+00:00"),
            record("angry-old", "negative_sentiment", "2026-12-01T07:00:00+00:00"),
        ]
    )
    assert [r.conversation_id for r, _ in rows] == ["angry-old", "risk-new", "ask-old", "ask-new", "low-old"]


def test_language_of_what_the_user_wrote() -> None:
    assert language("Ich möchte bitte mit einem Menschen sprechen, mein Konto ist gesperrt") == "de"
    assert language("Je voudrais parler à quelqu'un, mon compte est bloqué") == "fr"
    assert language("My VPN drops every hour and I want to talk to a person") == "en"


def test_short_or_placeholder_only_text_has_no_language() -> None:
    assert language("help!") == UNKNOWN
    assert language("<EMAIL_1> <PHONE_NUMBER_2> <PERSON_1>") == UNKNOWN
    assert language("") == UNKNOWN


def test_triage_fields_name_the_language_for_people() -> None:
    assert Triage("high", "de").fields() == {"urgency": "high", "language": "de", "language_name": "German"}
    assert Triage("low", UNKNOWN).language_name == "unknown language"
    assert Triage("low", "sw").language_name == "sw"  # no name on file: the code, not a guess
