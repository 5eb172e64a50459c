"""The Slack worker maps the user by e-mail, runs the same turn, replies in the thread, and acts once; it reads the
revocation record on every job, so a disabled user is refused and a sign-out ends the threads begun before it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.channels.idempotency import InMemoryIdempotencyStore
from keel.channels.slack import JobKind, SlackJob
from keel.channels.slack_signature import SecretsManagerSigningSecret
from keel.channels.slack_worker import (
    ENDED_BUTTON_MESSAGE,
    SIGNED_OUT_MESSAGE,
    InMemoryThreadMap,
    SlackThread,
    SlackThreadNotifier,
    SlackWorker,
    ThreadLink,
)
from keel.channels.streaming import HUMAN_REQUEST
from keel.errors import ServiceUnavailable
from keel.identity.revocation import InMemoryRevocationStore, RevocationCheck, RevocationRecord
from tests.unit.channels.slack_fakes import Directory, RecordingSlack
from tests.unit.channels.world import EMMA, World

ROOT_TS = "1700000000.000100"
THREAD_KEY = f"T1:C1:{ROOT_TS}"
LEAVE = "How many days of annual leave?"


@dataclass
class Clock:
    now: float = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def worker(
    world: World,
    slack: RecordingSlack | None = None,
    *,
    revocations: InMemoryRevocationStore | None = None,
    threads: InMemoryThreadMap | None = None,
) -> tuple[SlackWorker, RecordingSlack]:
    slack = slack or RecordingSlack(emails={"U1": "emma@acme.example"})
    return (
        SlackWorker(
            lambda: world.service,
            slack,
            Directory({"emma@acme.example": EMMA}),
            RevocationCheck(revocations or InMemoryRevocationStore()),
            InMemoryIdempotencyStore(),
            threads if threads is not None else InMemoryThreadMap(),
            world.conversations,
            lambda: world.feedback,
            clock=world.clock,
        ),
        slack,
    )


def question(delivery: str = "Ev1", text: str = LEAVE, *, ts: str = ROOT_TS) -> SlackJob:
    """A message starting a thread (ts = ROOT_TS by default)."""
    return SlackJob(
        kind="message",
        delivery_id=delivery,
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        thread_ts=ts,
        message_ts=ts,
        text=text,
    )


def reply_in_thread(delivery: str, text: str = "And do unused days of leave carry over?") -> SlackJob:
    """A reply in the thread ROOT_TS started."""
    return question(delivery, text).model_copy(update={"message_ts": "1700000100.000200"})


def button(kind: JobKind, conversation: str, message: str, delivery: str = "trig-1") -> SlackJob:
    return SlackJob(
        kind=kind,
        delivery_id=delivery,
        team_id="T1",
        user_id="U1",
        channel_id="C1",
        thread_ts=ROOT_TS,
        message_ts="1700000000.000200",
        conversation_id=conversation,
        message_id=message,
        rating="down" if kind == "feedback" else None,
    )


def sign_out(store: InMemoryRevocationStore, at: float, *, disabled: bool = False) -> None:
    """What Revoker.record writes for an admin global sign-out (or a disable)."""
    store.put(RevocationRecord(EMMA.subject, not_before=at, disabled=disabled, reason="signed out", updated_at=at))


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
    world, threads = World(), InMemoryThreadMap()
    slack_worker, slack = worker(world, threads=threads)
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
    # Handed over: a person's replies from the agent console go to this thread
    assert threads.reply_thread(ids["c"]) == SlackThread("C1", "1700000000.000100")
    assert threads.reply_thread("another-conversation") is None


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


# Revocation (R5): the record is read on every job ----------------------------------------------------------


def conversation_of(post: dict[str, Any]) -> str:
    return str(json.loads(buttons(post)["keel_feedback_up"])["c"])


def test_every_job_reads_the_revocation_record_once_and_no_record_lets_the_thread_go_on() -> None:
    # Given a subject that was never revoked
    world, store = World(), InMemoryRevocationStore()
    slack_worker, slack = worker(world, revocations=store)
    # When a thread is started and continued
    slack_worker.process(question("Ev1"))
    slack_worker.process(reply_in_thread("Ev2"))
    # Then both are answered in the same conversation, after one record read each
    assert [conversation_of(p) for p in slack.posts] == [conversation_of(slack.posts[0])] * 2
    assert store.reads == 2


def test_disabled_record_refuses_the_job_even_when_the_directory_still_has_the_user() -> None:
    # Given a revocation record with disabled set that Cognito has not caught up with (the Directory fake answers)
    world, store = World(), InMemoryRevocationStore()
    sign_out(store, world.clock() - 60, disabled=True)
    slack_worker, slack = worker(world, revocations=store)
    # When the user asks in a new thread
    slack_worker.process(question())
    # Then they are told plainly and no turn runs
    [post] = slack.posts
    assert post["text"].startswith("Sorry, I cannot help with that here") and "disabled" in post["text"]
    assert post["blocks"] == [] and world.service.calls == []


def test_thread_started_before_a_sign_out_is_refused_and_its_link_forgotten() -> None:
    # Given a thread started, then an administrator's global sign-out
    clock = Clock()
    world, store, threads = World(clock=clock), InMemoryRevocationStore(), InMemoryThreadMap()
    slack_worker, slack = worker(world, revocations=store, threads=threads)
    slack_worker.process(question("Ev1"))
    old_conversation = conversation_of(slack.posts[0])
    clock.now += 60
    sign_out(store, clock.now)
    # When the user replies in that thread
    clock.now += 60
    slack_worker.process(reply_in_thread("Ev2"))
    # Then the reply is refused with why and what to do, no turn runs and the thread no longer links the conversation
    refusal = slack.posts[1]
    assert SIGNED_OUT_MESSAGE in refusal["text"] and refusal["thread_ts"] == ROOT_TS
    assert len(world.service.calls) == 1
    assert THREAD_KEY not in threads.links
    # And a further reply there does not silently continue the old conversation
    slack_worker.process(reply_in_thread("Ev3"))
    assert conversation_of(slack.posts[2]) != old_conversation


def test_new_message_after_a_sign_out_is_answered_in_a_new_conversation() -> None:
    clock = Clock()
    world, store = World(clock=clock), InMemoryRevocationStore()
    slack_worker, slack = worker(world, revocations=store)
    slack_worker.process(question("Ev1"))
    clock.now += 60
    sign_out(store, clock.now)
    clock.now += 60
    # A new top-level message: Slack authenticated the person, so Keel answers in a new conversation
    slack_worker.process(question("Ev2", ts="1700000120.000300"))
    assert "25 days" in slack.posts[1]["text"]
    assert conversation_of(slack.posts[1]) != conversation_of(slack.posts[0])


def test_thread_started_after_the_sign_out_goes_on() -> None:
    clock = Clock()
    world, store = World(clock=clock), InMemoryRevocationStore()
    sign_out(store, clock.now - 60)
    slack_worker, slack = worker(world, revocations=store)
    slack_worker.process(question("Ev1"))
    clock.now += 60
    slack_worker.process(reply_in_thread("Ev2"))
    assert len(world.service.calls) == 2
    assert conversation_of(slack.posts[1]) == conversation_of(slack.posts[0])


def test_continuing_a_thread_keeps_when_it_started() -> None:
    # A later message must not make an old thread look new, or a sign-out after it would miss the thread.
    clock = Clock()
    world, threads = World(clock=clock), InMemoryThreadMap()
    slack_worker, _ = worker(world, threads=threads)
    slack_worker.process(question("Ev1"))
    clock.now += 600
    slack_worker.process(reply_in_thread("Ev2"))
    assert threads.links[THREAD_KEY].started_at == 1_700_000_000.0


def test_thread_linked_before_links_had_a_start_ends_at_any_sign_out() -> None:
    # Given a link written by the previous worker (DynamoDBThreadMap reads a missing started_at as 0)
    world, store, threads = World(), InMemoryRevocationStore(), InMemoryThreadMap()
    slack_worker, slack = worker(world, revocations=store, threads=threads)
    slack_worker.process(question("Ev1"))
    threads.links[THREAD_KEY] = ThreadLink(threads.links[THREAD_KEY].conversation_id, 0.0)
    # Then it goes on while there is no record, and ends at the first sign-out
    slack_worker.process(reply_in_thread("Ev2"))
    assert conversation_of(slack.posts[1]) == conversation_of(slack.posts[0])
    sign_out(store, 1_000.0)
    slack_worker.process(reply_in_thread("Ev3"))
    assert SIGNED_OUT_MESSAGE in slack.posts[2]["text"]


@pytest.mark.parametrize("kind", ["feedback", "escalate"])
def test_button_on_a_conversation_from_before_the_sign_out_is_refused(kind: JobKind) -> None:
    clock = Clock()
    world, store = World(clock=clock), InMemoryRevocationStore()
    slack_worker, slack = worker(world, revocations=store)
    slack_worker.process(question("Ev1"))
    ids = json.loads(buttons(slack.posts[0])["keel_feedback_down"])
    clock.now += 60
    sign_out(store, clock.now)
    clock.now += 60
    slack_worker.process(button(kind, ids["c"], ids["m"]))
    assert ENDED_BUTTON_MESSAGE in slack.posts[1]["text"]
    assert world.feedback_store.items == {} and slack.updates == []
    assert len(world.service.calls) == 1


@pytest.mark.parametrize("kind", ["feedback", "escalate"])
def test_button_on_a_conversation_started_after_the_sign_out_works(kind: JobKind) -> None:
    clock = Clock()
    world, store = World(clock=clock), InMemoryRevocationStore()
    sign_out(store, clock.now - 60)
    slack_worker, slack = worker(world, revocations=store)
    slack_worker.process(question("Ev1"))
    ids = json.loads(buttons(slack.posts[0])["keel_feedback_down"])
    clock.now += 60
    slack_worker.process(button(kind, ids["c"], ids["m"]))
    if kind == "feedback":
        assert world.feedback_store.items[(ids["c"], ids["m"])].rating == "down"
    else:
        assert "Ticket *1001* was opened" in json.dumps(slack.posts[1])


def test_revocation_list_outage_is_raised_for_a_retry() -> None:
    class DownStore(InMemoryRevocationStore):
        def get(self, subject: str) -> RevocationRecord | None:
            raise ServiceUnavailable("the revocation list cannot be read; try again shortly")

    world = World()
    slack_worker, slack = worker(world, revocations=DownStore())
    with pytest.raises(ServiceUnavailable):
        slack_worker.process(question("Ev7"))
    assert slack.posts == [] and world.service.calls == []


class _Down(RecordingSlack):
    def post_message(self, channel: str, text: str, *, thread_ts: str | None, blocks: list[dict[str, Any]]) -> str:
        raise ServiceUnavailable("Slack cannot be reached for chat_postMessage")


def test_a_persons_messages_from_the_console_are_posted_in_the_handed_over_thread() -> None:
    threads, slack = InMemoryThreadMap(), RecordingSlack()
    threads.remember_reply_thread("conv-1", SlackThread("C1", ROOT_TS))
    notifier = SlackThreadNotifier(threads, slack)
    notifier.notify(
        "sub-emma", {"type": "agent_message", "conversation_id": "conv-1", "text": "Hi, Sam here.", "agent": "Sam"}
    )
    notifier.notify("sub-emma", {"type": "status", "conversation_id": "conv-1", "text": "Sam closed the conversation."})
    assert [(p["channel"], p["thread_ts"], p["text"]) for p in slack.posts] == [
        ("C1", ROOT_TS, "*Sam*: Hi, Sam here."),
        ("C1", ROOT_TS, "Sam closed the conversation."),
    ]
    # A conversation of another channel, or a frame with nothing to say, posts nothing
    notifier.notify("sub-emma", {"type": "agent_message", "conversation_id": "conv-web", "text": "Hi", "agent": "Sam"})
    notifier.notify("sub-emma", {"type": "status", "conversation_id": "conv-1", "text": "  "})
    assert len(slack.posts) == 2


def test_slack_down_does_not_fail_the_agents_action() -> None:
    threads = InMemoryThreadMap()
    threads.remember_reply_thread("conv-1", SlackThread("D1", None))
    SlackThreadNotifier(threads, _Down()).notify(
        "s", {"type": "agent_message", "conversation_id": "conv-1", "text": "x"}
    )
