"""Retrieval quality: recall@k and MRR over a golden set of questions with the documents that answer them."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from keel.errors import InvalidRequest, KeelError
from keel.knowledge.ports import Retriever, SearchScope


@dataclass(frozen=True)
class GoldenQuestion:
    """One golden row: who asks which bot what, and which documents answer it."""

    id: str
    bot: str
    user: str
    question: str
    expected_doc_ids: tuple[str, ...]


@dataclass(frozen=True)
class QuestionResult:
    """Where the first expected document came (rank 1-based, None when it was not in the top k)."""

    question: GoldenQuestion
    retrieved: tuple[str, ...]
    rank: int | None
    error: str | None = None


@dataclass
class RetrievalEvaluation:
    """Recall@k and MRR over a golden set, with every miss."""

    k: int
    results: list[QuestionResult] = field(default_factory=list)

    @property
    def recall(self) -> float:
        """Share of questions with an expected document in the top k."""
        return sum(1 for r in self.results if r.rank is not None) / len(self.results) if self.results else 0.0

    @property
    def mrr(self) -> float:
        """Mean reciprocal rank of the first expected document (0 when it is missing)."""
        if not self.results:
            return 0.0
        return sum(1.0 / r.rank for r in self.results if r.rank is not None) / len(self.results)

    @property
    def misses(self) -> list[QuestionResult]:
        """Questions whose expected documents were not in the top k."""
        return [r for r in self.results if r.rank is None]

    def per_bot(self) -> dict[str, tuple[int, float]]:
        """bot -> (questions, recall@k)."""
        bots: dict[str, list[QuestionResult]] = {}
        for result in self.results:
            bots.setdefault(result.question.bot, []).append(result)
        return {
            bot: (len(items), sum(1 for r in items if r.rank is not None) / len(items))
            for bot, items in sorted(bots.items())
        }

    def to_text(self) -> str:
        """The figures, per bot, and the misses."""
        lines = [
            f"retrieval on {len(self.results)} golden questions: recall@{self.k} = {self.recall:.3f}, "
            f"MRR = {self.mrr:.3f}"
        ]
        for bot, (count, recall) in self.per_bot().items():
            lines.append(f"  {bot:<10} {count:>3} questions  recall@{self.k} {recall:.3f}")
        misses = self.misses
        lines.append(f"misses ({len(misses)}):" if misses else "misses: none")
        for miss in misses:
            q = miss.question
            why = f"error: {miss.error}" if miss.error else f"got {', '.join(miss.retrieved) or 'nothing'}"
            lines.append(
                f"  - {q.id} [{q.bot}/{q.user}] {q.question!r}: expected {', '.join(q.expected_doc_ids)}; {why}"
            )
        return "\n".join(lines)


def load_golden(path: Path) -> list[GoldenQuestion]:
    """Read golden.jsonl rows {id, bot, user, question, expected_doc_ids}; InvalidRequest names a bad line."""
    if not path.is_file():
        raise InvalidRequest(f"golden set {path} does not exist; pass --golden with a .jsonl file")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            expected = data["expected_doc_ids"]
            if not isinstance(expected, list) or not expected:
                raise ValueError("expected_doc_ids must be a non-empty list")
            rows.append(
                GoldenQuestion(
                    id=str(data["id"]),
                    bot=str(data["bot"]),
                    user=str(data["user"]),
                    question=str(data["question"]),
                    expected_doc_ids=tuple(str(e) for e in expected),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidRequest(
                f"{path}:{number} is not a golden row ({exc}); accepted: "
                '{"id", "bot", "user", "question", "expected_doc_ids": [...]}'
            ) from None
    if not rows:
        raise InvalidRequest(f"golden set {path} has no rows")
    return rows


def evaluate(
    retriever: Retriever,
    questions: list[GoldenQuestion],
    scope_of: Callable[[str, str], SearchScope],
    *,
    k: int = 5,
) -> RetrievalEvaluation:
    """Ask every question inside its user's scope through its bot and score the ranking."""
    evaluation = RetrievalEvaluation(k=k)
    for question in questions:
        try:
            scope = scope_of(question.user, question.bot)
            passages = retriever.search(scope, question.question, k=k)
        except KeelError as exc:
            evaluation.results.append(QuestionResult(question, (), None, exc.message))
            continue
        retrieved = tuple(dict.fromkeys(p.doc_id for p in passages))
        rank = next((i for i, p in enumerate(passages, start=1) if p.doc_id in question.expected_doc_ids), None)
        evaluation.results.append(QuestionResult(question, retrieved, rank))
    return evaluation
