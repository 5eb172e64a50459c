"""Precision and recall per PII type on labelled spans (overlap matching, documented mapping)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from keel.privacy.recognizers import Entity

# Dataset type -> Keel types that count as finding it. Places: an ADDRESS or LOCATION span masks either.
GOLD_TO_OURS: dict[str, frozenset[str]] = {
    "EMAIL": frozenset({"EMAIL"}),
    "EMAIL_ADDRESS": frozenset({"EMAIL"}),
    "PHONE": frozenset({"PHONE"}),
    "PHONE_NUMBER": frozenset({"PHONE"}),
    "CREDIT_CARD": frozenset({"CREDIT_CARD"}),
    "IBAN": frozenset({"IBAN"}),
    "IBAN_CODE": frozenset({"IBAN"}),
    "US_SSN": frozenset({"US_SSN"}),
    "SSN": frozenset({"US_SSN"}),
    "IP_ADDRESS": frozenset({"IP_ADDRESS"}),
    "PERSON": frozenset({"PERSON"}),
    "ADDRESS": frozenset({"ADDRESS", "LOCATION"}),
    "STREET_ADDRESS": frozenset({"ADDRESS", "LOCATION"}),
    "LOCATION": frozenset({"LOCATION", "ADDRESS"}),
    "SECRET": frozenset({"SECRET", "AWS_ACCESS_KEY"}),
    "API_KEY": frozenset({"SECRET", "AWS_ACCESS_KEY"}),
    "PASSPORT": frozenset({"PASSPORT"}),
}
# Keel type -> dataset types a prediction may overlap to count as correct.
OURS_TO_GOLD: dict[str, frozenset[str]] = {
    "EMAIL": frozenset({"EMAIL", "EMAIL_ADDRESS"}),
    "PHONE": frozenset({"PHONE", "PHONE_NUMBER"}),
    "CREDIT_CARD": frozenset({"CREDIT_CARD"}),
    "IBAN": frozenset({"IBAN", "IBAN_CODE"}),
    "US_SSN": frozenset({"US_SSN", "SSN"}),
    "IP_ADDRESS": frozenset({"IP_ADDRESS"}),
    "PERSON": frozenset({"PERSON"}),
    "ADDRESS": frozenset({"ADDRESS", "STREET_ADDRESS", "LOCATION", "ZIP_CODE"}),
    "LOCATION": frozenset({"LOCATION", "ADDRESS", "STREET_ADDRESS", "ZIP_CODE"}),
    "DATE_OF_BIRTH": frozenset({"DATE_TIME", "DATE_OF_BIRTH"}),
    "SECRET": frozenset({"SECRET", "API_KEY", "PASSWORD"}),
    "PASSPORT": frozenset({"PASSPORT"}),
    "AWS_ACCESS_KEY": frozenset({"AWS_ACCESS_KEY", "SECRET", "API_KEY"}),
}


@dataclass
class PiiScores:
    """Counts for recall (per dataset type) and precision (per Keel type)."""

    gold: Counter[str]
    found: Counter[str]
    predicted: Counter[str]
    correct: Counter[str]

    def recall(self, gold_type: str) -> float:
        """Share of labelled spans of a type overlapped by a compatible detection."""
        return self.found[gold_type] / self.gold[gold_type] if self.gold[gold_type] else 0.0

    def precision(self, our_type: str) -> float:
        """Share of detections of a type that overlap a compatible labelled span."""
        return self.correct[our_type] / self.predicted[our_type] if self.predicted[our_type] else 1.0

    def overall_precision(self) -> float:
        """Precision over every detection."""
        total = sum(self.predicted.values())
        return sum(self.correct.values()) / total if total else 1.0


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


def score(rows: Iterable[tuple[list[dict[str, Any]], list[Entity]]]) -> PiiScores:
    """Compare labelled spans with detections, row by row."""
    s = PiiScores(Counter(), Counter(), Counter(), Counter())
    for gold, detected in rows:
        for g in gold:
            wanted = GOLD_TO_OURS.get(g["type"])
            if wanted is None:
                continue
            s.gold[g["type"]] += 1
            if any(e.type in wanted and _overlaps(e.start, e.end, g["start"], g["end"]) for e in detected):
                s.found[g["type"]] += 1
        for e in detected:
            s.predicted[e.type] += 1
            ok = OURS_TO_GOLD.get(e.type, frozenset())
            if any(g["type"] in ok and _overlaps(e.start, e.end, g["start"], g["end"]) for g in gold):
                s.correct[e.type] += 1
    return s
