"""Where the running local stack says it is: `.keel/stack.json`, written by `keel dev`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from keel.errors import ServiceUnavailable


def state_dir() -> Path:
    """The folder holding the local stack's state (KEEL_STATE_DIR, default ./.keel)."""
    return Path(os.environ.get("KEEL_STATE_DIR", ".keel")).resolve()


def stack_file() -> Path:
    """The file `keel dev` writes its endpoints to."""
    return state_dir() / "stack.json"


def write_stack(info: dict[str, Any]) -> Path:
    """Record the running stack's endpoints for the other commands."""
    path = stack_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2, sort_keys=True))
    return path


def clear_stack() -> None:
    """Forget the running stack (on shutdown)."""
    stack_file().unlink(missing_ok=True)


def read_stack() -> dict[str, Any]:
    """The running stack's endpoints, or a clear error telling the user to start it."""
    path = stack_file()
    if not path.is_file():
        raise ServiceUnavailable(f"no local stack is running ({path} is missing); start one with `make dev`")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except ValueError as exc:
        raise ServiceUnavailable(f"{path} is not valid JSON; restart the local stack with `make dev`") from exc
    return data
