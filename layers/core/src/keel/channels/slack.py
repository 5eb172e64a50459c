"""The Slack app's HTTP side: verify, acknowledge within Slack's 3 seconds, hand the work to a queue.

Three endpoints, one handler: /slack/events (Events API), /slack/commands (/keel) and
/slack/interactivity (Block Kit buttons). The turn itself runs in the worker (slack_worker.py).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from typing import Any, Literal, Protocol
from urllib.parse import parse_qs

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, ValidationError

from keel.channels.http import correlation_id, error_response, json_response
from keel.channels.idempotency import IdempotencyStore
from keel.channels.slack_signature import SlackSignatureVerifier
from keel.errors import InvalidRequest, KeelError, ServiceUnavailable

logger = logging.getLogger("keel.slack")

JobKind = Literal["message", "command", "feedback", "escalate"]
ACTION_FEEDBACK_UP = "keel_feedback_up"
ACTION_FEEDBACK_DOWN = "keel_feedback_down"
ACTION_ESCALATE = "keel_escalate"
ACTIONS: dict[str, JobKind] = {
    ACTION_FEEDBACK_UP: "feedback",
    ACTION_FEEDBACK_DOWN: "feedback",
    ACTION_ESCALATE: "escalate",
}
EVENT_TTL_SECONDS = 24 * 3600
MAX_SLACK_BODY_BYTES = 256 * 1024


class SlackJob(BaseModel):
    """One unit of work for the worker, already verified and acknowledged."""

    model_config = ConfigDict(extra="forbid")

    kind: JobKind
    delivery_id: str
    team_id: str
    user_id: str
    channel_id: str
    thread_ts: str | None = None
    message_ts: str | None = None
    text: str = ""
    conversation_id: str | None = None
    message_id: str | None = None
    rating: Literal["up", "down"] | None = None


class JobQueue(Protocol):
    """Where acknowledged work waits for the worker."""

    def send(self, job: SlackJob) -> None:
        """Enqueue one job."""
        ...


class SqsJobQueue:
    """Jobs as JSON messages on an SQS queue (the worker Lambda's event source)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, job: SlackJob) -> None:
        """SendMessage."""
        try:
            self._client.send_message(QueueUrl=self._queue_url, MessageBody=job.model_dump_json())
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the Slack work queue cannot be written") from exc


class SlackIngress:
    """Verifies a Slack request, answers at once and enqueues the work; never raises."""

    def __init__(self, verifier: SlackSignatureVerifier, deliveries: IdempotencyStore, queue: JobQueue) -> None:
        self._verifier = verifier
        self._deliveries = deliveries
        self._queue = queue

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """One API Gateway proxy event in, one proxy response out."""
        correlation = correlation_id(event)
        signature: str | None = None
        try:
            body = _raw_body(event)
            signature = self._verifier.verify(event.get("headers") or {}, body)
            path = str(event.get("path") or "")
            if path.endswith("/events"):
                return self._events(body, correlation)
            if path.endswith("/commands"):
                return self._command(body, correlation)
            if path.endswith("/interactivity"):
                return self._interaction(body, correlation)
            raise InvalidRequest(
                f"no Slack endpoint at {path}; accepted: /slack/events, /slack/commands, /slack/interactivity"
            )
        except Exception as exc:  # every failure becomes a typed JSON error; unknown ones a 500
            if signature is not None and isinstance(exc, ServiceUnavailable):
                # Nothing was handed on, so Slack's retry of this very request must be let in.
                self._verifier.forget(signature)
            return error_response(exc, correlation=correlation)

    def _events(self, body: bytes, correlation: str) -> dict[str, Any]:
        payload = _json_object(body)
        if payload.get("type") == "url_verification":
            return json_response(200, {"challenge": str(payload.get("challenge", ""))}, correlation=correlation)
        if payload.get("type") != "event_callback":
            return json_response(200, {"ok": True, "ignored": str(payload.get("type"))}, correlation=correlation)
        job = job_from_event(payload)
        if job is None:
            return json_response(200, {"ok": True, "ignored": "event"}, correlation=correlation)
        self._enqueue_once(job)
        return json_response(200, {"ok": True}, correlation=correlation)

    def _command(self, body: bytes, correlation: str) -> dict[str, Any]:
        form = _form(body)
        text = form.get("text", "").strip()
        if not text:
            return json_response(
                200,
                {"response_type": "ephemeral", "text": "Ask me something, for example `/keel how do I reset my VPN?`"},
                correlation=correlation,
            )
        job = SlackJob(
            kind="command",
            delivery_id=form.get("trigger_id") or _required(form, "trigger_id"),
            team_id=_required(form, "team_id"),
            user_id=_required(form, "user_id"),
            channel_id=_required(form, "channel_id"),
            text=text,
        )
        self._enqueue_once(job)
        return json_response(
            200,
            {"response_type": "ephemeral", "text": "Looking into it; the answer will follow here."},
            correlation=correlation,
        )

    def _interaction(self, body: bytes, correlation: str) -> dict[str, Any]:
        raw = _form(body).get("payload")
        if not raw:
            raise InvalidRequest("interactivity request has no payload field")
        job = job_from_interaction(_json_object(raw.encode()))
        if job is not None:
            self._enqueue_once(job)
        return json_response(200, {"ok": True}, correlation=correlation)

    def _enqueue_once(self, job: SlackJob) -> None:
        key = f"slack:delivery:{job.delivery_id}"
        if not self._deliveries.claim(key, ttl_seconds=EVENT_TTL_SECONDS):
            logger.info("duplicate Slack delivery %s acknowledged without work", job.delivery_id)
            return
        try:
            self._queue.send(job)
        except KeelError:
            self._deliveries.release(key)
            raise


def job_from_event(payload: Mapping[str, Any]) -> SlackJob | None:
    """A job for a mention or a direct message from a person; None for everything else (bots, edits, ...)."""
    event = payload.get("event")
    if not isinstance(event, dict):
        raise InvalidRequest("event_callback has no event object")
    kind = event.get("type")
    # Bot messages and edits are ignored, or the app would answer itself in a loop.
    if event.get("bot_id") or event.get("subtype"):
        return None
    if kind == "message" and event.get("channel_type") != "im":
        return None
    if kind not in ("app_mention", "message"):
        return None
    text = _strip_mentions(str(event.get("text") or ""))
    if not text:
        return None
    return SlackJob(
        kind="message",
        delivery_id=str(payload.get("event_id") or _required(event, "ts")),
        team_id=str(payload.get("team_id") or event.get("team") or ""),
        user_id=_required(event, "user"),
        channel_id=_required(event, "channel"),
        thread_ts=str(event.get("thread_ts") or event["ts"]),
        message_ts=str(event["ts"]),
        text=text,
    )


def job_from_interaction(payload: Mapping[str, Any]) -> SlackJob | None:
    """A job for a Keel button (feedback or escalate); None for other interactions."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions") or []
    action = actions[0] if actions and isinstance(actions[0], dict) else {}
    kind = ACTIONS.get(str(action.get("action_id")))
    if kind is None:
        return None
    try:
        value = json.loads(str(action.get("value") or "{}"))
    except ValueError as exc:
        raise InvalidRequest("button value is not JSON") from exc
    message = payload.get("message") or {}
    container = payload.get("container") or {}
    user = payload.get("user") or {}
    channel = payload.get("channel") or {}
    try:
        return SlackJob(
            kind=kind,
            delivery_id=str(payload.get("trigger_id") or action.get("action_ts") or ""),
            team_id=str((payload.get("team") or {}).get("id") or ""),
            user_id=str(user.get("id") or ""),
            channel_id=str(channel.get("id") or container.get("channel_id") or ""),
            thread_ts=str(message.get("thread_ts") or message.get("ts") or container.get("message_ts") or "") or None,
            message_ts=str(message.get("ts") or container.get("message_ts") or "") or None,
            conversation_id=value.get("c"),
            message_id=value.get("m"),
            rating="up"
            if action.get("action_id") == ACTION_FEEDBACK_UP
            else ("down" if action.get("action_id") == ACTION_FEEDBACK_DOWN else None),
        )
    except ValidationError as exc:
        raise InvalidRequest("button payload is missing its user, channel or conversation") from exc


def _raw_body(event: Mapping[str, Any]) -> bytes:
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(raw)
        except ValueError as exc:
            raise InvalidRequest("request body is not valid base64") from exc
    else:
        data = str(raw).encode()
    if len(data) > MAX_SLACK_BODY_BYTES:
        raise InvalidRequest(f"request body is larger than {MAX_SLACK_BODY_BYTES} bytes")
    return data


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InvalidRequest("Slack request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRequest("Slack request body must be a JSON object")
    return data


def _form(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise InvalidRequest("Slack form body is not UTF-8") from exc
    return {k: v[0] for k, v in parsed.items()}


def _required(source: Mapping[str, Any], name: str) -> str:
    value = source.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"Slack request has no {name}")
    return value


def _strip_mentions(text: str) -> str:
    words = [w for w in text.split() if not (w.startswith("<@") and w.endswith(">"))]
    return " ".join(words).strip()
