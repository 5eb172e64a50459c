"""`keel preflight`: the launch-readiness report of the running local stack (R21, R23)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

REPO_ROOT = Path(__file__).resolve().parents[5]


def register(subparsers: Any) -> None:
    """Add the preflight command."""
    parser = subparsers.add_parser(
        "preflight",
        help="launch-readiness report (OWASP LLM Top 10, red team, load, IAM audit, owners) as Markdown and JSON",
        description=(
            "Run every pre-flight check against the running local stack (`make dev`): the OWASP Top 10 for "
            "LLM applications (2025) mapped to Keel's checks and tests, injection and privilege-escalation "
            "suites through the real API, fallback and circuit breaker with the model endpoint down, a garak "
            "red team (offline, own venv), locust load ramps with rate-limit behaviour, an access audit of "
            "the synthesized CDK templates, cdk-nag, secret rotation, alarms, Bedrock invocation logging and "
            "named owners. Writes preflight.md and preflight.json; exits 1 when a check fails."
        ),
    )
    parser.add_argument("--out", type=Path, default=Path("preflight-report"), help="report folder (./preflight-report)")
    parser.add_argument("--skip-load", action="store_true", help="do not run the locust ramps (about 2.5 minutes)")
    parser.add_argument("--skip-garak", action="store_true", help="do not run garak (needs .venv-garak, 3-4 minutes)")
    parser.add_argument("--load-seconds", type=int, default=40, help="seconds per load step (default 40)")
    parser.add_argument(
        "--load-steps", default="10,25,50", help="concurrent users per step, comma-separated (default 10,25,50)"
    )
    parser.add_argument("--garak-prompt-cap", type=int, default=10, help="prompts per garak probe (default 10)")
    parser.add_argument("--cdk-out", type=Path, help="read templates from this cloud assembly instead of synthesizing")
    parser.add_argument("--stage", default="prod", help="stage whose templates are audited (default prod)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the checks, write the report, print the summary table."""
    from keel.launch.preflight import Options, run_preflight
    from keel.local.state import read_stack

    try:
        steps = tuple(int(s) for s in str(args.load_steps).split(",") if s.strip())
    except ValueError as exc:
        raise InvalidRequest("--load-steps: accepted is a comma-separated list of user counts, e.g. 10,25,50") from exc
    if not steps or any(s < 1 for s in steps) or args.load_seconds < 5 or args.garak_prompt_cap < 1:
        raise InvalidRequest("--load-steps must be positive, --load-seconds >= 5, --garak-prompt-cap >= 1")
    info = read_stack()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")  # moto accepts any credentials
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    options = Options(
        repo_root=REPO_ROOT,
        out_dir=args.out.resolve(),
        skip_load=args.skip_load,
        skip_garak=args.skip_garak,
        load_seconds=args.load_seconds,
        load_steps=steps,
        garak_prompt_cap=args.garak_prompt_cap,
        cdk_out=args.cdk_out,
        stage=args.stage,
        tenant_dir=stack_tenant_dir(info),
    )
    import contextlib

    # The stack's handlers print metric lines to stdout in this process only when run in-process; keep ours clean.
    with contextlib.redirect_stdout(sys.stderr):
        report, md, js = run_preflight(info, options)
    width = max(len(f"{c.id} {c.title}") for c in report.checks)
    for check in report.checks:
        print(f"{check.id + ' ' + check.title:<{width}}  {check.status.upper():<7} {check.summary[:150]}")
    print(f"\n{'READY' if report.passed else 'NOT READY'}: report written to {md} and {js}")
    return 0 if report.passed else 1


def stack_tenant_dir(info: dict[str, Any]) -> Path | None:
    """The tenant folder the running stack serves (`keel dev --tenant`), so the checks drive its bots and users; None:
    the example tenant."""
    folder = info.get("environment", {}).get("KEEL_TENANT_DIR")
    return Path(folder) if folder else None
