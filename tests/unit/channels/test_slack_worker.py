"""The Slack worker maps the user by e-mail, runs the same turn, replies in the thread, and acts once."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.channels.idempotency import InMemoryIdempotencyStore
from keel.channels.slack import SlackJob
from keel.channels.slack_signature import SecretsManagerSigningSecret
from keel.channels.slack_worker import InMemoryThreadMap, SlackWorker
from keel.channels.streaming import HUMAN_REQUEST
from keel.errors import ServiceUnavailable
from tests.unit.channels.slack_fakes import Directory, RecordingSlack
from tests.unit.channels.world import EMMA, World


def worker(world: World, slack: RecordingSlack | None = None) -> tuple[SlackWorker, RecordingSlack]:
    slack = slack or RecordingSlack(emails={"U1": "emma@acme.example"})
    return (
        SlackWorker(
            lambda: world.service,
            slack,
            Directory({"emma@acme.example": EMMA}),
            InMemoryIdempotencyStore(),
            InMemoryThreadMap(),
            lambda: world.feedback,
        ),
        slack,
    )


def question(delivery: str = "Ev1", text: str = "How many days of annual leave?") -> SlackJob:
    return SlackJob(
        kind="message",
        delivery_id=delivery,
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        thread_ts="1700000000.000100",
        message_ts="1700000000.000100",
        text=text,
    )


def buttons(post: dict[str, Any]) -> dict[str, str]:
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    return {e["action_id"]: e["value"] for e in actions["elements"]}


def test_answer_is_posted_in_the_thread_with_sources_and_buttons() -> None:
    world = World()
    slack_worker, slack = worker(world)
    assert slack_worker.process(question())
    [post] = slack.posts
    assert post["thread_ts"] == "1700000000.000100" and "25 days" in post["text"]
    assert any("hr-annual-leave" in json.dumps(b) for b in post["blocks"] if b["type"] == "context")
    assert set(buttons(post)) == {"keel_feedback_up", "keel_feedback_down", "keel_escalate"}


def test_same_job_delivered_twice_runs_once() -> None:
    world = World()
    slack_worker, slack = worker(world)
    assert slack_worker.process(question("Ev9"))
    assert not slack_worker.process(question("Ev9"))
    assert len(slack.posts) == 1
    assert len(world.service.calls) == 1


def test_follow_up_in_the_thread_continues_the_conversation() -> None:
    world = World()
    slack_worker, slack = worker(world)
    slack_worker.process(question("Ev1"))
    slack_worker.process(question("Ev2", "And do unused days of leave carry over?"))
    first, second = (json.loads(buttons(p)["keel_feedback_up"])["c"] for p in slack.posts)
    assert first == second


def test_feedback_button_stores_feedback_and_updates_the_message() -> None:
    world = World()
    slack_worker, slack = worker(world)
    slack_worker.process(question())
    ids = json.loads(buttons(slack.posts[0])["keel_feedback_down"])
    slack_worker.process(
        SlackJob(
            kind="feedback",
            delivery_id="trig-1",
            team_id="T1",
            user_id="U1",
            channel_id="C1",
            message_ts="1700000000.000200",
            conversation_id=ids["c"],
            message_id=ids["m"],
            rating="down",
        )
    )
    assert world.feedback_store.items[(ids["c"], ids["m"])].rating == "down"
    assert "not helpful" in slack.updates[0]["text"]


def test_escalate_button_sends_the_human_request_through_the_same_turn() -> None:
    world = World()
    slack_worker, slack = worker(world)
    slack_worker.process(question())
    ids = json.loads(buttons(slack.posts[0])["keel_escalate"])
    slack_worker.process(
        SlackJob(
            kind="escalate",
            delivery_id="trig-2",
            team_id="T1",
            user_id="U1",
            channel_id="C1",
            thread_ts="1700000000.000100",
            conversation_id=ids["c"],
            message_id=ids["m"],
        )
    )
    asked = [m.text for m in world.conversations.messages(ids["c"]) if m.role == "user"]
    assert asked[-1] == HUMAN_REQUEST
    assert len(slack.posts) == 2
    assert "Ticket *1001* was opened" in json.dumps(slack.posts[1])


def test_unknown_slack_user_is_told_plainly_and_no_turn_runs() -> None:
    world = World()
    slack_worker, slack = worker(world, RecordingSlack(emails={"U1": "stranger@else.example"}))
    slack_worker.process(question())
    assert "no single Keel user" in slack.posts[0]["text"]
    assert world.service.calls == []


def test_profile_without_email_is_refused() -> None:
    world = World()
    slack_worker, slack = worker(world, RecordingSlack())
    slack_worker.process(question())
    assert "no e-mail address" in slack.posts[0]["text"]


def test_policy_refusal_is_posted_not_raised() -> None:
    world = World()
    slack_worker, slack = worker(world)
    slack_worker._bot = "customer"
    slack_worker.process(question())
    assert "may not use the customer bot" in slack.posts[0]["text"]


def test_outage_is_raised_for_a_retry_and_the_claim_released() -> None:
    world = World()

    @dataclass
    class DownSlack(RecordingSlack):
        def user_email(self, user_id: str) -> str | None:
            raise ServiceUnavailable("Slack cannot be reached for users_info")

    slack_worker, _ = worker(world, DownSlack())
    with pytest.raises(ServiceUnavailable):
        slack_worker.process(question("Ev5"))
    healthy, slack = worker(world)
    healthy._jobs = slack_worker._jobs
    assert healthy.process(question("Ev5"))
    assert len(slack.posts) == 1


class FakeSecrets:
    def __init__(self, value: str) -> None:
        self.value = value
        self.calls = 0

    def get_secret_value(self, **kwargs: Any) -> dict[str, str]:
        self.calls += 1
        if self.value == "<error>":
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "x"}}, "GetSecretValue")
        return {"SecretString": self.value}


def test_signing_secret_is_cached_then_read_again_after_its_ttl() -> None:
    now = [0.0]
    client = FakeSecrets('{"signing_secret": "s1"}')
    source = SecretsManagerSigningSecret(client, "keel/slack", ttl_seconds=300, clock=lambda: now[0])
    assert source.current() == "s1" and source.current() == "s1" and client.calls == 1
    client.value = "s2"
    now[0] = 10.0
    assert source.current(refresh=True) == "s1"  # early refetch is rate-limited
    now[0] = 31.0
    assert source.current(refresh=True) == "s2"
    now[0] = 400.0
    assert source.current() == "s2" and client.calls == 3


@pytest.mark.parametrize("value", ["<error>", '{"other": "x"}'])
def test_unreadable_signing_secret_is_a_service_outage(value: str) -> None:
    with pytest.raises(ServiceUnavailable, match="signing secret"):
        SecretsManagerSigningSecret(FakeSecrets(value), "keel/slack").current()
