"""Identify: a bearer token becomes a Principal only after verification and the revocation check (R5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from keel.identity.principal import Principal
from keel.identity.revocation import RevocationCheck
from keel.identity.tokens import VerifiedToken, refuse


class Verifier(Protocol):
    """TokenVerifier or TrustedIssuers."""

    def verify(self, token: str) -> VerifiedToken:
        """The verified token or Unauthenticated."""
        ...

    def reverify(self, claims: Mapping[str, Any]) -> VerifiedToken:
        """Claims verified earlier, checked again (issuer, audience, expiry), or Unauthenticated."""
        ...


class SessionCheck(Protocol):
    """An authoritative check at the IdP that issued a token (CognitoSessionCheck)."""

    def check(self, token: str | None, claims: Mapping[str, Any]) -> None:
        """Raise Unauthenticated when the IdP no longer honours the session (token None: only claims kept)."""
        ...


@dataclass(frozen=True)
class IdpSession:
    """A principal's proof of a live session: asks the issuing IdP, on demand, about this request's token."""

    checker: SessionCheck
    token: str | None
    claims: Mapping[str, Any]

    def confirm(self) -> None:
        """Return when the IdP still honours the session; raise Unauthenticated otherwise."""
        self.checker.check(self.token, self.claims)


class TokenAuthenticator:
    """Verify the token, then refuse it if its subject was revoked after it was issued.

    Principals of an issuer with a session check carry an ``IdpSession``: the per-request path stays one
    revocation read, and only high-assurance actions (destructive, money-moving) pay for a call to the IdP.
    """

    def __init__(
        self,
        verifier: Verifier,
        revocations: RevocationCheck,
        *,
        sessions: Mapping[str, SessionCheck] | None = None,
    ) -> None:
        self._verifier = verifier
        self._revocations = revocations
        self._sessions = dict(sessions or {})

    def authenticate(self, token: str) -> Principal:
        """The principal, or Unauthenticated saying why."""
        return self._with_session(self.identify(token), token)

    def session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The principal and the verified claims, for a channel that keeps a session without the token."""
        verified = self.identify(token)
        return self._with_session(verified, token), dict(verified.claims)

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of a kept session: its claims checked again, then the revocation check, as a token's."""
        verified = self._verifier.reverify(claims)
        self._revocations.check(verified)
        return self._with_session(verified, None)

    def identify(self, token: str) -> VerifiedToken:
        """The verified and unrevoked token (claims and principal)."""
        verified = self._verifier.verify(token)
        self._revocations.check(verified)
        return verified

    def _with_session(self, verified: VerifiedToken, token: str | None) -> Principal:
        checker = self._sessions.get(str(verified.claims.get("iss")))
        if checker is None:
            return verified.principal
        return replace(verified.principal, session=IdpSession(checker, token, verified.claims))

    def authenticate_high_assurance(self, token: str) -> Principal:
        """As authenticate, plus the issuing IdP's own word that the session is live."""
        principal = self.authenticate(token)
        if principal.session is None:
            raise refuse("no_live_session", "this identity provider cannot confirm a live session")
        principal.session.confirm()
        return principal
