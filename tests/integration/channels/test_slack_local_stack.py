"""The Slack app on the local stack: a request signed with the secret in Secrets Manager reaches POST /slack/events,
is acknowledged well inside Slack's 3 s, and the stack's SQS poller runs the worker, which answers in the thread
on the local Slack Web API with the sources of the real turn."""

from __future__ import annotations

import time

import pytest

from tests.integration.channels.live import Live, mention, new_channel, slack_citations

pytestmark = pytest.mark.integration
QUESTION = "How many days of annual leave do I get?"
# Slack retries an event it has not seen acknowledged within 3 s.
SLACK_ACK_LIMIT_MS = 3000
# Long enough for the poller (1 s receive wait) to have picked up anything that was queued.
QUIET_SECONDS = 3.0


@pytest.fixture(scope="module")
def emma(live: Live) -> str:
    return live.slack_id("emma.engineer")


def test_mention_is_acknowledged_fast_and_answered_in_thread_with_sources(live: Live, emma: str) -> None:
    channel, ts = new_channel(), f"{time.time():.6f}"
    status, ack_ms = live.send(live.slack_request("/slack/events", mention(emma, channel, QUESTION, ts=ts)))
    print(f"slack ack {ack_ms:.1f} ms")
    assert status == 200
    assert ack_ms < SLACK_ACK_LIMIT_MS

    started = time.perf_counter()
    [post] = live.wait_for_slack(channel)
    print(f"slack reply in thread {1000 * (time.perf_counter() - started):.0f} ms after the ack")
    assert post["method"] == "chat.postMessage" and post["thread_ts"] == ts
    assert "25 days" in post["text"]
    assert "hr-annual-leave" in slack_citations(post)
    assert {b.get("block_id") for b in post["blocks"]} >= {"keel_feedback"}
    # Slack fetches a previewed link from its own servers; a reply's links are never previewed.
    assert post["unfurl_links"] is False and post["unfurl_media"] is False


def test_a_direct_message_is_answered_too(live: Live, emma: str) -> None:
    import json

    channel = f"D{new_channel()[1:]}"
    body = json.loads(mention(emma, channel, QUESTION))
    body["event"].update({"type": "message", "channel_type": "im", "text": QUESTION})
    assert live.send(live.slack_request("/slack/events", json.dumps(body).encode()))[0] == 200
    [post] = live.wait_for_slack(channel)
    assert "hr-annual-leave" in slack_citations(post)


def test_retried_event_is_processed_exactly_once(live: Live, emma: str) -> None:
    channel = new_channel()
    body = mention(emma, channel, QUESTION)
    assert live.send(live.slack_request("/slack/events", body))[0] == 200
    # Slack's retry: the same event, signed again a moment later, with the retry headers.
    retry = live.slack_request(
        "/slack/events", body, at=int(time.time()) + 1, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"}
    )
    assert live.send(retry)[0] == 200
    live.wait_for_slack(channel)
    time.sleep(QUIET_SECONDS)
    assert len(live.slack_messages(channel)) == 1


def test_bad_signature_stale_timestamp_and_replayed_body_are_refused(live: Live, emma: str) -> None:
    forged, stale, replayed = new_channel(), new_channel(), new_channel()
    assert live.send(live.slack_request("/slack/events", mention(emma, forged, QUESTION), secret="not-it"))[0] == 401
    five_minutes_ago = int(time.time()) - 301
    assert live.send(live.slack_request("/slack/events", mention(emma, stale, QUESTION), at=five_minutes_ago))[0] == 401
    request = live.slack_request("/slack/events", mention(emma, replayed, QUESTION))
    assert live.send(request)[0] == 200
    assert live.send(request)[0] == 401  # the very same signed bytes again: a replay

    live.wait_for_slack(replayed)
    time.sleep(QUIET_SECONDS)
    assert len(live.slack_messages(replayed)) == 1
    assert live.slack_messages(forged) == [] and live.slack_messages(stale) == []


def test_unknown_slack_user_gets_a_refusal_in_thread_not_an_answer(live: Live) -> None:
    channel = new_channel()
    assert live.send(live.slack_request("/slack/events", mention("UNOBODY01", channel, QUESTION)))[0] == 200
    [post] = live.wait_for_slack(channel)
    assert post["text"].startswith("Sorry, I cannot help with that here")
    assert slack_citations(post) == []
