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


def test_a_concurrent_turn_that_stores_first_pushes_this_turns_number_on() -> None:
    # Given a conversation of two turns (numbers 0 and 1), When another turn of the same conversation stores its
    # user message first (number 2, at the seq this turn meant to take), Then this turn's message is numbered 3, so a
    # confirmation asked in either of the two turns is not answered by the other's next message.
    h = harness()
    first = ChatRequest(bot="hr", message="How many days of annual leave do I get?")
    conversation = h.service.reply("t-emma", first, channel="api").reply.conversation_id
    second = ChatRequest(bot="hr", message="And how do I connect to the VPN?", conversation_id=conversation)
    h.service.reply("t-emma", second, channel="api")
    original = h.store.append
    raced: list[int] = []

    def append_after_a_concurrent_turn(message: StoredMessage) -> None:
        if message.role == "user" and not raced:
            concurrent = StoredMessage(
                conversation, "u-other", message.seq, "user", "hi", AT, {"turn": message.meta["turn"]}
            )
            original(concurrent)
            raced.append(message.meta["turn"])
        original(message)

    h.store.append = append_after_a_concurrent_turn  # type: ignore[method-assign]
    third = ChatRequest(bot="hr", message="Where is the expense policy?", conversation_id=conversation)
    h.service.reply("t-emma", third, channel="api")

    users = [m for m in h.store.messages(conversation, limit=100) if m.role == "user"]
    assert raced == [2]
    assert [(m.text, m.meta["turn"]) for m in users][-2:] == [("hi", 2), ("Where is the expense policy?", 3)]


def test_a_window_without_user_messages_numbers_on_from_its_first_seq() -> None:
    # Given a confirmation asked on turn 0 (message seq 0), then the user's "I want a person" (turn 1, seq 2), then a
    # person and the system writing fourteen messages, When the user writes again, Then the window the turn reads holds
    # no user message, and the number is the window's first seq (no number exceeds its message's seq), so the
    # confirmation of turn 0 cannot be answered by the next message (it would be turn 1 if counting restarted at 0).
    people = [StoredMessage("c", f"g{seq}", seq, "agent", "checking", AT) for seq in range(4, 18)]
    window = people[-12:]
    assert next_user_turn(window) == 6
    assert next_user_turn([*window, _user(18, {"turn": 6}), _reply(19)]) == 7


def test_a_conflict_on_the_reply_stores_the_reply_alone_again_never_the_user_message() -> None:
    # Given a person writes into the conversation at the seq this turn's reply meant to take, When the turn records,
    # Then its user message is stored once (it used to be stored a second time with the next number, so the model saw
    # it twice and a confirmation asked in the turn expected a number the next message never had), and the reply
    # follows the person's message.
    h = harness()
    first = ChatRequest(bot="hr", message="How many days of annual leave do I get?")
    conversation = h.service.reply("t-emma", first, channel="api").reply.conversation_id
    original = h.store.append
    raced: list[int] = []

    def append_after_a_person(message: StoredMessage) -> None:
        if message.role == "assistant" and not raced:
            original(StoredMessage(conversation, "g-sam", message.seq, "agent", "Sam here, one moment", AT))
            raced.append(message.seq)
        original(message)

    h.store.append = append_after_a_person  # type: ignore[method-assign]
    second = ChatRequest(bot="hr", message="Where is the expense policy?", conversation_id=conversation)
    h.service.reply("t-emma", second, channel="api")

    stored = h.store.messages(conversation, limit=100)
    assert [(m.seq, m.role) for m in stored] == [
        (0, "user"),
        (1, "assistant"),
        (2, "user"),
        (3, "agent"),
        (4, "assistant"),
    ]
    assert [m.meta["turn"] for m in stored if m.role == "user"] == [0, 1]
    assert raced == [3]
