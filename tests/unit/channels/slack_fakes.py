"""Fakes and signed requests for the Slack tests (signatures made with slack_sdk's own verifier)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from keel.channels.slack import SlackJob
from keel.errors import NotFound
from keel.identity.principal import Principal

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@dataclass
class RotatingSecret:
    """A signing secret source whose value can change, counting reads."""

    value: str = SECRET
    reads: int = 0

    def current(self, *, refresh: bool = False) -> str:
        self.reads += 1
        return self.value


@dataclass
class ListQueue:
    jobs: list[SlackJob] = field(default_factory=list)
    fail: Exception | None = None

    def send(self, job: SlackJob) -> None:
        if self.fail is not None:
            raise self.fail
        self.jobs.append(job)


@dataclass
class RecordingSlack:
    """The Slack Web API as the worker sees it; remembers what was posted."""

    emails: dict[str, str] = field(default_factory=dict)
    posts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)

    def user_email(self, user_id: str) -> str | None:
        return self.emails.get(user_id)

    def post_message(self, channel: str, text: str, *, thread_ts: str | None, blocks: list[dict[str, Any]]) -> str:
        self.posts.append({"channel": channel, "text": text, "thread_ts": thread_ts, "blocks": blocks})
        return f"1700000000.{len(self.posts):06d}"

    def update_message(self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]]) -> None:
        self.updates.append({"channel": channel, "ts": ts, "text": text})


@dataclass
class Directory:
    people: dict[str, Principal]

    def principal_for_email(self, email: str) -> Principal:
        if email not in self.people:
            raise NotFound("no single Keel user has the e-mail of this Slack account")
        return self.people[email]


def signed_event(
    path: str, body: bytes, *, secret: str = SECRET, timestamp: int | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """An API Gateway proxy event for a Slack request signed like Slack does."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "path": path,
        "httpMethod": "POST",
        "headers": {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature, **(headers or {})},
        "body": body.decode(),
        "isBase64Encoded": False,
        "requestContext": {"requestId": "req-1"},
    }


def mention(event_id: str = "Ev0001", text: str = "<@UKEELBOT> how many days of annual leave?") -> bytes:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "T1",
            "event_id": event_id,
            "event": {"type": "app_mention", "user": "U1", "channel": "C1", "ts": "1700000000.000100", "text": text},
        }
    ).encode()


def command(text: str = "how many days of annual leave?", trigger: str = "trig-1") -> bytes:
    return urlencode(
        {"command": "/keel", "text": text, "team_id": "T1", "user_id": "U1", "channel_id": "C1", "trigger_id": trigger}
    ).encode()


def button(action_id: str, conversation: str, message: str, trigger: str = "trig-b1") -> bytes:
    payload = {
        "type": "block_actions",
        "trigger_id": trigger,
        "team": {"id": "T1"},
        "user": {"id": "U1"},
        "channel": {"id": "C1"},
        "message": {"ts": "1700000000.000200", "thread_ts": "1700000000.000100"},
        "actions": [{"action_id": action_id, "value": json.dumps({"c": conversation, "m": message})}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()
