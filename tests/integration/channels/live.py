"""Clients for the channels of the running local stack (`local_stack`): the API, the WebSocket API and Slack.

Every call goes over loopback to what `keel dev` serves: the real handlers, the real turn, Cognito, DynamoDB,
SQS and Secrets Manager in moto, and the local Slack Web API (read through its /_messages test hook).
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from slack_sdk.signature import SignatureVerifier
from websockets.sync.client import ClientConnection, connect

from keel.bootstrap import AwsClients
from keel.local import provision
from keel.local.stack import SLACK_SIGNING_SECRET_ID

TERMINAL_FRAMES = ("done", "error", "feedback")


@dataclass
class Live:
    """The local stack seen from outside, the way a browser, a Slack workspace and an API client see it."""

    stack: Any

    @cached_property
    def clients(self) -> AwsClients:
        """boto3 clients on the stack's moto server."""
        return AwsClients(region="us-east-1", endpoint_url=self.stack.moto.url)

    # --- identity -------------------------------------------------------------------------------------------
    def demo_user(self, username: str) -> dict[str, Any]:
        """A seeded demo user (users.json), with its password."""
        return next(u for u in self.stack.users if u["username"] == username)

    def slack_id(self, username: str) -> str:
        """The Slack user id the stack registered for a demo user's e-mail (U000000, U000001, ...)."""
        return f"U{self.stack.users.index(self.demo_user(username)):06d}"

    def sign_in(self, username: str, password: str | None = None) -> dict[str, str]:
        """Cognito tokens of a user (a demo user's password is known)."""
        password = password or self.demo_user(username)["password"]
        return provision.sign_in(self.clients.cognito, self.stack.pool, username, password)

    def new_user(self, prefix: str, groups: list[str], *, department: str | None = None) -> tuple[str, str]:
        """A fresh user with these groups and an e-mail; returns the username and its IdToken."""
        username = f"{prefix}-{uuid.uuid4().hex[:8]}"
        password = provision.ensure_user(
            self.clients.cognito,
            self.stack.pool,
            username,
            groups=groups,
            email=f"{username}@acme.example",
            department=department,
        )
        return username, self.sign_in(username, password)["IdToken"]

    def guest_token(self) -> str:
        """What the widget gets from POST /v1/session/guest."""
        status, body = self.post("/v1/session/guest", {})
        assert status == 200, body
        return str(body["token"])

    # --- HTTP API -------------------------------------------------------------------------------------------
    def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, dict[str, Any]]:
        """POST JSON to the local API; returns the status and the JSON body (errors included)."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            f"{self.stack.api.url}{path}", data=json.dumps(body).encode(), method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    # --- WebSocket ------------------------------------------------------------------------------------------
    def websocket(self, token: str) -> ClientConnection:
        """A connection to the stack's WebSocket API, signed in the way the widget does it."""
        return connect(self.stack.websocket_url, subprotocols=["keel.v1", token], open_timeout=10)  # type: ignore[list-item]

    # --- Slack ----------------------------------------------------------------------------------------------
    def signing_secret(self) -> str:
        """The Slack signing secret, read from Secrets Manager as the ingress reads it."""
        secrets = self.clients.client("secretsmanager")
        value = secrets.get_secret_value(SecretId=SLACK_SIGNING_SECRET_ID, VersionStage="AWSCURRENT")
        return str(json.loads(value["SecretString"])["signing_secret"])

    def slack_request(
        self, path: str, body: bytes, *, secret: str | None = None, at: int | None = None, **headers: str
    ) -> urllib.request.Request:
        """A request signed like Slack signs it (v0 HMAC-SHA256 over version, timestamp and body)."""
        timestamp = str(int(time.time()) if at is None else at)
        signature = SignatureVerifier(secret or self.signing_secret()).generate_signature(
            timestamp=timestamp, body=body
        )
        return urllib.request.Request(
            f"{self.stack.api.url}{path}",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature,
                **headers,
            },
        )

    @staticmethod
    def send(request: urllib.request.Request) -> tuple[int, float]:
        """Send a request; returns the status and the round trip in milliseconds."""
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            exc.read()
            status = exc.code
        return status, (time.perf_counter() - started) * 1000

    def add_slack_user(self, user_id: str, email: str) -> None:
        """Make the local Slack workspace know a user (users.info answers with this e-mail)."""
        base = self.stack.slack_api_url.removesuffix("/").removesuffix("/api")
        request = urllib.request.Request(
            f"{base}/_users",
            data=json.dumps({user_id: email}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.loads(response.read())["ok"] is True

    def slack_messages(self, channel: str) -> list[dict[str, Any]]:
        """What the app posted to one channel of the local Slack Web API."""
        base = self.stack.slack_api_url.removesuffix("/").removesuffix("/api")
        with urllib.request.urlopen(f"{base}/_messages", timeout=10) as response:
            return [m for m in json.loads(response.read()) if m["channel"] == channel]

    def wait_for_slack(self, channel: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Poll until the worker has posted count messages to channel (the SQS poller runs every second)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.slack_messages(channel)
            if len(messages) >= count:
                return messages
            time.sleep(0.1)
        raise AssertionError(f"no Slack reply in {channel} after {timeout} s: {self.slack_messages(channel)}")


def mention(user: str, channel: str, text: str, *, event_id: str | None = None, ts: str | None = None) -> bytes:
    """An Events API app_mention callback body."""
    event_id = event_id or f"Ev{uuid.uuid4().hex[:10].upper()}"
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": "TLOCAL",
            "api_app_id": "AKEEL",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "app_mention",
                "user": user,
                "channel": channel,
                "ts": ts or f"{time.time():.6f}",
                "text": f"<@UKEELBOT> {text}",
            },
        }
    ).encode()


def new_channel() -> str:
    """A Slack channel id no other test posts to, so replies can be told apart."""
    return f"C{uuid.uuid4().hex[:10].upper()}"


def slack_citations(post: dict[str, Any]) -> list[str]:
    """The doc ids in the reply's Sources context block."""
    sources = [
        e["text"] for b in post["blocks"] if b["type"] == "context" for e in b["elements"] if "Sources:" in e["text"]
    ]
    return re.findall(r"\(`([^`]+)`\)", " ".join(sources))


def until_terminal(socket: ClientConnection, timeout: float = 30.0) -> list[dict[str, Any]]:
    """Frames up to and including the first done, error or feedback frame."""
    frames = []
    while True:
        frame = json.loads(socket.recv(timeout=timeout))
        frames.append(frame)
        if frame["type"] in TERMINAL_FRAMES:
            return frames
