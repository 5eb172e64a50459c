"""`keel cost`: a stage's idle monthly cost and its cost per 1,000 turns (R3)."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

STAGES = ("dev", "staging", "prod")
REPO_ROOT = Path(__file__).resolve().parents[5]
TURN_PROFILE = REPO_ROOT / "evals" / "baselines" / "tokens_per_turn.json"


def register(subparsers: Any) -> None:
    """Add the cost command."""
    parser = subparsers.add_parser(
        "cost",
        help="estimate a stage's idle monthly cost and its cost per 1,000 turns",
        description=(
            "Read the stage's synthesized templates (--cdk-out, or a fresh synthesis with bundling skipped) and "
            "price what bills with no traffic (NAT gateways, OpenSearch, KMS keys, secrets, alarms, dashboards, "
            "WAF, VPC endpoints, log retention) from the dated table keel/launch/aws_prices.json; price 1,000 "
            "turns from the model catalogue and the measured tokens per turn."
        ),
    )
    parser.add_argument("--stage", choices=(*STAGES, "all"), default="all", help="stage (default: all three)")
    parser.add_argument("--cdk-out", type=Path, help="read templates from this cloud assembly instead of synthesizing")
    parser.add_argument(
        "--idle-log-gb", type=float, default=1.0, help="platform logs written per month with no traffic (default 1)"
    )
    parser.add_argument("--turn-profile", type=Path, default=TURN_PROFILE, help="measured tokens per turn (JSON)")
    parser.add_argument("--top", type=int, default=8, help="idle items listed before the rest is summed (default 8)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print each stage's bill."""
    from keel.launch.cost import load_turn_profile, stage_cost, table

    if args.idle_log_gb < 0 or args.top < 1:
        raise InvalidRequest("--idle-log-gb must be 0 or more and --top at least 1")
    profile = load_turn_profile(args.turn_profile)
    stages = list(STAGES) if args.stage == "all" else [args.stage]
    costs = [stage_cost(s, _assembly(args.cdk_out, s), profile, idle_log_gb=args.idle_log_gb) for s in stages]
    if args.json:
        print(json.dumps([c.to_dict() for c in costs], indent=2))
    else:
        print("\n\n".join(table(c, top=args.top) for c in costs))
    return 0


def _assembly(cdk_out: Path | None, stage: str) -> Any:
    from keel.launch.templates import load_assembly, synthesize

    if cdk_out is not None:
        if not (cdk_out / f"assembly-{stage}").is_dir():
            raise InvalidRequest(f"--cdk-out {cdk_out}: no assembly-{stage} folder; run `cdk synth` first")
        return load_assembly(cdk_out, stage)
    folder = Path(tempfile.mkdtemp(prefix="keel-cost-"))
    try:
        return synthesize(REPO_ROOT, folder, stage)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
