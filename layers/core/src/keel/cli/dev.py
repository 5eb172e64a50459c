"""`keel dev`: run the whole platform locally on 127.0.0.1."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from keel.cli.tenant import add_tenant_argument
from keel.local.servers import LOOPBACK

# What a terminal (Ctrl-C, closing the window) or a supervisor (systemd, docker, CI) sends to stop a process.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def register(subparsers: Any) -> None:
    """Add the dev command."""
    parser = subparsers.add_parser(
        "dev",
        help="run the local stack (moto, osmem-server, model endpoint, API, web)",
        description=(
            "Start every local stand-in for AWS on 127.0.0.1, provision it, seed the tenant (--tenant FOLDER, "
            "default: the example tenant) with its users and documents, and serve the "
            "API and web pages. Data written while it runs (users, conversations, audit records, escalations and "
            "tickets, ingested documents, uploads) is saved to .keel/snapshot.json on Ctrl-C, SIGTERM or SIGHUP "
            "and loaded on the next start; --reset starts from fresh demo data. Exit codes: 0 stopped and saved, "
            "1 the save failed, 2 the stack could not start (e.g. the port is in use), 130 interrupted while starting."
        ),
    )
    parser.add_argument("--reset", action="store_true", help="discard saved data and start from the demo seed")
    parser.add_argument("--port", type=int, default=8080, help="API and web port on 127.0.0.1 (default 8080)")
    parser.add_argument(
        "--no-seed", action="store_true", help="do not create the tenant's users or index its documents"
    )
    add_tenant_argument(parser)
    parser.set_defaults(func=run_and_exit)


def run_and_exit(args: argparse.Namespace) -> int:
    """Run, then end the process at once: everything is stopped and saved by then.

    Tearing down the interpreter's loaded models (spaCy, the ONNX runtime) took another 4-6 s, which a
    supervisor waiting for the stop would count against its timeout.
    """
    code = run(args)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run(args: argparse.Namespace) -> int:
    """Start the stack, print where to open it, and stop everything on Ctrl-C, SIGTERM or SIGHUP.

    Exit codes: 0 after a clean stop with the data saved, 1 when the data could not be saved, 2 when the
    stack could not start (a port in use, a stand-in that does not answer), 130 when interrupted while starting.
    """
    from keel.local.snapshot import SnapshotError
    from keel.local.stack import start_stack

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Client libraries log every request at INFO (opensearch-py a line per search); keep the console for Keel.
    for chatty in ("werkzeug", "opensearch", "urllib3", "websockets"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    problem = port_problem(args.port)
    if problem:
        print(f"keel: {problem}", file=sys.stderr, flush=True)
        return 2
    print("keel: starting the local stack ...", flush=True)
    try:
        stack = start_stack(reset=args.reset, seed=not args.no_seed, api_port=args.port, tenant_dir=args.tenant)
    except KeyboardInterrupt:
        print("\nkeel: interrupted while starting; nothing was saved (the last snapshot is unchanged)", flush=True)
        return 130
    except Exception as exc:  # a stand-in that does not start or answer: say which, never a traceback
        logging.getLogger("keel.cli.dev").debug("start failed", exc_info=True)
        print(f"keel: the local stack could not start: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 2
    stopped = threading.Event()
    received: list[str] = []

    def request_stop(signum: int, _frame: Any) -> None:
        received.append(signal.Signals(signum).name)
        if stopped.is_set():
            print(f"\nkeel: {received[-1]} again; still saving, please wait", flush=True)
        stopped.set()

    for signum in STOP_SIGNALS:
        signal.signal(signum, request_stop)
    _announce(stack)
    while not stopped.wait(0.5):
        pass
    print(f"\nkeel: {received[0]} received; stopping the local stack and saving its data ...", flush=True)
    try:
        stack.stop()
    except SnapshotError as exc:
        print(f"keel: ERROR: {exc.message}", file=sys.stderr, flush=True)
        return 1
    print("keel: stopped; data saved", flush=True)
    return 0


def port_problem(port: int) -> str | None:
    """Why the API cannot listen on 127.0.0.1:port, checked before anything starts; None if it can."""
    if not 0 < port < 65536:
        return f"--port {port} is not a TCP port; use 1-65535"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the API's server does
        try:
            probe.bind((LOOPBACK, port))
        except OSError as exc:
            return (
                f"port {port} on {LOOPBACK} is not available ({exc.strerror or exc}); another `keel dev` or "
                "another server may be using it. Stop it, or pass a free port with --port"
            )
    return None


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
