"""`keel escalation`: run the escalation rules on transcripts (classify) and score a labelled set (report)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

CORPUS = Path("evals/escalation/corpus")
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
    classify.add_argument(
        "--detail", action="store_true", help="also print the evidence, intent, urgency and language of each decision"
    )
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
    score.add_argument(
        "--compare-rules",
        action="store_true",
        help="also score the phrase patterns alone (the decision before the heads), side by side",
    )
    score.add_argument(
        "--robustness",
        action="store_true",
        help="also apply each probe edit (a date, a greeting, thanks, a dropped letter, ...) to the last user "
        "message and print how often the decision changes",
    )
    score.set_defaults(func=run_report)

    corpus = commands.add_parser(
        "corpus",
        help="rebuild the train and test splits from the corpus families",
        description=(
            "Expand evals/escalation/corpus/families/<lang>.txt into labelled conversations. Families listed in "
            "test-families.txt stay in the frozen test split; every other family goes to train. Refuses to "
            "change test.jsonl unless its sha256 still matches DATASHEET.md."
        ),
    )
    corpus.add_argument("--dir", type=Path, default=CORPUS, help=f"corpus folder (default {CORPUS})")
    corpus.set_defaults(func=run_corpus)

    train = commands.add_parser(
        "train",
        help="train the intent heads on the train split and write the artefact",
        description=(
            "Fit a bag of small networks with an output per reason on the shared encoder's embeddings plus "
            "conversation features; network size and thresholds from cross-validation grouped by family. Writes the "
            "JSON artefact and its .npz arrays beside it. Never reads the test split."
        ),
    )
    train.add_argument("--train", type=Path, default=CORPUS / "train.jsonl", help="train split (JSONL)")
    train.add_argument("--out", type=Path, default=None, help="artefact path (default: heads.json; arrays beside it)")
    train.set_defaults(func=run_train)


def run_classify(args: argparse.Namespace) -> int:
    """Print one JSON line per conversation."""
    from keel.escalation.evaluation import classify, read_rows

    for result in classify(read_rows(args.file), _policy(args.policy)):
        if not args.detail:
            for key in ("detail", "intent", "urgency", "language"):
                result.pop(key)
        print(json.dumps(result, ensure_ascii=False))
    return 0


def run_report(args: argparse.Namespace) -> int:
    """Print the per-reason and per-language scores (and the phrase patterns alone, with --compare-rules)."""
    from keel.escalation.evaluation import read_rows, report, robustness

    policy = _policy(args.policy)
    rows = list(read_rows(args.file))
    result = report(rows, policy)
    rules = report(rows, policy.model_copy(update={"semantic": False})) if args.compare_rules else None
    edits = robustness(rows, policy) if args.robustness else None
    if args.json:
        body = result.as_json()
        if rules is not None:
            body["rules_only"] = rules.as_json()
        if edits is not None:
            body["robustness"] = [vars(e) for e in edits]
        print(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(result.as_text(rules))
        if edits is not None:
            print("\nrobustness: each edit applied to the last user message (the meaning is unchanged)")
            print("\n".join(e.line() for e in edits))
    return 0


def run_corpus(args: argparse.Namespace) -> int:
    """Rebuild train.jsonl and check the frozen test.jsonl."""
    from keel.escalation.corpus import build

    for line in build(args.dir):
        print(line)
    return 0


def run_train(args: argparse.Namespace) -> int:
    """Train the heads and print the cross-validated figures the thresholds came from."""
    from keel.escalation.heads import MODEL_PATH
    from keel.escalation.training import train
    from keel.models.encoder import shared_encoder

    out = args.out or MODEL_PATH
    summary = train(args.train, out, shared_encoder())
    trained = summary["trained_on"]
    print(
        f"wrote {out} (trained on {trained['rows']} rows of {trained['file']} and "
        f"{trained.get('edited_copies', 0)} edited copies of them)"
    )
    print(f"{'head':<20} {'threshold':>9} {'oof AP':>6} {'oof P':>6} {'oof R':>6} {'oof F1':>6} {'none fires':>10}")
    for head, scores in summary["cross_validation"].items():
        if head not in summary["thresholds"]:
            continue
        print(
            f"{head:<20} {summary['thresholds'][head]:>9.2f} {scores['average_precision']:>6.3f} "
            f"{scores['precision']:>6.3f} {scores['recall']:>6.3f} {scores['f1']:>6.3f} "
            f"{scores['false_alarms_on_none']:>10.3f}"
        )
    tie = summary.get("fraud_over_vulnerable")
    print(
        f"fraud over vulnerability when both fire: fraud margin >= {tie} x vulnerability margin"
        if tie
        else "fraud over vulnerability: never (vulnerability first)"
    )
    figures = summary["cross_validation"].get("decision", {})
    if figures:
        print("whole decision out of fold (grouped by family): " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    for mistake in summary.get("out_of_fold_mistakes", []):
        print(f"  out of fold: {mistake}")
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
