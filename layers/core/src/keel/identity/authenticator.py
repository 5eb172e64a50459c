"""Identify: a bearer token becomes a Principal only after verification and the revocation check (R5)."""

from __future__ import annotations

from typing import Protocol

from keel.identity.principal import Principal
from keel.identity.revocation import RevocationCheck
from keel.identity.tokens import VerifiedToken, refuse


class Verifier(Protocol):
    """TokenVerifier or TrustedIssuers."""

    def verify(self, token: str) -> VerifiedToken:
        """The verified token or Unauthenticated."""
        ...


class AccessTokenCheck(Protocol):
    """An authoritative per-request check at the IdP (CognitoAccessTokenCheck)."""

    def check(self, access_token: str) -> None:
        """Raise Unauthenticated when the IdP no longer honours the token."""
        ...


class TokenAuthenticator:
    """Verify the token, then refuse it if its subject was revoked after it was issued."""

    def __init__(
        self,
        verifier: Verifier,
        revocations: RevocationCheck,
        *,
        authoritative: AccessTokenCheck | None = None,
    ) -> None:
        self._verifier = verifier
        self._revocations = revocations
        self._authoritative = authoritative

    def authenticate(self, token: str) -> Principal:
        """The principal, or Unauthenticated saying why."""
        return self.identify(token).principal

    def identify(self, token: str) -> VerifiedToken:
        """The verified and unrevoked token (claims and principal)."""
        verified = self._verifier.verify(token)
        self._revocations.check(verified)
        return verified

    def authenticate_high_assurance(self, token: str) -> Principal:
        """As authenticate, plus Cognito's own GetUser on an access token (for bots that act on data)."""
        verified = self.identify(token)
        if self._authoritative is None:
            return verified.principal
        if verified.claims.get("token_use") != "access":
            raise refuse("wrong_token_use", "this bot needs an access token (token_use 'access')")
        self._authoritative.check(token)
        return verified.principal
