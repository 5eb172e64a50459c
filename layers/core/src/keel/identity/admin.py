"""The revocation path an administrator or the corporate IdP drives: revoke, fan out, end sessions (R5)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from keel.errors import InvalidRequest, KeelError
from keel.identity.revocation import RevocationStore, record_from
from keel.identity.sessions import SessionCloser, SessionRegistry

logger = logging.getLogger(__name__)

SCIM_PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class UserDirectory(Protocol):
    """The identity provider's user directory (Cognito in AWS and in the local stack)."""

    def subject_of(self, username: str) -> str:
        """The user's immutable subject id."""
        ...

    def global_sign_out(self, username: str) -> None:
        """Invalidate the user's refresh tokens at the IdP."""
        ...

    def disable(self, username: str) -> None:
        """Stop the user signing in at the IdP."""
        ...


@dataclass(frozen=True)
class Revocation:
    """What a revocation did, for the admin API response and the audit record."""

    subject: str
    disabled: bool
    not_before: float
    sessions_closed: int
    sessions_failed: int


class Revoker:
    """Writes the not-before record first (so the very next request is refused), then tells the IdP and
    ends the subject's open sessions."""

    def __init__(
        self,
        store: RevocationStore,
        sessions: SessionRegistry,
        closer: SessionCloser,
        directory: UserDirectory | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._sessions = sessions
        self._closer = closer
        self._directory = directory
        self._clock = clock

    def revoke(self, username: str, reason: str, *, disable: bool = False) -> Revocation:
        """Sign the user out everywhere (and disable them when asked); returns what was done."""
        if not username:
            raise InvalidRequest("revoke needs the user's username (or sub)")
        subject = self._directory.subject_of(username) if self._directory else username
        revocation = self.record(subject, reason, disable=disable, at=self._clock())
        # The record already refuses the user; the IdP calls only stop new tokens being minted.
        if self._directory is not None:
            self._directory.global_sign_out(username)
            if disable:
                self._directory.disable(username)
        return revocation

    def record(self, subject: str, reason: str, *, disable: bool, at: float) -> Revocation:
        """Write the not-before record for subject at time at, then end the subject's sessions."""
        record = record_from(subject, reason, at=at, disabled=disable)
        self._store.put(record)
        closed, failed = self.end_sessions(subject, reason)
        logger.info(
            "revoked subject",
            extra={"subject": subject, "disabled": disable, "sessions_closed": closed, "failed": failed},
        )
        return Revocation(subject, disable, record.not_before, closed, failed)

    def end_sessions(self, subject: str, reason: str) -> tuple[int, int]:
        """Close every open session of subject; one failing channel does not stop the others."""
        closed = failed = 0
        for session in self._sessions.sessions(subject):
            try:
                self._closer.close(session, reason)
            except KeelError:
                failed += 1
                logger.warning("session could not be closed", extra={"channel": session.channel})
                continue
            self._sessions.unregister(session.subject, session.channel, session.session_id)
            closed += 1
        return closed, failed


def scim_deactivates(body: Mapping[str, Any]) -> bool:
    """True when a SCIM 2.0 PATCH (or PUT) body sets ``active`` to false, the IdP's deprovisioning call."""
    if body.get("active") is False:
        return True
    if SCIM_PATCH_SCHEMA not in body.get("schemas", []):
        return False
    operations = body.get("Operations")
    if not isinstance(operations, list):
        raise InvalidRequest("a SCIM PatchOp needs an 'Operations' list")
    for operation in operations:
        if not isinstance(operation, dict) or str(operation.get("op", "")).lower() != "replace":
            continue
        path, value = operation.get("path"), operation.get("value")
        if path == "active" and value in (False, "false", "False"):
            return True
        if path is None and isinstance(value, dict) and value.get("active") is False:
            return True
    return False


def deprovision_from_scim(revoker: Revoker, username: str, body: Mapping[str, Any]) -> Revocation | None:
    """Apply a SCIM user PATCH/PUT from the corporate IdP: deactivation revokes and disables the user."""
    if not scim_deactivates(body):
        return None
    return revoker.revoke(username, "deprovisioned by the identity provider (SCIM active=false)", disable=True)
