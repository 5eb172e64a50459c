"""The Slack endpoints refuse unsigned, stale and replayed requests, and enqueue each delivery once."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.channels.idempotency import InMemoryIdempotencyStore
from keel.channels.slack import ACTION_ESCALATE, ACTION_FEEDBACK_UP, SlackIngress
from keel.channels.slack_signature import SlackSignatureVerifier
from keel.errors import ServiceUnavailable
from tests.unit.channels.slack_fakes import ListQueue, RotatingSecret, button, command, mention, signed_event


def ingress(secret: RotatingSecret | None = None, queue: ListQueue | None = None) -> tuple[SlackIngress, ListQueue]:
    queue = queue or ListQueue()
    state = InMemoryIdempotencyStore()
    return SlackIngress(SlackSignatureVerifier(secret or RotatingSecret(), state), state, queue), queue


def status(response: dict[str, object]) -> int:
    return int(response["statusCode"])  # type: ignore[call-overload]


def test_signed_mention_is_acknowledged_and_enqueued() -> None:
    handler, queue = ingress()
    response = handler.handle(signed_event("/slack/events", mention()))
    assert status(response) == 200
    [job] = queue.jobs
    assert (job.kind, job.user_id, job.channel_id, job.thread_ts) == ("message", "U1", "C1", "1700000000.000100")
    assert job.text == "how many days of annual leave?"


def test_bad_signature_is_refused_and_nothing_enqueued() -> None:
    handler, queue = ingress()
    response = handler.handle(signed_event("/slack/events", mention(), secret="not-the-secret"))
    assert status(response) == 401
    assert "signature does not match" in json.loads(str(response["body"]))["error"]["message"]
    assert queue.jobs == []


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_timestamp_outside_five_minutes_is_refused(skew: int) -> None:
    handler, queue = ingress()
    response = handler.handle(signed_event("/slack/events", mention(), timestamp=int(time.time()) + skew))
    assert status(response) == 401
    assert "300 seconds" in json.loads(str(response["body"]))["error"]["message"]
    assert queue.jobs == []


def test_missing_signature_headers_are_refused() -> None:
    handler, _ = ingress()
    event = signed_event("/slack/events", mention())
    event["headers"] = {}
    assert status(handler.handle(event)) == 401


def test_replayed_request_is_refused() -> None:
    handler, queue = ingress()
    event = signed_event("/slack/events", mention())
    assert status(handler.handle(event)) == 200
    replay = handler.handle(dict(event))
    assert status(replay) == 401
    assert "replays are refused" in json.loads(str(replay["body"]))["error"]["message"]
    assert len(queue.jobs) == 1


def test_body_replayed_under_a_fresh_timestamp_fails_the_signature() -> None:
    handler, queue = ingress()
    first = signed_event("/slack/events", mention())
    handler.handle(first)
    forged = dict(first)
    forged["headers"] = {**first["headers"], "X-Slack-Request-Timestamp": str(int(time.time()) + 5)}
    assert status(handler.handle(forged)) == 401
    assert len(queue.jobs) == 1


def test_slack_retry_of_an_event_is_acknowledged_but_processed_once() -> None:
    handler, queue = ingress()
    assert status(handler.handle(signed_event("/slack/events", mention("Ev42")))) == 200
    retry = signed_event(
        "/slack/events",
        mention("Ev42"),
        timestamp=int(time.time()) + 1,
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert status(handler.handle(retry)) == 200
    assert [j.delivery_id for j in queue.jobs] == ["Ev42"]


def test_a_rotated_secret_is_picked_up_without_a_restart() -> None:
    secret = RotatingSecret(value="old-secret")
    handler, queue = ingress(secret)
    secret.value = "new-secret"
    assert status(handler.handle(signed_event("/slack/events", mention(), secret="new-secret"))) == 200
    assert len(queue.jobs) == 1


def test_url_verification_echoes_the_challenge() -> None:
    handler, _ = ingress()
    body = json.dumps({"type": "url_verification", "challenge": "abc123"}).encode()
    response = handler.handle(signed_event("/slack/events", body))
    assert json.loads(str(response["body"])) == {"challenge": "abc123"}


def test_bot_messages_and_edits_are_ignored_to_avoid_loops() -> None:
    handler, queue = ingress()
    for extra in ({"bot_id": "B1"}, {"subtype": "message_changed"}):
        payload = json.loads(mention(f"Ev-{extra}"))
        payload["event"].update(extra)
        assert status(handler.handle(signed_event("/slack/events", json.dumps(payload).encode()))) == 200
    assert queue.jobs == []


def test_slash_command_is_enqueued_and_answered_ephemerally() -> None:
    handler, queue = ingress()
    response = handler.handle(signed_event("/slack/commands", command()))
    assert status(response) == 200
    assert json.loads(str(response["body"]))["response_type"] == "ephemeral"
    assert queue.jobs[0].kind == "command"


def test_empty_slash_command_gets_usage_and_no_job() -> None:
    handler, queue = ingress()
    response = handler.handle(signed_event("/slack/commands", command(text="  ")))
    assert "Ask me something" in json.loads(str(response["body"]))["text"]
    assert queue.jobs == []


def test_buttons_become_feedback_and_escalate_jobs() -> None:
    handler, queue = ingress()
    handler.handle(signed_event("/slack/interactivity", button(ACTION_FEEDBACK_UP, "conv-0001", "msg-0001")))
    handler.handle(signed_event("/slack/interactivity", button(ACTION_ESCALATE, "conv-0001", "msg-0001", "trig-b2")))
    assert [(j.kind, j.rating, j.conversation_id, j.message_id) for j in queue.jobs] == [
        ("feedback", "up", "conv-0001", "msg-0001"),
        ("escalate", None, "conv-0001", "msg-0001"),
    ]


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/slack/events", b"not json", "not valid JSON"),
        ("/slack/interactivity", b"nothing=here", "no payload"),
        ("/slack/elsewhere", b"{}", "accepted: /slack/events"),
        ("/slack/events", b'{"type": "event_callback"}', "no event object"),
    ],
)
def test_malformed_signed_requests_get_400_naming_the_problem(path: str, body: bytes, fragment: str) -> None:
    handler, _ = ingress()
    response = handler.handle(signed_event(path, body))
    assert status(response) == 400
    assert fragment in json.loads(str(response["body"]))["error"]["message"]


def test_queue_outage_gives_503_and_slacks_retry_is_let_in() -> None:
    queue = ListQueue(fail=ServiceUnavailable("the Slack work queue cannot be written"))
    handler, _ = ingress(queue=queue)
    event = signed_event("/slack/events", mention("Ev7"))
    assert status(handler.handle(event)) == 503
    queue.fail = None
    assert status(handler.handle(event)) == 200
    assert [j.delivery_id for j in queue.jobs] == ["Ev7"]


@settings(max_examples=60)
@given(st.binary(min_size=1, max_size=200))
def test_any_change_to_a_signed_body_is_refused(suffix: bytes) -> None:
    handler, queue = ingress()
    event = signed_event("/slack/events", mention())
    event["body"] = str(event["body"]) + suffix.decode("latin-1")
    assert status(handler.handle(event)) == 401
    assert queue.jobs == []
