"""Run the escalation rules over transcript files: classify rows, and score a labelled set per reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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
    language: str | None = Field(default=None, max_length=8)
    # The finer label where the set has one (fraud, lookalike, self_harm, ...); "note" in older sets.
    intent: str | None = Field(default=None, max_length=60)
    note: str | None = Field(default=None, max_length=200)

    @property
    def label_intent(self) -> str | None:
        """The finer label: intent, else the older sets' note."""
        return self.intent or self.note


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
    """One {id, escalate, reason, detail, ...} per row: the first point at which the conversation would escalate."""
    for row in rows:
        decision = first_escalation(row.turns, policy)
        yield {
            "id": row.id,
            "escalate": decision.escalate,
            "reason": decision.reason,
            "detail": decision.detail,
            "intent": decision.intent,
            "urgency": decision.urgency,
            "language": decision.language,
        }


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

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


@dataclass(frozen=True)
class Scored:
    """One labelled row with the decision it got."""

    row: TranscriptRow
    decision: Decision

    @property
    def expected(self) -> Expected:
        """The row's label."""
        assert self.row.expected is not None
        return self.row.expected


@dataclass(frozen=True)
class Acceptance:
    """The issue-18 figures of one slice of a labelled set (the whole set, or one language)."""

    rows: int
    reason_accuracy: float
    escalation_f1: float
    macro_f1: float
    explicit_honoured: float | None
    fraud_recall: float | None
    vulnerable_recall: float | None
    lookalikes_escalated: float | None

    @classmethod
    def of(cls, scored: list[Scored]) -> Acceptance:
        """Figures of these rows; None where the slice has no row of that kind."""
        expected_yes = [s for s in scored if s.expected.escalate]
        predicted_yes = [s for s in scored if s.decision.escalate]
        both = sum(1 for s in expected_yes if s.decision.escalate)
        precision = both / len(predicted_yes) if predicted_yes else 1.0
        recall = both / len(expected_yes) if expected_yes else 1.0
        scores = _reason_scores(scored)
        present = [r for r in scores if r.support]
        return cls(
            rows=len(scored),
            reason_accuracy=sum(1 for s in scored if s.decision.reason == s.expected.reason) / max(len(scored), 1),
            escalation_f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            macro_f1=sum(r.f1 for r in present) / max(len(present), 1),
            explicit_honoured=_share(
                [s for s in scored if s.expected.reason == "explicit_request"], lambda s: s.decision.escalate
            ),
            fraud_recall=_share(
                [s for s in scored if s.row.label_intent == "fraud"],
                lambda s: s.decision.reason == "high_risk_intent" and s.decision.intent == "fraud",
            ),
            vulnerable_recall=_share(
                [s for s in scored if s.expected.reason == "vulnerable_customer"],
                lambda s: s.decision.reason == "vulnerable_customer",
            ),
            lookalikes_escalated=_share(
                [s for s in scored if s.row.label_intent == "lookalike"], lambda s: s.decision.escalate
            ),
        )

    def as_json(self) -> dict[str, Any]:
        """Rounded figures."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Report:
    """Scores per reason and per language, overall figures, and the rows that disagreed with their label."""

    scores: list[ReasonScore]
    total: int
    correct: int
    mistakes: list[dict[str, Any]]
    overall: Acceptance | None = None
    languages: dict[str, Acceptance] = field(default_factory=dict)

    def score(self, reason: str) -> ReasonScore:
        """The score of one reason."""
        return next(s for s in self.scores if s.reason == reason)

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (the shape of `keel escalation report --json`)."""
        return {
            "total": self.total,
            "correct": self.correct,
            "reasons": {
                s.reason: {
                    "support": s.support,
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                }
                for s in self.scores
            },
            "overall": self.overall.as_json() if self.overall else {},
            "languages": {lang: a.as_json() for lang, a in self.languages.items()},
            "mistakes": self.mistakes,
        }

    def as_text(self, rules: Report | None = None) -> str:
        """Fixed-width tables for the terminal; with `rules`, the phrase patterns alone beside each figure."""
        side = " (rules)" if rules else ""
        lines = [
            f"{'reason':<20} {'support':>7} {'precision':>9} {'recall':>7} {'f1':>6}"
            + (f" {'P rules':>8} {'R rules':>8}" if rules else "")
        ]
        for s in self.scores:
            line = f"{s.reason:<20} {s.support:>7} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
            if rules:
                r = rules.score(s.reason)
                line += f" {r.precision:>8.3f} {r.recall:>8.3f}"
            lines.append(line)
        lines.append(f"accuracy {self.correct}/{self.total} = {self.correct / max(self.total, 1):.3f}")
        if self.overall is not None:
            lines.append("")
            lines.append(
                f"{'slice':<8} {'rows':>5} {'esc F1':>7} {'macro F1':>8} {'explicit':>8} {'fraud R':>8} "
                f"{'vuln R':>7} {'lookalike esc':>13}" + side
            )
            slices = [("all", self.overall, rules.overall if rules else None)]
            slices += [(k, v, rules.languages.get(k) if rules else None) for k, v in self.languages.items()]
            for name, figures, baseline in slices:
                lines.append(_slice_line(name, figures))
                if baseline is not None:
                    lines.append(_slice_line("  rules", baseline))
        for m in self.mistakes:
            lines.append(f"  mistake {m['id']}: expected {m['expected']}, got {m['got']} ({m['detail']})")
        return "\n".join(lines)


