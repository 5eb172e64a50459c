"""A checked reply becomes delta frames that rebuild it exactly, then one done frame with the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.channels.streaming import chunks, frames
from keel.conversations.models import ChatReply, Citation


@given(st.text(max_size=600), st.integers(min_value=1, max_value=80))
def test_chunks_join_back_to_the_text_and_respect_the_size(text: str, size: int) -> None:
    pieces = chunks(text, size)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= size for p in pieces)


def test_chunks_break_on_word_boundaries_when_they_can() -> None:
    assert chunks("alpha beta gamma delta", 12) == ["alpha beta ", "gamma delta"]


def test_chunk_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        chunks("x", 0)


def test_done_frame_carries_citations_and_outcome_but_not_the_answer_again() -> None:
    reply = ChatReply(
        conversation_id="conv-0001",
        message_id="msg-0001",
        answer="Refunds are possible within 30 days. [customer-refunds]",
        citations=[Citation(doc_id="customer-refunds", title="Refunds", snippet="Refunds are possible")],
        confidence=0.9,
    )
    out = frames(reply, request_id="r1", size=10)
    assert [f["type"] for f in out[:-1]] == ["delta"] * (len(out) - 1)
    assert "".join(f["text"] for f in out[:-1]) == reply.answer
    done = out[-1]
    assert done["type"] == "done" and "answer" not in done
    assert done["citations"][0]["doc_id"] == "customer-refunds"
    assert done["message_id"] == "msg-0001" and done["request_id"] == "r1" and done["outcome"] == "answered"
