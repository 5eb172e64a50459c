"""Frames a checked reply into a stream for the web channel: delta chunks, then one done frame.

The output checks run on the whole reply inside the turn before anything leaves, so the stream is cut
from the already-checked answer; nothing unchecked is ever sent ahead of the verdict (R11).
"""

from __future__ import annotations

from typing import Any

from keel.conversations.models import ChatReply

# What a "talk to a person" button sends through the same turn; the escalation stage honours it (R17).
HUMAN_REQUEST = "I would like to talk to a person, please."
CHUNK_CHARS = 48


def chunks(text: str, size: int = CHUNK_CHARS) -> list[str]:
    """Pieces of about size characters that end on word boundaries and join back to text exactly."""
    if size < 1:
        raise ValueError("chunk size must be at least 1")
    pieces: list[str] = []
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            space = text.rfind(" ", start + 1, end)
            if space > start:
                end = space + 1
        pieces.append(text[start:end])
        start = end
    return pieces


def frames(reply: ChatReply, *, request_id: str | None = None, size: int = CHUNK_CHARS) -> list[dict[str, Any]]:
    """The frames the client receives for one reply: {type: delta, text} ... then {type: done, ...}."""
    base = {"request_id": request_id} if request_id else {}
    out: list[dict[str, Any]] = [{"type": "delta", "text": piece, **base} for piece in chunks(reply.answer, size)]
    done = reply.model_dump(mode="json")
    done.pop("answer")
    out.append({"type": "done", **done, **base})
    return out
