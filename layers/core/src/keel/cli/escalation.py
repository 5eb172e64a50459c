"""`keel escalation`: run the escalation rules on transcripts (classify) and score a labelled set (report)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

ROW_FORMAT = (
    'one JSON object per line: {"id": "c1", "turns": [{"role": "user|assistant|event", "text": "..."}]}; '
    'assistant turns may carry a 0-1 "confidence"'
)


def register(subparsers: Any) -> None:
    """Add the escalation command group."""
    parser = subparsers.add_parser(
        "escalation",
        help="test the escalation rules on transcripts",
        description="Replay transcripts through the escalation decision (R17) the chat turn runs on every message.",
    )
    commands = parser.add_subparsers(dest="escalation_command", metavar="SUBCOMMAND")
    commands.required = True

    classify = commands.add_parser(
        "classify",
        help="print {id, escalate, reason} for every conversation of a JSONL file",
        description=f"Replay each conversation turn by turn and print the first escalation. Input: {ROW_FORMAT}.",
    )
    classify.add_argument("file", type=Path, help="JSONL transcript file")
    classify.add_argument("--policy", type=Path, help="JSON file of per-bot thresholds (EscalationPolicy fields)")
    classify.add_argument("--detail", action="store_true", help="also print the evidence behind each decision")
    classify.set_defaults(func=run_classify)

    score = commands.add_parser(
        "report",
        help="print precision and recall per reason on a labelled JSONL file",
        description=(
            f"Score the rules on labelled conversations. Input: {ROW_FORMAT}, plus "
            '"expected": {"escalate": bool, "reason": "explicit_request|high_risk_intent|system_failure|'
            'negative_sentiment|low_confidence|none"}.'
        ),
    )
    score.add_argument("file", type=Path, help="labelled JSONL file, e.g. evals/escalation/labelled.jsonl")
    score.add_argument("--policy", type=Path, help="JSON file of per-bot thresholds (EscalationPolicy fields)")
    score.add_argument("--json", action="store_true", help="print the scores as JSON")
    score.set_defaults(func=run_report)


def run_classify(args: argparse.Namespace) -> int:
    """Print one JSON line per conversation."""
    from keel.escalation.evaluation import classify, read_rows

    for result in classify(read_rows(args.file), _policy(args.policy)):
        if not args.detail:
            result.pop("detail")
        print(json.dumps(result, ensure_ascii=False))
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Print the per-reason scores."""
    from keel.escalation.evaluation import read_rows, report

    result = report(read_rows(args.file), _policy(args.policy))
    if args.json:
        body = {
            "total": result.total,
            "correct": result.correct,
            "reasons": {
                s.reason: {"support": s.support, "precision": round(s.precision, 4), "recall": round(s.recall, 4)}
                for s in result.scores
            },
            "mistakes": result.mistakes,
        }
        print(json.dumps(body, indent=2))
    else:
        print(result.as_text())
    return 0


def _policy(path: Path | None) -> Any:
    from pydantic import ValidationError

    from keel.escalation.decision import EscalationPolicy

    if path is None:
        return EscalationPolicy()
    try:
        return EscalationPolicy.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        fields = ", ".join(EscalationPolicy.model_fields)
        message = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise InvalidRequest(f"policy file {path} is not usable ({message}); accepted fields: {fields}") from None
