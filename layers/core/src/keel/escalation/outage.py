"""Handoffs caused by an outage (R17, R18): one per conversation, a bounded number per incident, and only
for a request a person can act on. Without this, every message during a model outage ("hi" included)
opened a helpdesk ticket.

An incident is a fixed window of time (15 minutes by default) in which system failures are seen; the
claims that bound handoffs live in a store shared by every Lambda instance (DynamoDB in AWS and locally).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from keel.errors import StoreUnavailable

INCIDENT_BANNER = (
    "We're having a problem right now: the assistant's language models are not answering, and our team "
    "knows about it. I can still answer from our documents where I can. If you need something done, tell "
    "me what it is and I'll pass it to a person."
)
ALREADY_WITH_A_PERSON = (
    "We're having a problem right now, and your request from earlier in this conversation is already with "
    "our support team; they will get back to you. There is no need to send it again."
)
Verdict = Literal["admitted", "not_actionable", "already_handed_over", "incident_limit"]

# Greetings, thanks and acknowledgements: nothing a person could act on.
_SMALL_TALK = re.compile(
    r"^(?:hi|hello|hey|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|morning|"
    r"thanks?|thank you|thx|cheers|ok(?:ay)?|k|cool|great|nice|bye|goodbye|see you|"
    r"are you there|anyone there|test(?:ing)?|ping)(?: (?:there|again|bot|everyone|all|so much|a lot))*$"
)
_WORD = re.compile(r"[\w'-]+")
MIN_REQUEST_WORDS = 3


def actionable(text: str) -> bool:
    """Whether a message holds a request a person could act on (not a greeting, thanks or a single word)."""
    words = _WORD.findall(text.lower())
    if not words:
        return False
    if _SMALL_TALK.match(" ".join(words)):
        return False
    return len(words) >= MIN_REQUEST_WORDS or "?" in text


class ClaimStore(Protocol):
    """Claims that expire: claim(key) succeeds once per key until the claim expires."""

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """True if this call took the key; False if someone holds it."""
        ...


@dataclass(frozen=True)
class OutageDecision:
    """Whether a system-failure handoff may go ahead, and why not."""

    verdict: Verdict

    @property
    def admitted(self) -> bool:
        """True when a handoff may be opened."""
        return self.verdict == "admitted"

    @property
    def message(self) -> str:
        """What to tell the user instead of a ticket number."""
        return ALREADY_WITH_A_PERSON if self.verdict == "already_handed_over" else INCIDENT_BANNER


class OutageHandoffs:
    """Admits at most one system-failure handoff per conversation and `per_incident` per incident window."""

    def __init__(
        self,
        claims: ClaimStore,
        *,
        per_incident: int = 10,
        window_seconds: int = 900,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._claims = claims
        self._per_incident = per_incident
        self._window = window_seconds
        self._clock = clock

    def admit(self, conversation_id: str, user_text: str) -> OutageDecision:
        """Decide for one turn whose escalation reason is a system failure."""
        if not actionable(user_text):
            return OutageDecision("not_actionable")
        incident = int(self._clock() // self._window)
        # Held for two windows, so a conversation that spans a window boundary is not handed over twice.
        if not self._claims.claim(f"outage#{incident}#conversation#{conversation_id}", 2 * self._window):
            return OutageDecision("already_handed_over")
        for slot in range(self._per_incident):
            if self._claims.claim(f"outage#{incident}#slot#{slot}", 2 * self._window):
                return OutageDecision("admitted")
        return OutageDecision("incident_limit")


class DynamoDBClaims:
    """Claims as items with a conditional put; an expired claim can be taken again (TTL deletes it later)."""

    def __init__(self, client: Any, table: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    def claim(self, key: str, ttl_seconds: int) -> bool:
        """Put the claim unless a live one exists."""
        from botocore.exceptions import BotoCoreError, ClientError

        now = int(self._clock())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={"pk": {"S": key}, "sk": {"S": "claim"}, "expires_at": {"N": str(now + ttl_seconds)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable("the handoff claims could not be written") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the handoff claims could not be written") from exc
        return True
