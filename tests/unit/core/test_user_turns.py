"""next_user_turn: the number of the next user message, carried on each stored user message past the window."""

from __future__ import annotations

from keel.conversations.models import ChatRequest
from keel.conversations.ports import StoredMessage, next_user_turn
from tests.unit.core.test_turn import harness

AT = "2026-11-24T10:00:00+00:00"


def _user(seq: int, meta: dict[str, object] | None = None) -> StoredMessage:
    return StoredMessage("c", f"u{seq}", seq, "user", "hi", AT, meta or {})


def _reply(seq: int) -> StoredMessage:
    return StoredMessage("c", f"a{seq}", seq, "assistant", "ok", AT)


def test_the_first_message_is_turn_zero() -> None:
    assert next_user_turn([]) == 0


def test_the_latest_user_messages_number_decides_not_the_window() -> None:
    window = [m for n in range(30, 36) for m in (_user(2 * n, {"turn": n}), _reply(2 * n + 1))]
    assert next_user_turn(window) == 36


def test_messages_stored_before_they_carried_a_number_are_counted() -> None:
    assert next_user_turn([_user(0), _reply(1), _user(2), _reply(3)]) == 2


def test_agent_and_event_messages_after_the_last_user_message_do_not_count() -> None:
    agent = StoredMessage("c", "g", 3, "agent", "hello, I'm Sam", AT)
    assert next_user_turn([_user(0, {"turn": 7}), _reply(1), agent]) == 8


def test_a_number_that_is_not_a_count_is_not_trusted() -> None:
    for bad in (True, -1, "7", 2.5, None):
        assert next_user_turn([_user(0), _reply(1), _user(2, {"turn": bad})]) == 2


def test_the_turn_stores_each_user_message_with_its_number_past_the_window() -> None:
    h = harness()
    conversation = None
    for n in range(9):
        request = ChatRequest(
            bot="hr", message=f"How many days of annual leave do I get? ({n})", conversation_id=conversation
        )
        conversation = h.service.reply("t-emma", request, channel="api").reply.conversation_id
    assert conversation is not None
    users = [m for m in h.store.messages(conversation, limit=100) if m.role == "user"]
    assert [m.meta["turn"] for m in users] == list(range(9))
