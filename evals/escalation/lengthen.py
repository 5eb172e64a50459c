"""Escalation on long conversations (docs/escalation.md, round 14): each labelled row as written and behind K
ordinary answered questions, scored by the decision the turn runs (first escalation over the replay).

The questions put in front are the training split's routine and work rows of the row's language (one user message
each, chosen by a hash of the row id), each answered with a cited, confident reply: nothing in them asks for a
person, so a long conversation should be decided as its last messages are.

usage: python evals/escalation/lengthen.py [--turns K] HOLDOUT.jsonl...   (aggregate figures only)
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

from keel.escalation.evaluation import TranscriptRow, report

TRAIN = Path(__file__).resolve().parent / "corpus" / "train.jsonl"
FIGURES = ("escalation_f1", "explicit_honoured", "fraud_recall", "vulnerable_recall", "lookalikes_escalated")


def ordinary_questions(train: Path = TRAIN) -> dict[str, list[str]]:
    """Per language, the single-message routine and work rows of the training split, sorted."""
    pool: dict[str, list[str]] = {}
    for line in train.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        users = [t["text"] for t in row["turns"] if t["role"] == "user"]
        if row["expected"]["reason"] == "none" and row.get("intent") in ("routine", "work") and len(users) == 1:
            pool.setdefault(row["language"], []).append(users[0])
    return {language: sorted(texts) for language, texts in pool.items()}


def lengthened(row: dict[str, Any], pool: dict[str, list[str]], turns: int) -> dict[str, Any]:
    """The row behind `turns` answered ordinary questions of its language."""
    texts = pool[row.get("language") or "en"]
    seed = int(hashlib.sha256(row["id"].encode()).hexdigest(), 16)
    prefix: list[dict[str, Any]] = []
    for n in range(turns):
        prefix.append({"role": "user", "text": texts[(seed >> (16 * n)) % len(texts)]})
        prefix.append({"role": "assistant", "text": f"Here is how that works [kb-{n + 1}].", "confidence": 0.9})
    return {**row, "turns": prefix + row["turns"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    pool = ordinary_questions()
    print(f"{'set':<28} {'condition':<11} " + " ".join(f"{f.split('_')[0]:>9}" for f in FIGURES))
    for path in args.files:
        raws = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        for condition, rows in (("as written", raws), ("lengthened", [lengthened(r, pool, args.turns) for r in raws])):
            figures = report(TranscriptRow.model_validate(r) for r in rows).overall
            assert figures is not None
            cells = [getattr(figures, f) for f in FIGURES]
            print(
                f"{str(path)[-28:]:<28} {condition:<11} "
                + " ".join("        -" if c is None else f"{c:>9.3f}" for c in cells)
            )


if __name__ == "__main__":
    main()
