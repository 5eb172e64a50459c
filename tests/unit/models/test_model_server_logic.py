"""Pure parts of the local model endpoint: event-stream framing, tool choice, answers, fault rules."""

from __future__ import annotations

import struct

import pytest
from botocore.eventstream import EventStreamBuffer

from keel.local.model_server import (
    ModelServerState,
    choose_tool,
    decode_events,
    encode_event,
    respond,
    stream_events,
)
from keel.models.extractive import NO_ANSWER

TOOLS = [
    {
        "toolSpec": {
            "name": "create_ticket",
            "description": "Open a helpdesk ticket",
            "inputSchema": {
                "json": {
                    "type": "object",
                    "properties": {
                        "summary": {"type": "string"},
                        "priority": {"type": "string", "enum": ["low", "high"]},
                        "asset_id": {"type": "string"},
                        "count": {"type": "integer"},
                    },
                    "required": ["summary"],
                }
            },
        }
    },
    {"toolSpec": {"name": "reset_password", "description": "Reset the user's password", "inputSchema": {"json": {}}}},
]


def test_events_carry_valid_crcs_and_botocore_parses_them() -> None:
    data = encode_event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}})
    [(headers, payload)] = decode_events(data)
    assert headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert payload["delta"]["text"] == "Hi"
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    [message] = list(buffer)
    assert message.headers[":event-type"] == "contentBlockDelta"


def test_a_corrupted_message_fails_its_crc() -> None:
    data = bytearray(encode_event("messageStop", {"stopReason": "end_turn"}))
    data[-6] ^= 0xFF
    with pytest.raises(ValueError, match="message CRC"):
        decode_events(bytes(data))
    prelude = bytearray(data)
    prelude[0:4] = struct.pack("!I", 999)
    with pytest.raises(ValueError, match="prelude CRC"):
        decode_events(bytes(prelude))


def test_stream_has_the_converse_stream_event_sequence() -> None:
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"text": '<source doc_id="d">Leave is 25 days.</source><question>How long is leave?</question>'}
                ],
            }
        ]
    }
    events = [h[":event-type"] for data in stream_events(respond(body)) for h, _ in decode_events(data)]
    assert events[0] == "messageStart"
    assert events[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert set(events[1:-3]) == {"contentBlockDelta"}


@pytest.mark.parametrize(
    "question",
    ["How do I reset my password?", "What is a ticket?", "Why was my ticket closed?", "Tell me about leave"],
)
def test_questions_are_not_actions(question: str) -> None:
    assert choose_tool(question, TOOLS) is None


def test_a_request_picks_the_matching_tool_with_inputs_from_the_question_only() -> None:
    call = choose_tool("Please create a ticket with high priority for laptop LT-4411, 2 screens broken", TOOLS)
    assert call is not None and call["name"] == "create_ticket"
    assert call["input"] == {
        "summary": "Please create a ticket with high priority for laptop LT-4411, 2 screens broken",
        "priority": "high",
        "asset_id": "LT-4411",
        "count": 2,
    }
    assert choose_tool("Reset my password", TOOLS)["name"] == "reset_password"  # type: ignore[index]
    assert choose_tool("Can you book a meeting room?", TOOLS) is None


def test_tool_inputs_never_come_from_source_text() -> None:
    text = '<source doc_id="d">Asset XZ-999 is high priority.</source><question>Please create a ticket</question>'
    body = {"messages": [{"role": "user", "content": [{"text": text}]}], "toolConfig": {"tools": TOOLS}}
    block = respond(body)["output"]["message"]["content"][0]["toolUse"]
    assert block["input"] == {"summary": "Please create a ticket"}


def test_answers_come_only_from_sources_and_tool_results_are_quoted() -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "What is the capital of France?"}]}]}
    assert respond(body)["output"]["message"]["content"][0]["text"] == NO_ANSWER
    tool_result = {"toolResult": {"toolUseId": "t", "content": [{"json": {"ticket": "INC-1"}}]}}
    body = {"messages": [{"role": "user", "content": [tool_result]}]}
    assert respond(body)["output"]["message"]["content"][0]["text"] == '{"ticket": "INC-1"}'


def test_max_tokens_truncates_and_says_so() -> None:
    text = '<source doc_id="d">' + "leave " * 50 + "days.</source><question>leave days</question>"
    body = {"messages": [{"role": "user", "content": [{"text": text}]}], "inferenceConfig": {"maxTokens": 5}}
    result = respond(body)
    assert result["stopReason"] == "max_tokens"
    assert len(result["output"]["message"]["content"][0]["text"].split()) <= 4


def test_fault_rules_apply_per_model_and_count_down() -> None:
    state = ModelServerState()
    state.set_fault({"mode": "throttle", "model": "a", "count": 2})
    assert [state.decide("a")[0] for _ in range(3)] == ["throttle", "throttle", "ok"]
    assert state.decide("b")[0] == "ok"


def test_rate_limit_throttles_above_n_per_second() -> None:
    state = ModelServerState()
    state.set_fault({"mode": "ok", "rate_limit_per_second": 3})
    assert [state.decide("a")[0] for _ in range(5)] == ["ok", "ok", "ok", "throttle", "throttle"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"mode": "explode"}, "accepted: ok, throttle"),
        ({"mode": "error", "count": 0}, "count must be a positive integer"),
        ({"mode": "ok", "rate_limit_per_second": -1}, "rate_limit_per_second must be a positive number"),
        ({"mode": "error", "model": 3}, "model must be a model id string"),
    ],
)
def test_bad_fault_specs_say_what_is_accepted(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ModelServerState().set_fault(spec)


def test_a_question_after_a_greeting_is_still_a_question_not_an_action() -> None:
    from keel.local.model_server import choose_tool

    tools = [
        {"toolSpec": {"name": "leave_balance", "description": "Show my leave balance", "inputSchema": {"json": {}}}}
    ]
    assert choose_tool("Hi, I am <PERSON_1>. How many days of annual leave do I get?", tools) is None
    assert choose_tool("Hi there. Show my leave balance.", tools) is not None
