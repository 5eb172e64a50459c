"""The language a user writes in, for the handoff (the agent who picks it up) and for the per-language report."""

from __future__ import annotations

from collections.abc import Sequence

from keel.escalation.triage import UNKNOWN, language

UNDETERMINED = UNKNOWN


def detect(texts: Sequence[str]) -> str:
    """ISO 639-1 code of the latest user messages taken together (one word alone is too little to tell)."""
    return language(" ".join(t for t in texts[-3:] if t)[-600:])
