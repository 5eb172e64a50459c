"""Revocation on the very next request (R5): a per-subject "not before" record checked on every request.

Why a record and not the token: Cognito (and moto) keep verifying a signed token against the JWKS until it
expires, whatever happens to the user. So Keel keeps, per subject, the time before which every token is
refused (``not_before``) and whether the account is disabled. Writers: ``Revoker.revoke`` (the admin and
deprovisioning API) and ``keel.identity.events`` (Cognito admin events from CloudTrail). Reader: every
request, through ``RevocationCheck``: ``check`` for a token, ``record_of`` for the Slack worker, which has no
token and ends a thread started before ``not_before`` instead.

Caching: none by default. "The very next request" rules out a per-container cache of even a few seconds,
because the next request may land on a warm container that read the record a moment before the revocation.
The read is one strongly consistent DynamoDB GetItem on a single-key table (measured in
tests/perf/test_identity_perf.py); ``max_age_seconds`` exists for deployments that accept a bounded delay
in exchange for fewer reads, and it never caches a revoked answer shorter than the record says.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import InvalidRequest, ServiceUnavailable
from keel.identity.tokens import VerifiedToken, refuse

MAX_REASON_CHARS = 200


@dataclass(frozen=True)
class RevocationRecord:
    """Tokens of this subject issued before not_before are refused; a disabled subject is refused outright."""

    subject: str
    not_before: float
    disabled: bool = False
    reason: str = ""
    updated_at: float = 0.0

    def refuses(self, token: VerifiedToken) -> bool:
        """True when this record makes the token unusable."""
        return self.ends(token.issued_at)

    def ends(self, started_at: float) -> bool:
        """True when what began at started_at (a token, a Slack thread) is over: disabled, or signed out since."""
        return self.disabled or started_at < self.not_before


class RevocationStore(Protocol):
    """Where not-before records live (DynamoDB in AWS and in the local stack)."""

    def get(self, subject: str) -> RevocationRecord | None:
        """The subject's record, read consistently, or None."""
        ...

    def put(self, record: RevocationRecord) -> None:
        """Write the record; a later not_before never moves back."""
        ...

    def enable(self, subject: str, *, at: float) -> None:
        """Clear the disabled flag (the not_before stays, so old tokens stay refused)."""
        ...


class DynamoDBRevocationStore:
    """Revocation records in a DynamoDB table keyed by ``subject`` (string)."""

    def __init__(self, client: Any, table: str) -> None:
        self._client = client
        self._table = table

    def get(self, subject: str) -> RevocationRecord | None:
        """One strongly consistent GetItem: a write a millisecond ago is seen."""
        try:
            response = self._client.get_item(
                TableName=self._table, Key={"subject": {"S": subject}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the revocation list cannot be read; try again shortly") from exc
        item = response.get("Item")
        if not item:
            return None
        return RevocationRecord(
            subject=subject,
            not_before=float(item.get("not_before", {}).get("N", "0")),
            disabled=bool(item.get("disabled", {}).get("BOOL", False)),
            reason=item.get("reason", {}).get("S", ""),
            updated_at=float(item.get("updated_at", {}).get("N", "0")),
        )

    def put(self, record: RevocationRecord) -> None:
        """Upsert; the condition keeps the greatest not_before when two writers race."""
        values: dict[str, Any] = {
            ":nb": {"N": repr(record.not_before)},
            ":r": {"S": record.reason[:MAX_REASON_CHARS]},
            ":u": {"N": repr(record.updated_at)},
        }
        sets = ["not_before = if_not_exists(not_before, :nb)", "reason = :r", "updated_at = :u"]
        if record.disabled:
            sets.append("disabled = :d")
            values[":d"] = {"BOOL": True}
        try:
            # Raise not_before only forwards: first make sure it exists, then move it up if smaller.
            self._client.update_item(
                TableName=self._table,
                Key={"subject": {"S": record.subject}},
                UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeValues=values,
            )
            self._client.update_item(
                TableName=self._table,
                Key={"subject": {"S": record.subject}},
                UpdateExpression="SET not_before = :nb",
                ConditionExpression="not_before < :nb",
                ExpressionAttributeValues={":nb": values[":nb"]},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return
            raise ServiceUnavailable("the revocation list cannot be written; try again shortly") from exc
        except BotoCoreError as exc:
            raise ServiceUnavailable("the revocation list cannot be written; try again shortly") from exc

    def enable(self, subject: str, *, at: float) -> None:
        """Clear the disabled flag."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"subject": {"S": subject}},
                UpdateExpression="SET disabled = :f, updated_at = :u",
                ExpressionAttributeValues={":f": {"BOOL": False}, ":u": {"N": repr(at)}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the revocation list cannot be written; try again shortly") from exc


class InMemoryRevocationStore:
    """A process-local store for the unit tests and single-process tools."""

    def __init__(self) -> None:
        self._records: dict[str, RevocationRecord] = {}
        self._lock = threading.Lock()
        self.reads = 0

    def get(self, subject: str) -> RevocationRecord | None:
        """The record or None."""
        self.reads += 1
        return self._records.get(subject)

    def put(self, record: RevocationRecord) -> None:
        """Upsert keeping the greatest not_before and a sticky disabled flag."""
        with self._lock:
            old = self._records.get(record.subject)
            if old is not None:
                record = RevocationRecord(
                    subject=record.subject,
                    not_before=max(old.not_before, record.not_before),
                    disabled=old.disabled or record.disabled,
                    reason=record.reason,
                    updated_at=record.updated_at,
                )
            self._records[record.subject] = record

    def enable(self, subject: str, *, at: float) -> None:
        """Clear the disabled flag."""
        with self._lock:
            old = self._records.get(subject)
            if old is not None:
                self._records[subject] = RevocationRecord(subject, old.not_before, False, old.reason, at)


class RevocationCheck:
    """Refuses a verified token whose subject was revoked after the token was issued."""

    def __init__(
        self,
        store: RevocationStore,
        *,
        max_age_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._max_age = max_age_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, RevocationRecord | None]] = {}

    def check(self, token: VerifiedToken) -> None:
        """Raise Unauthenticated when the subject was disabled or signed out after this token was issued."""
        record = self._record(token.principal.subject)
        if record is None or not record.refuses(token):
            return
        if record.disabled:
            raise refuse("revoked", "this account is disabled at the identity provider; sign in again later")
        raise refuse("revoked", "this session was signed out at the identity provider; sign in again")

    def record_of(self, subject: str) -> RevocationRecord | None:
        """The subject's record, read as check reads it, for a channel with no token to check (Slack)."""
        return self._record(subject)

    def _record(self, subject: str) -> RevocationRecord | None:
        if self._max_age <= 0:
            return self._store.get(subject)
        now = self._clock()
        cached = self._cache.get(subject)
        if cached is not None and now - cached[0] < self._max_age:
            return cached[1]
        record = self._store.get(subject)
        self._cache[subject] = (now, record)
        return record


def record_from(subject: str, reason: str, *, at: float, disabled: bool) -> RevocationRecord:
    """A validated record; the reason is free text for operators, bounded in length."""
    if not subject or len(subject) > 256:
        raise InvalidRequest("subject must be 1 to 256 characters (the user's sub)")
    if not reason.strip():
        raise InvalidRequest("a revocation needs a reason (for the audit trail), e.g. 'left the company'")
    return RevocationRecord(subject, at, disabled, reason.strip()[:MAX_REASON_CHARS], at)
