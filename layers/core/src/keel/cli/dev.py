"""`keel dev`: run the whole platform locally on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from typing import Any

from keel.cli.tenant import add_tenant_argument


def register(subparsers: Any) -> None:
    """Add the dev command."""
    parser = subparsers.add_parser(
        "dev",
        help="run the local stack (moto, osmem-server, model endpoint, API, web)",
        description=(
            "Start every local stand-in for AWS on 127.0.0.1, provision it, seed the tenant (--tenant FOLDER, "
            "default: the example tenant) with its users and documents, and serve the "
            "API and web pages. Data written while it runs (conversations, audit records, uploads) is saved to "
            ".keel/snapshot.json on Ctrl-C and loaded on the next start; --reset starts from fresh demo data."
        ),
    )
    parser.add_argument("--reset", action="store_true", help="discard saved data and start from the demo seed")
    parser.add_argument("--port", type=int, default=8080, help="API and web port on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--no-seed", action="store_true", help="do not create the tenant's users or index its documents"
    )
    add_tenant_argument(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the stack, print where to open it, and stop everything on Ctrl-C."""
    from keel.local.stack import start_stack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Client libraries log every request at INFO (opensearch-py a line per search); keep the console for Keel.
    for chatty in ("werkzeug", "opensearch", "urllib3", "websockets"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    print("keel: starting the local stack ...", flush=True)
    stack = start_stack(reset=args.reset, seed=not args.no_seed, api_port=args.port, tenant_dir=args.tenant)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        _announce(stack)
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("\nkeel: stopping the local stack and saving its data ...", flush=True)
        stack.stop()
    return 0


def _announce(stack: Any) -> None:
    health = stack.health()
    print(f"\nKeel is running: open {stack.api.url}/ (health: {stack.api.url}/healthz -> {health['status']})")
    for name, component in health["components"].items():
        print(f"  {name:<11} {component['status']}")
    if stack.users:
        print("\nLogins of the tenant's users.json (local only):")
        for user in stack.users:
            groups = ",".join(user["groups"])
            print(f"  {user['username']:<16} {user['password']:<18} {groups}")
        first = next((u for u in stack.users if not u.get("external")), stack.users[0])
        print(f'\nTry: keel ask "..." --user {first["username"]} --groups {",".join(first["groups"])}')
    print("Ctrl-C stops every process started here.", flush=True)
