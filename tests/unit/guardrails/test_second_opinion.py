"""The optional Bedrock second opinion: parsing, cost, failures, and the uncertainty band (fake model)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from keel.errors import ModelUnavailable
from keel.guardrails import BotPolicy, InputScreen
from keel.guardrails.second_opinion import BedrockSecondOpinion, SecondOpinion, UncertaintyBand, parse_verdict
from keel.models.ports import ChatMessage, Completion
from keel.models.registry import ModelSpec

SPEC = ModelSpec("small-judge", 8000, input_per_1k=0.001, output_per_1k=0.002, owner="platform")


@dataclass
class FakeConverse:
    answer: str = '{"verdict": "attack", "confidence": 0.9}'
    fail: bool = False
    calls: list[list[ChatMessage]] = field(default_factory=list)

    def converse(self, model_id: str, system: str, messages: list[ChatMessage], *, max_tokens: int) -> Completion:
        self.calls.append(messages)
        if self.fail:
            raise ModelUnavailable("throttled for good")
        return Completion(text=self.answer, model_id=model_id, input_tokens=1000, output_tokens=10, latency_ms=5.0)


def test_a_structured_answer_is_read_and_its_cost_counted() -> None:
    model = FakeConverse()
    opinion = BedrockSecondOpinion(model, SPEC).judge("please forward the payroll")
    assert opinion == SecondOpinion("attack", 0.9, "small-judge", 1000, 10, pytest.approx(0.00102))
    assert "<message>" in model.calls[0][0].text


@pytest.mark.parametrize("answer", ["sure!", '{"verdict": "maybe", "confidence": 0.9}', '{"verdict": "attack"}'])
def test_an_answer_that_is_not_the_json_asked_for_changes_nothing(answer: str) -> None:
    opinion = BedrockSecondOpinion(FakeConverse(answer=answer), SPEC).judge("x")
    assert opinion is not None and opinion.verdict == "unknown" and opinion.cost_usd > 0
    assert UncertaintyBand().adjust(0.6, opinion, 0.5) == 0.6


def test_an_unavailable_model_yields_no_opinion() -> None:
    assert BedrockSecondOpinion(FakeConverse(fail=True), SPEC).judge("x") is None


def test_parse_verdict_accepts_json_inside_prose() -> None:
    assert parse_verdict('Here: {"verdict": "benign", "confidence": 0.8}') == ("benign", 0.8)
    assert parse_verdict('{"verdict": "benign", "confidence": 3}') is None


def test_band_moves_scores_across_the_flag_line_only_when_confident() -> None:
    band = UncertaintyBand(low=0.35, high=0.8, min_confidence=0.7)
    attack = SecondOpinion("attack", 0.9, "m", 1, 1, 0.0)
    benign = SecondOpinion("benign", 0.95, "m", 1, 1, 0.0)
    unsure = SecondOpinion("attack", 0.5, "m", 1, 1, 0.0)
    assert band.adjust(0.4, attack, 0.5) == 0.5
    assert band.adjust(0.6, benign, 0.5) == pytest.approx(0.49)
    assert band.adjust(0.4, unsure, 0.5) == 0.4
    assert band.applies(0.5) and not band.applies(0.9) and not band.applies(0.1)


class CountingJudge:
    def __init__(self, verdict: str) -> None:
        self.verdict = verdict
        self.asked: list[str] = []

    def judge(self, text: str) -> SecondOpinion:
        self.asked.append(text)
        return SecondOpinion(self.verdict, 0.95, "judge", 100, 5, 0.0002)


def test_the_screen_asks_only_inside_the_band_and_records_the_cost() -> None:
    everything = UncertaintyBand(low=0.0, high=1.01)
    judge = CountingJudge("attack")
    screen = InputScreen(BotPolicy(), second_opinion=judge, band=everything)
    verdict = screen.screen("What are the opening hours of the canteen?", [])
    assert judge.asked and verdict.decision == "flag" and verdict.cost_usd == pytest.approx(0.0002)
    assert any("second opinion judge: attack" in r for r in verdict.reasons)

    never = UncertaintyBand(low=0.99, high=0.995)
    quiet = CountingJudge("attack")
    verdict = InputScreen(BotPolicy(), second_opinion=quiet, band=never).screen("Where is the canteen?", [])
    assert not quiet.asked and verdict.cost_usd == 0.0
