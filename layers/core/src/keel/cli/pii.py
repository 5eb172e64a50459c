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
            "Without a file: the acceptance figures on the frozen PII test split (evals/pii/test.jsonl) and on "
            "../shared/eval/public/pii.jsonl when present, with the issue's targets. With a file: rows need "
            "{id, text, entities: [{type, start, end}]}, optionally lookalike: true. A labelled span counts as "
            "found when a detection of a compatible type overlaps it (ADDRESS and LOCATION are interchangeable). "
            "Bare places (a city or office with no street) are not masked (R9 lists street addresses, not places): "
            "a LOCATION label counts as found only inside a masked street address."
        ),
    )
    report.add_argument("file", type=Path, nargs="?", help="labelled JSONL file (default: the acceptance report)")
    report.add_argument("--fast", action="store_true", help="regex recognizers only")
    report.add_argument("--public", type=Path, help="public development set folder (default ../shared/eval/public)")
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


# The targets: recall per gold type (structured types 99%), precision 95%, look-alikes masked in <= 5%.
RECALL_TARGETS = {
    "SECRET": 0.95,
    "PASSPORT": 0.95,
    "ADDRESS": 0.90,
    "PERSON": 0.95,
    **{t: 0.99 for t in ("EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS")},
}
PRECISION_TARGET = 0.95
LOOKALIKE_TARGET = 0.05


def _report_file(path: Path, masker: Any, *, targets: bool) -> None:
    from keel.guardrails.evaluation import read_jsonl
    from keel.privacy.evaluation import score

    rows = []
    lookalikes = masked_lookalikes = 0
    for number, row in read_jsonl(path, ("id", "text", "entities")):
        text = _text(path, number, row)
        detected = masker.detect(text)
        rows.append((_gold(path, number, row, text), detected))
        if row.get("lookalike") is True:
            lookalikes += 1
            masked_lookalikes += int(bool(detected))
    scores = score(rows)
    print(
        f"{'type':<16} {'labelled':>8} {'recall':>8}   {'detected':>8} {'precision':>9}"
        + ("  target" if targets else "")
    )
    types = sorted(set(scores.gold) | set(scores.predicted))
    for t in types:
        recall = f"{scores.recall(t):.1%}" if scores.gold[t] else "-"
        precision = f"{scores.precision(t):.1%}" if scores.predicted[t] else "-"
        verdict = ""
        if targets:
            ok = (not scores.gold[t] or scores.recall(t) >= RECALL_TARGETS.get(t, 0.0)) and (
                not scores.predicted[t] or scores.precision(t) >= PRECISION_TARGET
            )
            verdict = "  ok" if ok else "  MISSED"
        print(f"{t:<16} {scores.gold[t]:>8} {recall:>8}   {scores.predicted[t]:>8} {precision:>9}{verdict}")
    print(f"overall precision {scores.overall_precision():.1%}")
    if scores.gold["LOCATION"]:
        print(
            "LOCATION: bare places are not masked by design (R9 names street addresses, not places); its recall "
            "counts only places that sit inside a masked street address"
        )
    if lookalikes:
        share = masked_lookalikes / lookalikes
        verdict = ("  ok" if share <= LOOKALIKE_TARGET else "  MISSED") if targets else ""
        print(f"look-alike texts with anything masked: {masked_lookalikes}/{lookalikes} ({share:.1%}){verdict}")


def _report(args: argparse.Namespace) -> int:
    from keel.privacy import PiiMasker

    masker = PiiMasker("fast" if args.fast else "full")
    if args.file is not None:
        _report_file(args.file, masker, targets=False)
        return 0
    from keel.guardrails.acceptance import load_json
    from keel.guardrails.dataset import sha256_file
    from keel.privacy.dataset import REPO_ROOT, SPLIT_FILE, TEST_FILE
    from keel.settings import public_eval_dir

    expected = str(load_json(SPLIT_FILE)["test_sha256"])
    if sha256_file(TEST_FILE) != expected:
        raise InvalidRequest(f"{TEST_FILE} does not match the sha256 frozen in {SPLIT_FILE}")
    print(f"== frozen PII test split ({TEST_FILE.relative_to(REPO_ROOT)})")
    _report_file(TEST_FILE, masker, targets=True)
    public = (args.public or public_eval_dir(REPO_ROOT)) / "pii.jsonl"
    if public.is_file():
        print(f"\n== public development set ({public.name})")
        _report_file(public, masker, targets=True)
    else:
        print(f"public development set not found at {public}; skipped")
    return 0
