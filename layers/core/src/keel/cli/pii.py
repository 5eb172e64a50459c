"""`keel pii`: find and mask PII in operator files, and measure precision and recall on labelled ones."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest


def register(subparsers: Any) -> None:
    """Add the `pii` command group."""
    parser = subparsers.add_parser(
        "pii",
        help="test PII detection and masking on your own JSONL files",
        description="Detect and mask PII in JSONL files with Keel's privacy layer.",
    )
    sub = parser.add_subparsers(dest="pii_command", metavar="SUBCOMMAND")
    sub.required = True
    scan = sub.add_parser(
        "scan",
        help="print {id, entities: [{type, start, end}], masked} per row",
        description="Rows are {id, text}. Offsets are character offsets into text; raw values are never printed.",
    )
    scan.add_argument("file", type=Path, help="JSONL input file")
    scan.add_argument("--fast", action="store_true", help="regex recognizers only (no spaCy; finds fewer names)")
    scan.set_defaults(func=_scan)
    report = sub.add_parser(
        "report",
        help="precision and recall per PII type on a labelled file",
        description=(
            "Rows need {id, text, entities: [{type, start, end}]}. A labelled span counts as found when a "
            "detection of a compatible type overlaps it (ADDRESS and LOCATION are interchangeable)."
        ),
    )
    report.add_argument("file", type=Path, help="labelled JSONL file")
    report.add_argument("--fast", action="store_true", help="regex recognizers only")
    report.set_defaults(func=_report)


def _text(path: Path, number: int, row: dict[str, Any]) -> str:
    if not isinstance(row.get("text"), str):
        raise InvalidRequest(f"{path}:{number}: `text` must be a string")
    return str(row["text"])


def _scan(args: argparse.Namespace) -> int:
    from keel.guardrails.evaluation import read_jsonl
    from keel.privacy import PiiMasker, Vault

    masker = PiiMasker("fast" if args.fast else "full")
    for number, row in read_jsonl(args.file):
        masked = masker.mask(_text(args.file, number, row), Vault())
        entities = [{"type": e.type, "start": e.start, "end": e.end} for e in masked.entities]
        print(json.dumps({"id": row["id"], "entities": entities, "masked": masked.text}, ensure_ascii=False))
    return 0


def _gold(path: Path, number: int, row: dict[str, Any], text: str) -> list[dict[str, Any]]:
    entities = row.get("entities")
    if not isinstance(entities, list):
        raise InvalidRequest(f"{path}:{number}: `entities` must be a list of {{type, start, end}}")
    for e in entities:
        ok = isinstance(e, dict) and isinstance(e.get("type"), str)
        ok = ok and isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
        if not ok or not 0 <= e["start"] < e["end"] <= len(text):
            raise InvalidRequest(f"{path}:{number}: each entity needs a type and 0 <= start < end <= len(text)")
    return entities


def _report(args: argparse.Namespace) -> int:
    from keel.guardrails.evaluation import read_jsonl
    from keel.privacy import PiiMasker
    from keel.privacy.evaluation import score

    masker = PiiMasker("fast" if args.fast else "full")
    rows = []
    for number, row in read_jsonl(args.file, ("id", "text", "entities")):
        text = _text(args.file, number, row)
        rows.append((_gold(args.file, number, row, text), masker.detect(text)))
    scores = score(rows)
    print(f"{'type':<16} {'labelled':>8} {'recall':>8}   {'detected':>8} {'precision':>9}")
    types = sorted(set(scores.gold) | set(scores.predicted))
    for t in types:
        recall = f"{scores.recall(t):.1%}" if scores.gold[t] else "-"
        precision = f"{scores.precision(t):.1%}" if scores.predicted[t] else "-"
        print(f"{t:<16} {scores.gold[t]:>8} {recall:>8}   {scores.predicted[t]:>8} {precision:>9}")
    print(f"overall precision {scores.overall_precision():.1%}")
    return 0
