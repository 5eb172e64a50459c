"""Run the escalation rules over transcript files: classify rows, and score a labelled set per reason."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.errors import InvalidRequest
from keel.escalation.decision import REASONS, Decision, EscalationPolicy, Reason, Turn, first_escalation
from keel.textinput import utf8_lines


class Expected(BaseModel):
    """The label of one conversation."""

    model_config = ConfigDict(extra="forbid")

    escalate: bool
    reason: Reason


class TranscriptRow(BaseModel):
    """One row of a transcript file: an id and its turns (role user, assistant or event), maybe a label."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, max_length=200)
    turns: list[Turn] = Field(min_length=1)
    expected: Expected | None = None


def read_rows(path: Path) -> Iterator[TranscriptRow]:
    """Rows of a JSONL file; a bad line raises InvalidRequest naming the line and what is accepted."""
    if not path.is_file():
        raise InvalidRequest(f"{path} does not exist; pass a JSONL file of {{id, turns: [{{role, text}}]}} rows")
    for number, line in utf8_lines(path, accepted="a UTF-8 JSONL file of {id, turns: [{role, text}]} rows"):
        if not line.strip():
            continue
        try:
            yield TranscriptRow.model_validate(json.loads(line))
        except ValueError as exc:
            raise InvalidRequest(
                f"{path}:{number}: {_describe(exc)}; each line must be a JSON object "
                '{"id": str, "turns": [{"role": "user|assistant|event", "text": str}]}'
            ) from None


def classify(rows: Iterable[TranscriptRow], policy: EscalationPolicy | None = None) -> Iterator[dict[str, Any]]:
    """One {id, escalate, reason, detail} per row: the first point at which the conversation would escalate."""
    for row in rows:
        decision = first_escalation(row.turns, policy)
        yield {"id": row.id, "escalate": decision.escalate, "reason": decision.reason, "detail": decision.detail}


@dataclass(frozen=True)
class ReasonScore:
    """Precision and recall of one reason over a labelled set."""

    reason: str
    support: int
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        """Share of predictions of this reason that were right (1.0 when none were made)."""
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        """Share of conversations labelled with this reason that were found (1.0 when there were none)."""
        return self.true_positives / self.support if self.support else 1.0


@dataclass(frozen=True)
class Report:
    """Scores per reason, overall accuracy and the rows that disagreed with their label."""

    scores: list[ReasonScore]
    total: int
    correct: int
    mistakes: list[dict[str, Any]]

    def score(self, reason: str) -> ReasonScore:
        """The score of one reason."""
        return next(s for s in self.scores if s.reason == reason)

    def as_text(self) -> str:
        """A fixed-width table for the terminal."""
        lines = [f"{'reason':<20} {'support':>7} {'precision':>9} {'recall':>7}"]
        for s in self.scores:
            lines.append(f"{s.reason:<20} {s.support:>7} {s.precision:>9.3f} {s.recall:>7.3f}")
        lines.append(f"accuracy {self.correct}/{self.total} = {self.correct / max(self.total, 1):.3f}")
        for m in self.mistakes:
            lines.append(f"  mistake {m['id']}: expected {m['expected']}, got {m['got']} ({m['detail']})")
        return "\n".join(lines)


def report(rows: Iterable[TranscriptRow], policy: EscalationPolicy | None = None) -> Report:
    """Score the rules on labelled rows: precision and recall per reason, escalate-or-not as reason 'none'."""
    pairs: list[tuple[TranscriptRow, Decision]] = []
    for row in rows:
        if row.expected is None:
            raise InvalidRequest(f'row {row.id} has no label; add "expected": {{"escalate": bool, "reason": ...}}')
        pairs.append((row, first_escalation(row.turns, policy)))
    scores = []
    for reason in REASONS:
        expected = [r for r, _ in pairs if r.expected is not None and r.expected.reason == reason]
        predicted = [d for _, d in pairs if d.reason == reason]
        hits = sum(1 for r, d in pairs if r.expected is not None and r.expected.reason == reason == d.reason)
        scores.append(ReasonScore(reason, len(expected), len(predicted), hits))
    mistakes = [
        {"id": r.id, "expected": r.expected.reason, "got": d.reason, "detail": d.detail}
        for r, d in pairs
        if r.expected is not None and r.expected.reason != d.reason
    ]
    return Report(scores, len(pairs), len(pairs) - len(mistakes), mistakes)


def _describe(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())
    return f"not valid JSON ({exc})"
