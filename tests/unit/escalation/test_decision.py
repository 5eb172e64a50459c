"""The escalation decision: every reason, multilingual explicit requests, lookalikes, priorities, per-bot policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.escalation import EscalationPolicy, Turn, decide, first_escalation, lexicon
from keel.escalation.evaluation import read_rows, report

LABELLED = Path(__file__).resolve().parents[3] / "evals" / "escalation" / "labelled.jsonl"
NO_ANSWER = "I could not find this in the sources available to me."


def user(text: str) -> Turn:
    return Turn(role="user", text=text)


def bot(text: str, confidence: float | None = None) -> Turn:
    return Turn(role="assistant", text=text, confidence=confidence)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "ICH MÖCHTE MIT EINEM MITARBEITER SPRECHEN",
        "Je voudrais parler à un conseiller",
        "je voudrais parler a un conseiller",
        "Quiero hablar con una persona",
        "Vorrei parlare con un operatore",
        "Quero falar com um atendente",
        "Ik wil graag een medewerker spreken",
    ],
)
def test_explicit_requests_are_honoured_in_every_supported_language(text: str) -> None:
    decision = decide([user(text)])
    assert (decision.escalate, decision.reason) == (True, "explicit_request")


@pytest.mark.parametrize(
    "text",
    [
        "How do I close a ticket?",
        "When is the fraud awareness training due?",
        "What is GDPR?",
        "Who in human resources handles parental leave?",
        "How do I become a support agent?",
        "How do I kill the process that freezes Excel?",
        "My VPN is not working, how do I fix it?",
        "Great, thanks! That solved it.",
    ],
)
def test_lookalikes_do_not_escalate(text: str) -> None:
    assert decide([user(text)]).escalate is False


def test_closing_a_ticket_and_the_account_in_one_message_is_still_account_closure() -> None:
    decision = decide([user("Please close the ticket and close my account as well")])
    assert (decision.reason, decision.intent) == ("high_risk_intent", "account_closure")


def test_an_explicit_request_wins_over_every_other_signal() -> None:
    turns = [
        user("where is my payslip"),
        bot(NO_ANSWER, 0.0),
        Turn(role="event", text="payroll API timed out"),
        user("YOU ARE USELESS. I was charged twice, let me talk to a person"),
    ]
    decision = decide(turns)
    assert decision.reason == "explicit_request"
    assert decision.intent == "billing_dispute"  # still recorded for the ticket


def test_two_low_confidence_answers_and_a_third_ask_escalate_but_one_does_not() -> None:
    # The decision runs before the bot answers the latest message, so the third ask after two hedges is the third
    # low-confidence exchange (policy.low_confidence_turns = 3).
    turns = [user("per diem in Oslo?"), bot("x", 0.1), user("Norway allowance?"), bot("y", 0.2), user("Scandinavia?")]
    assert decide(turns[:3]).escalate is False
    assert decide(turns[:4]).escalate is False
    decision = decide(turns)
    assert (decision.reason, decision.detail) == (
        "low_confidence",
        "2 low-confidence answers in a row and the user asked again",
    )
    assert decide([*turns, bot("z", 0.1)]).reason == "low_confidence"


def test_per_bot_thresholds_change_the_decision() -> None:
    turns = [user("per diem in Oslo?"), bot("x", 0.1), user("Norway allowance?")]
    assert decide(turns).escalate is False
    strict = EscalationPolicy(low_confidence_turns=1)
    assert decide(turns, strict).reason == "low_confidence"
    no_fraud = EscalationPolicy(high_risk_intents=frozenset({"legal_threat"}))
    unrecognised = [user("There are three payments on my card that I never made.")]
    assert decide(unrecognised).reason == "high_risk_intent"
    assert decide(unrecognised, no_fraud).escalate is False


@pytest.mark.parametrize(
    "text",
    [
        "Haha wait, are you a real person or an AI?",
        "bist du ein echter Mensch oder eine KI?",
        "t'es une vraie personne ou une IA ?",
        "czy jesteś prawdziwym człowiekiem czy botem?",
        "Are you a bot or a human?",
    ],
)
def test_asking_whether_the_bot_is_a_person_is_not_a_request_for_one(text: str) -> None:
    assert decide([user(text)]).reason != "explicit_request"


@pytest.mark.parametrize(
    "text",
    [
        "Un umano, grazie.",
        "Een mens graag.",
        "Noch einmal: einen Mitarbeiter, bitte.",
        "Jeszcze raz: konsultant, proszę.",
        "A person please.",
        "I want a human, not a bot",
        "Are you a bot? I want a human.",
    ],
)
def test_a_bare_request_for_a_person_is_honoured_in_any_language(text: str) -> None:
    decision = decide([user(text)])
    assert (decision.escalate, decision.reason) == (True, "explicit_request")


@pytest.mark.parametrize(
    "text",
    [
        "My lawyer friend recommended you, what does the business account cost?",
        "Do you offer fraud-awareness posters for our office?",
        "Mein Anwalt hat mir euch empfohlen, was kostet das Geschäftskonto?",
    ],
)
def test_naming_a_lawyer_or_fraud_in_passing_is_no_phrase_override(text: str) -> None:
    from keel.escalation.decision import _rule_intents

    assert _rule_intents(lexicon.fold(text), EscalationPolicy()) == []


def test_repeated_rephrasing_escalates_unless_the_bot_answered_with_confidence() -> None:
    asks = ["How do I reset my VPN password?", "How can I reset the VPN password?", "how do I reset my VPN password"]
    vague = [t for a in asks for t in (user(a), bot("Try the portal."))][:-1]
    assert decide(vague).reason == "low_confidence"
    confident = [t for a in asks for t in (user(a), bot("Use the portal [it-001].", 0.9))][:-1]
    assert decide(confident).escalate is False


def test_a_failure_event_escalates_and_a_benign_event_does_not() -> None:
    assert decide([user("my orders"), Turn(role="event", text="CRM returned 503")]).reason == "system_failure"
    assert decide([user("my orders"), Turn(role="event", text="session resumed")]).escalate is False


def test_sarcasm_caps_and_third_time_are_frustration() -> None:
    assert decide([user("Great, thanks for nothing.")]).reason == "negative_sentiment"
    assert decide([user("WHY DOES THIS NEVER WORK WHEN I NEED IT")]).reason == "negative_sentiment"
    assert decide([user("this is the third time I ask")]).reason == "negative_sentiment"
    assert decide([user("Is the VPN down for HR and IT?")]).escalate is False  # acronyms are not shouting


def test_replay_reports_the_first_escalation() -> None:
    turns = [user("hi"), bot("hello [x-1]", 0.9), user("I want a human"), bot("ok"), user("thanks")]
    assert first_escalation(turns).reason == "explicit_request"


def test_labelled_set_explicit_requests_are_always_honoured_and_every_reason_scores_at_least_0_9() -> None:
    result = report(read_rows(LABELLED))
    assert result.total >= 120
    explicit = result.score("explicit_request")
    assert explicit.support >= 30 and explicit.recall == 1.0
    for score in result.scores:
        if score.reason == "vulnerable_customer":
            # Its own reason since issue 18; this older set has four such rows (the corpus has the rest).
            assert score.support >= 4 and score.recall == 1.0, (score, result.mistakes)
            continue
        assert score.support >= 10, score.reason
        assert score.precision >= 0.9 and score.recall >= 0.9, (score, result.mistakes)


_PHRASES = st.sampled_from(
    [
        "talk to a human",
        "mit einem Menschen sprechen",
        "parler à un conseiller",
        "hablar con un agente",
        "parlare con un operatore",
        "falar com um atendente",
        "een medewerker spreken",
    ]
)
_NOISE = st.text(alphabet=st.characters(whitelist_categories=("Ll", "Lu", "Nd", "Zs")), max_size=40)


# Every example embeds a new text (about 10 ms), so fewer examples than a pure-rules property would use.
@settings(max_examples=60, deadline=None)
@given(before=_NOISE, phrase=_PHRASES, after=_NOISE, failed=st.integers(0, 4), upper=st.booleans())
def test_an_explicit_request_escalates_whatever_surrounds_it(
    before: str, phrase: str, after: str, failed: int, upper: bool
) -> None:
    text = f"{before} {phrase.upper() if upper else phrase} {after}"
    history = [t for _ in range(failed) for t in (user("where is it"), bot(NO_ANSWER, 0.0))]
    decision = decide([*history, user(text)])
    assert (decision.escalate, decision.reason) == (True, "explicit_request")


@pytest.mark.parametrize(
    "text",
    [
        "Ich möchte mit einem Mitarbeiter oder einem Vorgesetzten sprechen.",
        "Ik wil graag een medewerker of een leidinggevende spreken.",
        "Chcę rozmawiać z konsultantem albo z kierownikiem.",
    ],
)
def test_asking_for_a_supervisor_is_not_taken_for_ones_own_manager(text: str) -> None:
    # The look-alike guard ("talk to my manager about leave") is possessive in every language, as in English:
    # before, any German, Dutch or Polish word for a superior silenced the request.
    decision = decide([user(text)])
    assert (decision.escalate, decision.reason) == (True, "explicit_request")


@pytest.mark.parametrize(
    "text",
    [
        "Kann ich mit meinem Vorgesetzten über Homeoffice reden?",
        "Mijn leidinggevende moet de offerte nog goedkeuren.",
        "Mój kierownik mówi, że urlop trzeba zgłosić wcześniej.",
    ],
)
def test_ones_own_superior_stays_a_look_alike(text: str) -> None:
    folded = lexicon.fold(text)
    assert lexicon.EXPLICIT_EXCLUSIONS.search(folded)
    assert decide([user(text)]).escalate is False
