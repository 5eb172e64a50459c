"""The tenant's identity-provider group mapping, applied after a token is verified (R4, R6).

An IdP sends its own group values (a SAML attribute value such as "HR-Managers-Global", an OIDC claim value);
tenant.yaml `groups` says which Keel group each means. Only internal principals are mapped: an
external principal's groups never come from a token, so there is nothing of theirs to map.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from keel.identity.principal import Principal


class Authenticator(Protocol):
    """The token authenticator's surface (keel.identity.authenticator.TokenAuthenticator)."""

    def authenticate(self, token: str) -> Principal:
        """The principal, or Unauthenticated."""
        ...

    def identify(self, token: str) -> Any:
        """The verified token (claims and principal)."""
        ...

    def authenticate_high_assurance(self, token: str) -> Principal:
        """As authenticate, with the provider's own check."""
        ...

    def session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The principal and the verified claims, for a channel that keeps a session."""
        ...

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """The principal of a kept session."""
        ...


GroupMap = Callable[[Iterable[str]], frozenset[str]]


class MappedGroups:
    """An authenticator whose internal principals carry the tenant's Keel groups for their IdP groups."""

    def __init__(self, inner: Authenticator, mapping: Callable[[], GroupMap]) -> None:
        self._inner = inner
        self._mapping = mapping

    def authenticate(self, token: str) -> Principal:
        """The mapped principal, or Unauthenticated."""
        return self._map(self._inner.authenticate(token))

    def identify(self, token: str) -> Any:
        """The verified token with its principal mapped."""
        verified = self._inner.identify(token)
        return dataclasses.replace(verified, principal=self._map(verified.principal))

    def authenticate_high_assurance(self, token: str) -> Principal:
        """As authenticate, with the provider's own check."""
        return self._map(self._inner.authenticate_high_assurance(token))

    def session(self, token: str) -> tuple[Principal, dict[str, Any]]:
        """The mapped principal and the verified claims (a kept session maps again on resume)."""
        principal, claims = self._inner.session(token)
        return self._map(principal), claims

    def resume(self, claims: Mapping[str, Any]) -> Principal:
        """The mapped principal of a kept session."""
        return self._map(self._inner.resume(claims))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _map(self, principal: Principal) -> Principal:
        if principal.external:
            return principal
        return dataclasses.replace(principal, groups=self._mapping()(principal.groups))
