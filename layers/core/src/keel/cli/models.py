"""`keel models`: the model registry, the prompt versions, and faults on the local model endpoint."""

from __future__ import annotations

import argparse
import json
from typing import Any

from keel.errors import InvalidRequest

ENVIRONMENTS = ("local", "dev", "staging", "prod")
FAULTS = ("ok", "throttle", "error", "model_error", "stall", "down")


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

    fault = sub.add_parser(
        "fault",
        help="make the running local model endpoint throttle, fail, stall or go down",
        description=(
            "Install a fault rule on the local model endpoint (see `make dev`). `ok` without --model clears "
            "every rule. Modes: " + ", ".join(FAULTS) + "."
        ),
    )
    fault.add_argument("mode", choices=FAULTS, help="what the endpoint does with matching requests")
    fault.add_argument("--model", help="only requests for this model id (default: every model)")
    fault.add_argument("--count", type=int, help="only the next N matching requests")
    fault.add_argument("--rate-limit", type=float, help="throttle above this many requests per second")
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


def _fault(args: argparse.Namespace) -> int:
    from keel.local.model_server import ModelEndpointControl

    if args.count is not None and args.count < 1:
        raise InvalidRequest("--count must be a positive integer")
    if args.rate_limit is not None and args.rate_limit <= 0:
        raise InvalidRequest("--rate-limit must be a positive number of requests per second")
    url = args.url
    if url is None:
        from keel.local.state import read_stack

        url = read_stack().get("model_url")
        if not url:
            raise InvalidRequest("the running local stack records no model_url; pass --url")
    try:
        rules = ModelEndpointControl(url).fault(
            args.mode, model=args.model, count=args.count, rate_limit_per_second=args.rate_limit
        )
    except OSError as exc:
        raise InvalidRequest(f"the model endpoint at {url} did not answer: {exc}") from exc
    print(json.dumps(rules, indent=2))
    return 0
