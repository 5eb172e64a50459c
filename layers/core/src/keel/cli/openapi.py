"""`keel openapi`: write or check the HTTP API contract generated from the code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEFAULT_PATH = Path("docs/openapi.json")


def register(subparsers: Any) -> None:
    """Add the openapi command."""
    parser = subparsers.add_parser(
        "openapi",
        help="write or check docs/openapi.json, the HTTP API contract generated from the code",
        description="Generate the OpenAPI 3.1 document from the route table in keel.channels.openapi and the "
        "pydantic models, and write it (default) or check that the checked-in copy matches (--check).",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_PATH, help="where the document lives (%(default)s)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the code")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from keel.channels.openapi import render

    document = render()
    path: Path = args.output
    if args.check:
        current = path.read_text() if path.is_file() else ""
        if current != document:
            print(f"{path} is out of date with the code; run `keel openapi` and commit it", file=sys.stderr)
            return 1
        print(f"{path} matches the code")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document)
    print(f"wrote {path}")
    return 0
