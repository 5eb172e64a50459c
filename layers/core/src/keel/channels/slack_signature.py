"""Slack request signatures (v0): HMAC-SHA256 of `v0:<timestamp>:<body>` with the app's signing secret.

The secret lives in Secrets Manager and rotates; it is cached briefly and fetched again when a
signature does not match, so a rotation applies within seconds without letting a flood of bad
requests turn into a flood of Secrets Manager calls.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.channels.idempotency import IdempotencyStore
from keel.errors import ServiceUnavailable, Unauthenticated

WINDOW_SECONDS = 300
SECRET_TTL_SECONDS = 300
# At most one early refetch per this many seconds, whatever the number of bad signatures.
REFETCH_INTERVAL_SECONDS = 30


class SigningSecretSource(Protocol):
    """The current signing secret."""

    def current(self, *, refresh: bool = False) -> str:
        """The secret; refresh=True asks for a fresh read (the source may still answer from cache)."""
        ...


class SecretsManagerSigningSecret:
    """The signing secret from Secrets Manager (a plain string or JSON with `signing_secret`), cached."""

    def __init__(
        self,
        client: Any,
        secret_id: str,
        *,
        ttl_seconds: float = SECRET_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        field: str = "signing_secret",
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._clock = clock
        self._field = field
        self._value: str | None = None
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def current(self, *, refresh: bool = False) -> str:
        """The cached secret, read again after the TTL or on refresh (at most every 30 s)."""
        with self._lock:
            age = self._clock() - self._fetched_at
            stale = self._value is None or age >= self._ttl or (refresh and age >= REFETCH_INTERVAL_SECONDS)
            if stale:
                self._value = self._fetch()
                self._fetched_at = self._clock()
            assert self._value is not None
            return self._value

    def _fetch(self) -> str:
        try:
            raw = self._client.get_secret_value(SecretId=self._secret_id, VersionStage="AWSCURRENT")["SecretString"]
        except (ClientError, BotoCoreError, KeyError) as exc:
            raise ServiceUnavailable("the Slack signing secret cannot be read") from exc
        return _secret_text(raw, self._field)


def _secret_text(raw: str, field: str) -> str:
    text = raw.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text).get(field)
        except (ValueError, AttributeError):
            value = None
        if not isinstance(value, str) or not value:
            raise ServiceUnavailable(f"the Slack signing secret JSON has no {field!r} string")
        return value
    return text


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The v0 signature header value for a timestamp and raw body."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSignatureVerifier:
    """Refuses requests with a missing or bad signature, a timestamp outside the window, or a replay."""

    def __init__(
        self,
        secret: SigningSecretSource,
        replays: IdempotencyStore,
        *,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret
        self._replays = replays
        self._window = window_seconds
        self._clock = clock

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check one request; returns the signature (the replay key) or raises Unauthenticated saying why."""
        lowered = {k.lower(): v for k, v in headers.items()}
        timestamp = lowered.get("x-slack-request-timestamp", "")
        signature = lowered.get("x-slack-signature", "")
        if not timestamp or not signature:
            raise Unauthenticated("missing X-Slack-Request-Timestamp or X-Slack-Signature header")
        if not timestamp.isdigit():
            raise Unauthenticated("X-Slack-Request-Timestamp must be whole seconds since the epoch")
        if abs(self._clock() - int(timestamp)) > self._window:
            raise Unauthenticated(f"request timestamp is more than {self._window} seconds from now; refused")
        if not self._matches(timestamp, body, signature):
            raise Unauthenticated("Slack signature does not match the request")
        # Within the window an identical signed request could be sent again; only the first is accepted.
        if not self._replays.claim(f"slack:signature:{signature}", ttl_seconds=2 * self._window):
            raise Unauthenticated("this signed request was already received; replays are refused")
        return signature

    def forget(self, signature: str) -> None:
        """Allow a request again whose processing failed before it was handed on (Slack will retry it)."""
        self._replays.release(f"slack:signature:{signature}")

    def _matches(self, timestamp: str, body: bytes, signature: str) -> bool:
        if hmac.compare_digest(sign(self._secret.current(), timestamp, body), signature):
            return True
        # The secret may have rotated since it was cached: read it again (rate-limited by the source).
        return hmac.compare_digest(sign(self._secret.current(refresh=True), timestamp, body), signature)
