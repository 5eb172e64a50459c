"""Outbound webhooks: HMAC-SHA256 signed, retried with bounded backoff and jitter, then dead-lettered to SQS.

Signature header: ``X-Keel-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``. Receivers
check it with `verify_signature` (constant time, with a freshness window so a captured call cannot be replayed
later). During a secret rotation a receiver may accept several secrets; the sender signs with the current one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import ConfigurationError, InvalidRequest, KeelError
from keel.integrations.http import IntegrationUnavailable, Transport, urllib_transport
from keel.integrations.secrets import CredentialProvider

SIGNATURE_HEADER = "X-Keel-Signature"
SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_SECONDS = 300
SECRET_FIELD = "signing_secret"  # noqa: S105 - the name of a field, not a secret
# Worth another try: timeouts, throttling and server errors; any other 4xx is the receiver's final word.
_RETRYABLE = frozenset({408, 425, 429})
_log = logging.getLogger("keel.integrations.webhooks")


@dataclass(frozen=True)
class WebhookEvent:
    """One event to deliver; event_id lets receivers drop duplicates (delivery is at least once)."""

    event_id: str
    event_type: str
    payload: dict[str, Any]
    occurred_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())

    def body(self) -> bytes:
        """The canonical JSON body that is signed and sent."""
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> WebhookEvent:
        """Rebuild an event from its JSON form (a dead letter); InvalidRequest when a field is missing."""
        try:
            return cls(str(data["event_id"]), str(data["event_type"]), dict(data["payload"]), str(data["occurred_at"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidRequest("a webhook event needs event_id, event_type, payload and occurred_at") from exc


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for body sent at timestamp."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},{SIGNATURE_VERSION}={digest}"


def verify_signature(
    header: str | None,
    body: bytes,
    secrets: Iterable[str],
    *,
    now: float | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """True when header carries a fresh v1 signature of body under one of secrets."""
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == SIGNATURE_VERSION and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    for secret in secrets:
        expected = sign(secret, body, timestamp).rsplit("=", 1)[1]
        if any(hmac.compare_digest(expected, c) for c in candidates):
            return True
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with full jitter: at most `attempts` tries within `budget_seconds` of sleep."""

    attempts: int = 5
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    budget_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_seconds < 0 or self.cap_seconds < self.base_seconds:
            raise ConfigurationError("retry policy needs attempts >= 1 and 0 <= base_seconds <= cap_seconds")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Sleep before try attempt+1: uniform in [0, min(cap, base * 2**(attempt-1))]."""
        return rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Delivery:
    """How one delivery ended."""

    event_id: str
    delivered: bool
    attempts: int
    last_status: int | None
    dead_lettered: bool
    error: str = ""
    delays: tuple[float, ...] = ()


class DeadLetters(Protocol):
    """Where undeliverable events go so that nothing is lost."""

    def send(self, message: dict[str, Any]) -> None:
        """Keep the message durably, or raise IntegrationUnavailable."""
        ...


class SqsDeadLetters:
    """Dead letters in an SQS queue (keel-<env>-webhooks-dlq)."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def send(self, message: dict[str, Any]) -> None:
        """One SQS message per dead letter, with the event type as an attribute."""
        event_type = str(message.get("event", {}).get("event_type", "unknown"))
        try:
            self._client.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(message, sort_keys=True),
                MessageAttributes={"event_type": {"DataType": "String", "StringValue": event_type}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise IntegrationUnavailable("the webhook dead-letter queue cannot be written") from exc

    def receive(self, max_messages: int = 10) -> list[tuple[str, dict[str, Any]]]:
        """Up to max_messages dead letters as (receipt handle, message)."""
        try:
            answer = self._client.receive_message(
                QueueUrl=self._queue_url, MaxNumberOfMessages=min(max(max_messages, 1), 10), WaitTimeSeconds=0
            )
        except (ClientError, BotoCoreError) as exc:
            raise IntegrationUnavailable("the webhook dead-letter queue cannot be read") from exc
        return [(m["ReceiptHandle"], json.loads(m["Body"])) for m in answer.get("Messages", [])]

    def delete(self, receipt_handle: str) -> None:
        """Forget a dead letter that was delivered after all."""
        try:
            self._client.delete_message(QueueUrl=self._queue_url, ReceiptHandle=receipt_handle)
        except (ClientError, BotoCoreError) as exc:
            raise IntegrationUnavailable("the webhook dead-letter queue cannot be written") from exc


class WebhookSender:
    """Signs and posts events to one receiver; retries, then dead-letters (at-least-once, nothing lost)."""

    def __init__(
        self,
        url: str,
        credentials: CredentialProvider,
        dead_letters: DeadLetters,
        *,
        transport: Transport | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._credentials = credentials
        self._dead_letters = dead_letters
        self._transport = transport or urllib_transport(timeout=5.0)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock

    def deliver(self, event: WebhookEvent, *, dead_letter: bool = True) -> Delivery:
        """Post the event until the receiver takes it or the retry policy is spent; then dead-letter it."""
        body = event.body()
        attempt, slept, refreshed = 0, 0.0, False
        delays: list[float] = []
        status: int | None = None
        error = ""
        while True:
            attempt += 1
            status, error = self._post(event, body)
            if status is not None and 200 <= status < 300:
                return Delivery(event.event_id, True, attempt, status, False, "", tuple(delays))
            if status in (401, 403) and not refreshed:
                # The signing secret may have rotated at the receiver: sign with a fresh read, once.
                self._credentials.invalidate()
                refreshed = True
            elif status is not None and status < 500 and status not in _RETRYABLE:
                break
            if attempt >= self._retry.attempts:
                break
            delay = self._retry.delay(attempt, self._rng)
            if slept + delay > self._retry.budget_seconds:
                break
            delays.append(delay)
            self._sleep(delay)
            slept += delay
        _log.warning("webhook %s to %s failed after %d attempts (%s)", event.event_id, self._url, attempt, error)
        if dead_letter:
            self._dead_letters.send(
                {
                    "event": asdict(event),
                    "target": self._url,
                    "attempts": attempt,
                    "last_status": status,
                    "last_error": error,
                    "dead_lettered_at": datetime.now(UTC).isoformat(),
                }
            )
        return Delivery(event.event_id, False, attempt, status, dead_letter, error, tuple(delays))

    def redrive(self, source: SqsDeadLetters, *, max_messages: int = 10) -> list[Delivery]:
        """Deliver dead letters again; a delivered one leaves the queue, a failed one stays for later."""
        results = []
        for receipt, message in source.receive(max_messages):
            delivery = self.deliver(WebhookEvent.from_json(message.get("event") or {}), dead_letter=False)
            if delivery.delivered:
                source.delete(receipt)
            results.append(delivery)
        return results

    def _post(self, event: WebhookEvent, body: bytes) -> tuple[int | None, str]:
        try:
            secret = self._credentials.get()[SECRET_FIELD]
        except KeyError as exc:
            raise ConfigurationError(f'the webhook secret needs a "{SECRET_FIELD}" field') from exc
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(secret, body, int(self._clock())),
            "X-Keel-Event-Id": event.event_id,
            "X-Keel-Event-Type": event.event_type,
        }
        try:
            status, _ = self._transport("POST", self._url, headers, body)
        except KeelError as exc:
            return None, exc.message
        return status, "" if 200 <= status < 300 else f"receiver answered {status}"
