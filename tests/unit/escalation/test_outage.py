"""Outage handoffs: only actionable requests, once per conversation, a bounded number per incident."""

from __future__ import annotations

import pytest

from keel.escalation.outage import ALREADY_WITH_A_PERSON, INCIDENT_BANNER, OutageHandoffs, actionable
from tests.fakes.escalation import InMemoryClaims


@pytest.mark.parametrize(
    "text",
    ["hi", "Hello!", "hey there", "good morning", "thanks", "Thank you so much", "ok", "are you there", "bye", " "],
)
def test_greetings_thanks_and_acknowledgements_are_not_actionable(text: str) -> None:
    assert not actionable(text)


@pytest.mark.parametrize(
    "text",
    [
        "My laptop will not boot and I have a client demo at 3",
        "How do I reset my VPN token?",
        "Please cancel my order 4471",
        "refund?",
    ],
)
def test_requests_a_person_can_act_on_are_actionable(text: str) -> None:
    assert actionable(text)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_twenty_greetings_open_nothing_and_a_real_request_is_admitted_once() -> None:
    clock = Clock()
    gate = OutageHandoffs(InMemoryClaims(clock), per_incident=5, window_seconds=900, clock=clock)
    held = [gate.admit(f"conv-{n}", "hi") for n in range(20)]
    assert {d.verdict for d in held} == {"not_actionable"}
    assert held[0].message == INCIDENT_BANNER
    first = gate.admit("conv-real", "My laptop will not boot and I have a client demo at 3")
    again = gate.admit("conv-real", "Still broken, the demo is in ten minutes, please help")
    assert first.admitted and not again.admitted
    assert again.verdict == "already_handed_over" and again.message == ALREADY_WITH_A_PERSON


def test_an_incident_admits_at_most_its_limit_then_shows_the_banner() -> None:
    clock = Clock()
    gate = OutageHandoffs(InMemoryClaims(clock), per_incident=3, window_seconds=900, clock=clock)
    decisions = [gate.admit(f"conv-{n}", "Please reset my password for the payroll system") for n in range(5)]
    assert [d.verdict for d in decisions] == ["admitted"] * 3 + ["incident_limit"] * 2
    assert decisions[-1].message == INCIDENT_BANNER
    # A later incident (after the claims expire) admits handoffs again.
    clock.now += 2 * 900 + 1
    assert gate.admit("conv-9", "Please reset my password for the payroll system").admitted
