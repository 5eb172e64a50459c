"""The decision in long conversations (round 14): how many questions came before does not make a message a request
for a person. The heads used to read the number of user turns; the training conversations are one or two turns long,
so on a seventh turn "Please delete instance i-..." scored 0.97 as an explicit request and opened a ticket."""

from __future__ import annotations

import pytest

from keel.escalation import Turn, decide

ANSWERED = [
    "How do I connect to the VPN?",
    "Where do I find the expense policy?",
    "Which printer is on the third floor?",
    "How many days of annual leave do I get?",
    "Can I work from abroad for two weeks?",
    "How do I install the approved PDF reader?",
    "Where is the onboarding checklist?",
]


def conversation(before: int, last: str) -> list[Turn]:
    """`before` ordinary questions, each answered with a cited, confident reply, then `last`."""
    turns: list[Turn] = []
    for question in ANSWERED[:before]:
        turns.append(Turn(role="user", text=question))
        turns.append(Turn(role="assistant", text="Here is how that works [kb-1].", confidence=0.9))
    return [*turns, Turn(role="user", text=last)]


@pytest.mark.parametrize(
    "text",
    [
        "Please delete instance i-70e3cf1962d17244c",
        "Please restart my build server",
        "Please book the large meeting room for Friday at 10",
        "Bitte setze mein VPN-Passwort zurück",
        "Pouvez-vous m'envoyer la facture de mars ?",
        "Por favor, cambia mi dirección de entrega",
        "Graag mijn verlofsaldo bijwerken",
        "ok thanks, that's all",
    ],
)
def test_an_ordinary_request_late_in_a_conversation_stays_with_the_bot(text: str) -> None:
    for before in (0, 3, 7):
        decision = decide(conversation(before, text))
        assert not decision.escalate, (before, decision.reason, decision.detail)


@pytest.mark.parametrize(
    "text",
    [
        "I want to talk to a human",
        "Is there someone at your end I could actually speak to?",
        "Ich möchte mit einem Mitarbeiter sprechen",
        "Someone has taken money out of my account without my permission",
    ],
)
def test_a_request_for_a_person_is_honoured_however_late(text: str) -> None:
    decisions = [decide(conversation(before, text)) for before in (0, 3, 7)]
    assert all(d.escalate for d in decisions), [(d.reason, d.detail) for d in decisions]
    assert len({d.reason for d in decisions}) == 1
