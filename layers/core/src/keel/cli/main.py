"""The `keel` command: one argparse tree; each group lives in its own module with register()."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from keel.errors import KeelError

# Each name is a module keel.cli.<name> exposing register(subparsers).
GROUPS: tuple[str, ...] = (
    "dev",
    "ask",
    "access",
    "audit",
    "kb",
    "eval",
    "guard",
    "pii",
    "escalation",
    "openapi",
    "models",
    "report",
    "preflight",
    "cost",
    "feedback",
    "tenant",
)


def build_parser() -> argparse.ArgumentParser:
    """The full parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="keel", description="Keel: the enterprise chatbot platform that survives production."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in GROUPS:
        importlib.import_module(f"keel.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keel` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except KeelError as exc:
        print(f"keel: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