def _slice_line(name: str, a: Acceptance) -> str:
    def cell(value: float | None, width: int) -> str:
        return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"

    return (
        f"{name:<8} {a.rows:>5} {a.escalation_f1:>7.3f} {a.macro_f1:>8.3f} {cell(a.explicit_honoured, 8)} "
        f"{cell(a.fraud_recall, 8)} {cell(a.vulnerable_recall, 7)} {cell(a.lookalikes_escalated, 13)}"
    )


def _share(rows: list[Scored], hit: Callable[[Scored], bool]) -> float | None:
    return sum(1 for s in rows if hit(s)) / len(rows) if rows else None


def _reason_scores(scored: list[Scored]) -> list[ReasonScore]:
    scores = []
    for reason in REASONS:
        expected = sum(1 for s in scored if s.expected.reason == reason)
        predicted = sum(1 for s in scored if s.decision.reason == reason)
        hits = sum(1 for s in scored if s.expected.reason == reason == s.decision.reason)
        scores.append(ReasonScore(reason, expected, predicted, hits))
    return scores


def report(rows: Iterable[TranscriptRow], policy: EscalationPolicy | None = None, *, heads: Any = None) -> Report:
    """Score the decision on labelled rows: per reason, per language, and the acceptance figures.

    `heads`: other intent heads than the packaged ones (the cross-validation of `keel escalation train`)."""
    scored: list[Scored] = []
    for row in rows:
        if row.expected is None:
            raise InvalidRequest(f'row {row.id} has no label; add "expected": {{"escalate": bool, "reason": ...}}')
        scored.append(Scored(row, first_escalation(row.turns, policy, heads=heads)))
    mistakes = [
        {"id": s.row.id, "expected": s.expected.reason, "got": s.decision.reason, "detail": s.decision.detail}
        for s in scored
        if s.expected.reason != s.decision.reason
    ]
    by_language: dict[str, list[Scored]] = {}
    for s in scored:
        by_language.setdefault(s.row.language or s.decision.language, []).append(s)
    return Report(
        _reason_scores(scored),
        len(scored),
        len(scored) - len(mistakes),
        mistakes,
        Acceptance.of(scored),
        {lang: Acceptance.of(items) for lang, items in sorted(by_language.items())},
    )


def _describe(exc: ValueError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())
    return f"not valid JSON ({exc})"


@dataclass(frozen=True)
class Robustness:
    """How one surface edit of the last user message moves the decision over a labelled set."""

    edit: str
    near_training: bool  # a training edit (keel.escalation.augment.EDITS) is close to this one
    rows: int
    changed: int  # decisions (escalate, reason) that differ from the unedited row's
    broken: int  # rows decided right unedited and wrong edited

    def line(self) -> str:
        """One line of the report."""
        near = "near a training edit" if self.near_training else "not trained on"
        return (
            f"  {self.edit:<22} changed {self.changed / max(self.rows, 1):6.1%}  "
            f"right -> wrong {self.broken / max(self.rows, 1):6.1%}  ({near})"
        )


def robustness(rows: Iterable[TranscriptRow], policy: EscalationPolicy | None = None) -> list[Robustness]:
    """Each probe edit (keel.escalation.augment.PROBES) applied to the last user message of every row: the share
    of decisions it changes and of right decisions it makes wrong. The meaning never changes, so both should be 0."""
    from keel.escalation.augment import PROBES, probe

    labelled = [r for r in rows if r.expected is not None]
    base = [first_escalation(r.turns, policy) for r in labelled]
    lasts = [max(i for i, t in enumerate(r.turns) if t.role == "user") for r in labelled]
    out = []
    for name, near, _ in PROBES:
        changed = broken = 0
        for row, before, last in zip(labelled, base, lasts, strict=True):
            turns = [
                t.model_copy(update={"text": probe(name, t.text)}) if i == last else t for i, t in enumerate(row.turns)
            ]
            after = first_escalation(turns, policy)
            if (after.escalate, after.reason) != (before.escalate, before.reason):
                changed += 1
                assert row.expected is not None
                broken += before.reason == row.expected.reason != after.reason
        out.append(Robustness(name, near, len(labelled), changed, broken))
    return out
