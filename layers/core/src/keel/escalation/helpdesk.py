"""What every helpdesk adapter shares: credentials from Secrets Manager, JSON over HTTP, the ticket content."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.conversations.ports import StoredMessage
from keel.errors import ConfigurationError, KeelError
from keel.escalation.ports import HelpdeskUnavailable, TicketRequest
from keel.integrations import http

# (method, url, headers, body) -> (status, parsed JSON body); the default speaks urllib, tests pass fakes.
Transport = Callable[[str, str, dict[str, str], bytes | None], tuple[int, Any]]
MAX_TRANSCRIPT_MESSAGES = 200


class HelpdeskRejected(KeelError):
    """The helpdesk refused the ticket (4xx other than auth); retrying the same request will not help."""

    code = "helpdesk_rejected"


class SecretCredentials:
    """A helpdesk secret (JSON) read at AWSCURRENT, cached briefly so a rotation takes effect within ttl."""

    def __init__(
        self,
        client: Any,
        secret_id: str,
        *,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._clock = clock
        self._cached: tuple[float, dict[str, str]] | None = None
        self._lock = threading.Lock()

    def get(self) -> dict[str, str]:
        """The current secret's fields."""
        with self._lock:
            if self._cached is not None and self._clock() - self._cached[0] < self._ttl:
                return self._cached[1]
            try:
                raw = self._client.get_secret_value(SecretId=self._secret_id, VersionStage="AWSCURRENT")
            except (ClientError, BotoCoreError) as exc:
                raise HelpdeskUnavailable("the helpdesk credentials cannot be read right now") from exc
            try:
                value = json.loads(raw["SecretString"])
            except (KeyError, ValueError) as exc:
                raise ConfigurationError(f"secret {self._secret_id} must be a JSON object") from exc
            self._cached = (self._clock(), value)
            return value

    def invalidate(self) -> None:
        """Forget the cached secret (after a 401, the secret may have rotated)."""
        with self._lock:
            self._cached = None


def basic_auth(user: str, password: str) -> str:
    """An HTTP Basic Authorization header value."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def urllib_transport(timeout: float = 10.0) -> Transport:
    """A transport over urllib with a timeout; network failures become HelpdeskUnavailable."""
    return http.urllib_transport(timeout, unavailable=HelpdeskUnavailable, target="the helpdesk")


@dataclass
class JsonClient:
    """JSON requests with credentials; retries once with fresh credentials after a 401 (rotation)."""

    base_url: str
    credentials: SecretCredentials
    auth: Callable[[dict[str, str]], str]
    transport: Transport

    def call(self, method: str, path: str, payload: Any | None = None) -> Any:
        """The parsed response body of a 2xx; raise HelpdeskUnavailable or HelpdeskRejected otherwise."""
        body = json.dumps(payload).encode() if payload is not None else None
        for attempt in range(2):
            headers = {
                "Authorization": self.auth(self.credentials.get()),
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            status, data = self.transport(method, self.base_url.rstrip("/") + path, headers, body)
            if status == 401 and attempt == 0:
                self.credentials.invalidate()
                continue
            if 200 <= status < 300:
                return data
            if status == 429 or status >= 500:
                raise HelpdeskUnavailable(f"the helpdesk answered {status}")
            raise HelpdeskRejected(f"the helpdesk refused the request with {status}: {str(data)[:300]}")
        raise HelpdeskRejected("the helpdesk refused the credentials twice (401)")


def render_transcript(messages: Sequence[StoredMessage]) -> str:
    """The conversation as plain text, masked as stored; the last messages when it is very long."""
    shown = list(messages)[-MAX_TRANSCRIPT_MESSAGES:]
    lines = []
    if len(messages) > len(shown):
        lines.append(f"[{len(messages) - len(shown)} earlier messages omitted]")
    labels = {"user": "User", "assistant": "Bot", "agent": "Agent", "event": "System"}
    for message in shown:
        lines.append(f"{message.created_at} {labels.get(message.role, message.role)}: {message.text}")
    return "\n".join(lines)


def ticket_request(
    *,
    escalation_id: str,
    conversation_id: str,
    bot: str,
    reason: str,
    detail: str,
    intent: str,
    summary: str,
    user: dict[str, Any],
    transcript: Sequence[StoredMessage],
    urgency: str = "normal",
    language: str = "und",
) -> TicketRequest:
    """The ticket for one escalation: transcript, user metadata, intent, reason, urgency and language."""
    safe_user = {k: user.get(k) for k in ("subject", "groups", "department", "tenant", "kind")}
    metadata: dict[str, Any] = {
        "escalation_id": escalation_id,
        "conversation_id": conversation_id,
        "bot": bot,
        "reason": reason,
        "detail": detail,
        "intent": intent,
        "urgency": urgency,
        "language": language,
        "user": safe_user,
    }
    body = "\n".join(
        [
            f"Escalated by Keel ({bot} bot): {reason.replace('_', ' ')}" + (f" - {detail}" if detail else ""),
            f"Intent: {intent}",
            f"Urgency: {urgency}" + (" - a vulnerable customer; answer first" if urgency == "urgent" else ""),
            f"Language: {language}",
            f"User: subject {safe_user['subject']}, groups {', '.join(user.get('groups') or [])}, "
            f"department {user.get('department') or 'n/a'}",
            f"Conversation: {conversation_id}",
            "",
            "Transcript (personal data masked as stored):",
            render_transcript(transcript),
        ]
    )
    high = reason in ("high_risk_intent", "system_failure", "vulnerable_customer") or intent != "general"
    priority = "urgent" if urgency == "urgent" else "high" if high or urgency == "high" else "normal"
    return TicketRequest(
        external_id=escalation_id,
        subject=("[Keel URGENT] " if urgency == "urgent" else "[Keel] ") + (summary[:120] or reason.replace("_", " ")),
        body=body,
        tags=(
            "keel",
            f"keel-{reason}",
            f"keel-intent-{intent}",
            f"keel-bot-{bot}",
            f"keel-urgency-{urgency}",
            f"keel-lang-{language}",
        ),
        priority=priority,
        metadata=metadata,
    )
