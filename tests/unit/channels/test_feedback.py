"""Feedback is stored only on the caller's own answers, and a thumb and a CSAT merge into one record."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from keel.channels.feedback import FeedbackRequest
from keel.conversations.models import ChatRequest
from keel.errors import NotFound
from tests.unit.channels.world import CARLA, EMMA, World


def answered(world: World) -> tuple[str, str]:
    reply = world.service.reply_as(CARLA, ChatRequest(bot="customer", message="Are refunds possible?"), channel="web")
    return reply.reply.conversation_id, reply.reply.message_id


def test_thumb_then_csat_end_up_on_one_record() -> None:
    world = World()
    conversation, message = answered(world)
    world.feedback.give(
        CARLA, FeedbackRequest(conversation_id=conversation, message_id=message, rating="down"), channel="web"
    )
    receipt = world.feedback.give(
        CARLA, FeedbackRequest(conversation_id=conversation, message_id=message, csat=4), channel="web"
    )
    assert (receipt.rating, receipt.csat) == ("down", 4)
    stored = world.feedback_store.items[(conversation, message)]
    assert (stored.subject, stored.bot, stored.channel) == (CARLA.subject, "customer", "web")


def test_feedback_on_someone_elses_conversation_is_reported_as_missing() -> None:
    world = World()
    conversation, message = answered(world)
    with pytest.raises(NotFound, match="does not exist"):
        world.feedback.give(
            EMMA, FeedbackRequest(conversation_id=conversation, message_id=message, rating="up"), channel="web"
        )
    assert world.feedback_store.items == {}


def test_feedback_on_a_user_message_is_refused() -> None:
    world = World()
    conversation, _ = answered(world)
    user_message = world.conversations.messages(conversation)[0].message_id
    with pytest.raises(NotFound, match="answers only"):
        world.feedback.give(
            CARLA, FeedbackRequest(conversation_id=conversation, message_id=user_message, rating="up"), channel="web"
        )


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({}, "give rating"),
        ({"csat": 6}, "less than or equal to 5"),
        ({"csat": 0}, "greater than or equal to 1"),
        ({"rating": "meh"}, "'up' or 'down'"),
        ({"rating": "up", "comment": "x"}, "Extra inputs"),
    ],
)
def test_bad_feedback_is_refused_saying_what_is_accepted(fields: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        FeedbackRequest.model_validate({"conversation_id": "conv-0001", "message_id": "msg-0001", **fields})
