"""`keel models`: the model registry, the prompt versions, and faults on the local model endpoint."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest, ServiceUnavailable
from keel.local.model_faults import FAULT_MODES as FAULTS

ENVIRONMENTS = ("local", "dev", "staging", "prod")
STAGES = ("dev", "staging", "prod")
REPO_ROOT = Path(__file__).resolve().parents[5]


def register(subparsers: Any) -> None:
    """Add the `models` command group."""
    parser = subparsers.add_parser(
        "models",
        help="list models and prompt versions; script faults on the local model endpoint",
        description="Inspect the model registry and prompt versions (R2, R23); drive the local endpoint's faults.",
    )
    sub = parser.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    sub.required = True

    listing = sub.add_parser(
        "list",
        help="models registered for an environment, with context, prices and owner",
        description="Print the models allowed in an environment and the routing rules (task -> large or small).",
    )
    listing.add_argument("--environment", choices=ENVIRONMENTS, default="local", help="environment (default local)")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=_list)

    prompts = sub.add_parser(
        "prompts",
        help="prompt versions per bot with owner and approval",
        description="Print every prompt version; the served one is marked with *.",
    )
    prompts.add_argument("--bot", help="only this bot")
    prompts.set_defaults(func=_prompts)

    check = sub.add_parser(
        "check",
        help="check a stage's model ids against the dated catalogue and, with AWS credentials, Bedrock itself",
        description=(
            "Fail (exit 1) when a stage names a legacy model, a bare model id where only an inference profile "
            "is served, or a model its Region cannot reach. Reads KEEL_MODEL_* and KEEL_REGION of the stage's "
            "functions from a cloud assembly (--cdk-out) or a fresh synthesis; checks them against "
            "keel/models/registry.json and, when AWS credentials are present (or --endpoint-url is given), "
            "against the Bedrock APIs ListInferenceProfiles, GetInferenceProfile and GetFoundationModel."
        ),
    )
    check.add_argument("--stage", choices=STAGES, default="prod", help="stage to check (default prod)")
    check.add_argument("--cdk-out", type=Path, help="read the stage from this cloud assembly instead of synthesizing")
    check.add_argument("--endpoint-url", help="Bedrock control-plane endpoint (default: the Region's AWS endpoint)")
    check.add_argument("--offline", action="store_true", help="catalogue only; never call AWS")
    check.set_defaults(func=_check)

    fault = sub.add_parser(
        "fault",
        help="make the running local model endpoint throttle, fail, stall, go down or add text to its answers",
        description=(
            "Install a fault rule on the local model endpoint (see `make dev`). `ok` without --model clears "
            "every rule. `append --text T` answers, then adds T: a model that obeyed an injection, to try the "
            "output checks. Modes: " + ", ".join(FAULTS) + "."
        ),
    )
    fault.add_argument("mode", choices=FAULTS, help="what the endpoint does with matching requests")
    fault.add_argument("--model", help="only requests for this model id (default: every model)")
    fault.add_argument("--count", type=int, help="only the next N matching requests")
    fault.add_argument("--rate-limit", type=float, help="throttle above this many requests per second")
    fault.add_argument("--text", help="mode append only: the text added to each answer")
    fault.add_argument("--url", help="endpoint URL (default: the running local stack's model_url)")
    fault.set_defaults(func=_fault)


def _list(args: argparse.Namespace) -> int:
    from keel.models.registry import load_registry_data

    data = load_registry_data()
    allowed = set(data["environments"][args.environment])
    models = [m for m in data["models"] if m["id"] in allowed]
    if args.json:
        print(json.dumps({"environment": args.environment, "models": models, "routing": data["routing"]}, indent=2))
        return 0
    print(f"{'model id':<45} {'context':>8} {'$/1k in':>9} {'$/1k out':>9}  owner")
    for m in models:
        print(
            f"{m['id']:<45} {m['context_tokens']:>8} {m['input_per_1k']:>9.6f} {m['output_per_1k']:>9.6f}  {m['owner']}"
        )
    print("\nrouting (task -> model size): " + json.dumps(data["routing"]["default"]))
    for bot, rules in sorted(data["routing"].get("bots", {}).items()):
        print(f"  {bot}: {json.dumps(rules)}")
    return 0


def _prompts(args: argparse.Namespace) -> int:
    from keel.models.prompt_library import PromptLibrary

    library = PromptLibrary()
    bots = [args.bot] if args.bot else library.bots
    for bot in bots:
        if bot not in library.bots:
            raise InvalidRequest(f"no prompts for bot {bot!r}; accepted: {', '.join(library.bots)}")
        served = library.current(bot).version
        for version in library.versions(bot):
            mark = "*" if version.version == served else " "
            approval = (
                f"approved by {version.approved_by} on {version.approved_at}" if version.approved else "NOT approved"
            )
            print(f"{mark} {version.label:<14} owner {version.owner:<20} {approval}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from keel.launch.templates import load_assembly, models, synthesize

    if args.cdk_out is not None:
        if not (args.cdk_out / f"assembly-{args.stage}").is_dir():
            raise InvalidRequest(f"--cdk-out {args.cdk_out}: no assembly-{args.stage} folder; run `cdk synth` first")
        assembly = load_assembly(args.cdk_out, args.stage)
    else:
        folder = Path(tempfile.mkdtemp(prefix="keel-models-check-"))
        try:
            assembly = synthesize(REPO_ROOT, folder, args.stage)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    _, evidence = models(assembly)
    if not evidence["models"]:
        raise InvalidRequest(f"stage {args.stage}: no function sets KEEL_MODEL_*; nothing to check")
    live = _live_checker(args)
    failed = False
    print(f"stage {args.stage}, catalogue of {evidence['prices_as_of']}; Bedrock: {live[1]}")
    for model_id, entry in evidence["models"].items():
        problems = list(entry["problems"])
        if live[0] is not None and not problems:
            problems += live[0](model_id, str(entry["region"]))
        failed = failed or bool(problems)
        print(f"{'FAIL' if problems else 'ok':<5}{model_id} from {entry['region']} ({', '.join(entry['settings'])})")
        for problem in problems:
            print(f"     - {problem}")
    return 1 if failed else 0


def _live_checker(args: argparse.Namespace) -> tuple[Any, str]:
    """A function (model_id, region) -> problems that asks Bedrock, or None and why not."""
    if args.offline:
        return None, "not asked (--offline)"
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from keel.models.availability import BedrockAvailability

    session = boto3.session.Session()
    if args.endpoint_url is None and session.get_credentials() is None:
        return None, "not asked (no AWS credentials; the catalogue check alone ran)"
    checkers: dict[str, BedrockAvailability] = {}

    def ask(model_id: str, region: str) -> list[str]:
        if region not in checkers:
            client = session.client(
                "bedrock",
                region_name=region,
                endpoint_url=args.endpoint_url,
                config=Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=15),
            )
            checkers[region] = BedrockAvailability(client, region)
        try:
            return checkers[region].problems(model_id)
        except (BotoCoreError, ClientError) as exc:
            raise ServiceUnavailable(f"Bedrock in {region} did not answer the model check: {exc}") from exc

    return ask, f"asked ({args.endpoint_url or 'AWS'})"


def _fault(args: argparse.Namespace) -> int:
    from keel.local.model_server import ModelEndpointControl

    if args.count is not None and args.count < 1:
        raise InvalidRequest("--count must be a positive integer")
    if args.rate_limit is not None and args.rate_limit <= 0:
        raise InvalidRequest("--rate-limit must be a positive number of requests per second")
    if (args.mode == "append") != (args.text is not None):
        raise InvalidRequest("--text goes with mode append, and mode append needs --text")
    url = args.url
    if url is None:
        from keel.local.state import read_stack

        url = read_stack().get("model_url")
        if not url:
            raise InvalidRequest("the running local stack records no model_url; pass --url")
    try:
        rules = ModelEndpointControl(url).fault(
            args.mode, model=args.model, count=args.count, rate_limit_per_second=args.rate_limit, text=args.text
        )
    except OSError as exc:
        raise InvalidRequest(f"the model endpoint at {url} did not answer: {exc}") from exc
    print(json.dumps(rules, indent=2))
    return 0
