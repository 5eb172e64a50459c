"""Metric dimensions for guardrail activity (R12); emitting them (EMF, CloudWatch) belongs to analytics."""

from __future__ import annotations

from dataclasses import dataclass

from keel.guardrails.verdict import Verdict


@dataclass(frozen=True)
class GuardrailMetric:
    """One count to emit: metric name, value and its dimensions."""

    name: str
    value: int
    dimensions: dict[str, str]


def verdict_metrics(verdict: Verdict, *, bot: str, channel: str, stage: str = "input") -> list[GuardrailMetric]:
    """One GuardrailBlocked/GuardrailFlagged count per category; nothing for an allow."""
    if verdict.decision == "allow":
        return []
    name = "GuardrailBlocked" if verdict.decision == "block" else "GuardrailFlagged"
    return [
        GuardrailMetric(name, 1, {"category": category, "bot": bot, "channel": channel, "stage": stage})
        for category in verdict.categories or ("injection",)
    ]
