"""`keel eval scenarios`: the regression gate for a candidate prompt or model against per-bot baselines (R22)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

REPO_ROOT = Path(__file__).resolve().parents[5]
DEFAULT_SCENARIOS = REPO_ROOT / "evals" / "scenarios"
DEFAULT_BASELINES = REPO_ROOT / "evals" / "baselines"


def register_scenarios(commands: Any) -> None:
    """Add `keel eval scenarios` to the eval group."""
    from keel.cli.tenant import add_tenant_argument

    parser = commands.add_parser(
        "scenarios",
        help="golden scenarios per bot for a candidate prompt/model vs a baseline; exits 1 on regression",
        description=(
            "Ask every golden scenario (evals/scenarios/<bot>.jsonl) through the real turn with a candidate "
            "configuration, score behaviour match (answer/refuse/escalate), expected documents cited, "
            "must-include facts, latency p95 and cost per turn, and compare each bot with its baseline "
            "(evals/baselines/<bot>.json). Exit 1 when a figure regresses beyond the thresholds "
            "(docs/launch.md), 0 otherwise. Runs the turn in-process against the running local stack "
            "(`make dev`), or against a deployed API with --api-url and --tokens."
        ),
    )
    parser.add_argument("--bot", action="append", help="only this bot (repeatable; default: every scenario file)")
    parser.add_argument("--scenarios", type=Path, default=DEFAULT_SCENARIOS, help="folder of <bot>.jsonl")
    parser.add_argument(
        "--candidate-prompt-version", type=int, help="serve prompt version N (an approved vN.md) for every bot"
    )
    parser.add_argument(
        "--candidate-prompt-dir", type=Path, help="serve the prompts in DIR/<bot>/vN.md (newest approved per bot)"
    )
    parser.add_argument("--candidate-model", help="primary model id of the candidate (registered for the stage)")
    parser.add_argument("--baseline", type=Path, help="one baseline file (with a single --bot)")
    parser.add_argument("--baselines", type=Path, default=DEFAULT_BASELINES, help="folder of <bot>.json baselines")
    parser.add_argument(
        "--record-baseline", action="store_true", help="write this run as the baseline of each bot instead of gating"
    )
    parser.add_argument("--quality-drop", type=float, default=0.05, help="allowed drop of each quality rate (0.05)")
    parser.add_argument(
        "--latency-ratio", type=float, default=2.0, help="allowed growth of p95 latency (2x, and always +1000 ms)"
    )
    parser.add_argument("--cost-ratio", type=float, default=1.2, help="allowed growth of cost per turn (1.2x)")
    parser.add_argument("--users", type=Path, default=None, help="users.json (default: the tenant's)")
    add_tenant_argument(parser)
    parser.add_argument("--api-url", help="put the scenarios to this deployed API instead of the local turn")
    parser.add_argument("--tokens", type=Path, help="with --api-url: JSON {username: bearer token}")
    parser.add_argument("--out", type=Path, help="write the full JSON report here")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the gate; 1 when the candidate regresses, 0 when it holds (or a baseline was recorded)."""
    from keel.launch.scenarios import Thresholds, compare, load_scenarios, read_baseline, run_bot, write_baseline

    if args.quality_drop < 0 or args.latency_ratio < 1 or args.cost_ratio < 1:
        raise InvalidRequest("--quality-drop must be >= 0, --latency-ratio and --cost-ratio >= 1")
    if args.baseline is not None and (not args.bot or len(args.bot) != 1):
        raise InvalidRequest("--baseline FILE gates one bot: give exactly one --bot")
    scenarios = load_scenarios(args.scenarios, args.bot)
    ask = _runner(args, sorted(scenarios))
    thresholds = Thresholds(
        behaviour_drop=args.quality_drop,
        doc_recall_drop=args.quality_drop,
        must_include_drop=args.quality_drop,
        latency_ratio=args.latency_ratio,
        cost_ratio=args.cost_ratio,
    )
    report: dict[str, Any] = {"candidate": _candidate(args), "thresholds": thresholds.__dict__, "bots": {}}
    failed = False
    lines = []
    if hasattr(ask, "warm"):
        with contextlib.redirect_stdout(sys.stderr):
            ask.warm(next(iter(scenarios.values()))[0])
    for bot, rows in scenarios.items():
        # The turn's metric lines (EMF) go to stdout in Lambda; here they would bury the report.
        with contextlib.redirect_stdout(sys.stderr):
            summary = run_bot(bot, rows, ask)
        path = args.baseline or args.baselines / f"{bot}.json"
        if args.record_baseline:
            write_baseline(path, summary)
            report["bots"][bot] = {"candidate": summary.to_dict(), "recorded": str(path)}
            lines.append(_row(bot, None, summary, "recorded"))
            continue
        baseline = read_baseline(path)
        regressions = compare(baseline, summary, thresholds)
        failed = failed or bool(regressions)
        report["bots"][bot] = {
            "baseline": {k: v for k, v in baseline.to_dict().items() if k != "results"},
            "candidate": summary.to_dict(),
            "regressions": [r.__dict__ for r in regressions],
        }
        lines.append(_row(bot, baseline, summary, "REGRESSED" if regressions else "ok"))
        lines += [f"    {r.describe()}" for r in regressions]
    report["passed"] = not failed
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        header = f"{'bot':<10} {'behaviour':>15} {'docs cited':>15} {'must include':>15} {'p95 ms':>15} {'$/turn':>20}"
        print(header)
        print("\n".join(lines))
        if not args.record_baseline:
            print("gate: " + ("FAILED (candidate regresses)" if failed else "passed"))
    return 1 if failed else 0


def _runner(args: argparse.Namespace, bots: list[str]) -> Any:
    from keel.launch.runners import HttpRunner, InProcessRunner, demo_principals, prompt_library

    if args.api_url:
        if args.candidate_prompt_version or args.candidate_prompt_dir or args.candidate_model:
            raise InvalidRequest("--api-url gates what is deployed there; candidate options apply to the local turn")
        tokens = _tokens(args.tokens)
        return HttpRunner(args.api_url, lambda user: _token(tokens, user))
    from keel.local.state import read_stack

    environment = read_stack()["environment"]
    for key, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        os.environ.setdefault(key, value)  # moto accepts any credentials; never look for real ones
    prompts = prompt_library(args.candidate_prompt_version, args.candidate_prompt_dir, bots)
    from keel.cli.tenant import tenant_from

    users = args.users or tenant_from(args).users_file()
    if users is None:
        raise InvalidRequest("the tenant has no users.json; pass --users users.json")
    return InProcessRunner(environment, demo_principals(users), prompts=prompts, model_id=args.candidate_model or None)


def _tokens(path: Path | None) -> dict[str, str]:
    if path is None or not path.is_file():
        raise InvalidRequest("--api-url needs --tokens FILE: JSON {username: bearer token} for the scenario users")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidRequest(f"{path} is not JSON {{username: token}}") from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"{path}: accepted is a JSON object {{username: token}}")
    return {str(k): str(v) for k, v in data.items()}


def _token(tokens: dict[str, str], user: str) -> str:
    if user not in tokens:
        raise InvalidRequest(f"--tokens has no token for scenario user {user!r}")
    return tokens[user]


def _candidate(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "prompt_version": args.candidate_prompt_version,
        "prompt_dir": str(args.candidate_prompt_dir) if args.candidate_prompt_dir else None,
        "model": args.candidate_model,
        "api_url": args.api_url,
    }


def _row(bot: str, baseline: Any, candidate: Any, verdict: str) -> str:
    def pair(metric: str, fmt: str) -> str:
        now = getattr(candidate, metric)
        now_text = "-" if now is None else format(now, fmt)
        if baseline is None:
            return now_text
        before = getattr(baseline, metric)
        return f"{'-' if before is None else format(before, fmt)}->{now_text}"

    return (
        f"{bot:<10} {pair('behaviour_match', '.2f'):>15} {pair('doc_recall', '.2f'):>15} "
        f"{pair('must_include', '.2f'):>15} {pair('latency_p95_ms', '.0f'):>15} "
        f"{pair('cost_per_turn_usd', '.5f'):>20}  {verdict}"
    )
