"""Bearer-token verification against the identity provider's JWKS (R5)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from jose import JWTError, jwk, jws
from jose.exceptions import JWSError

from keel.errors import ServiceUnavailable, Unauthenticated
from keel.identity.principal import EXTERNAL_GROUPS, Principal

ACCEPTED_ALGORITHMS = frozenset({"RS256"})


class KeySource(Protocol):
    """Where verification keys come from (a JWKS endpoint in practice)."""

    def key(self, kid: str) -> Mapping[str, Any] | None:
        """The JWK for kid, or None when the source does not know it."""
        ...


class HttpJwks:
    """A JWKS endpoint with a cache; an unknown kid triggers at most one refetch per interval."""

    def __init__(self, url: str, *, refetch_interval: float = 60.0, timeout: float = 3.0) -> None:
        self._url = url
        self._refetch_interval = refetch_interval
        self._timeout = timeout
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> Mapping[str, Any] | None:
        """The cached key, refetching the set once when kid is unknown."""
        found = self._keys.get(kid)
        if found is not None:
            return found
        with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self._refetch_interval:
                self._keys = self._fetch()
                self._fetched_at = time.monotonic()
        return self._keys.get(kid)

    def _fetch(self) -> dict[str, Mapping[str, Any]]:
        try:
            with urllib.request.urlopen(self._url, timeout=self._timeout) as response:  # noqa: S310
                document = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise ServiceUnavailable("the identity provider's signing keys cannot be fetched") from exc
        return {k["kid"]: k for k in document.get("keys", []) if isinstance(k, dict) and "kid" in k}


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature and claims were checked."""

    claims: Mapping[str, Any]
    principal: Principal


class TokenVerifier:
    """Verifies Cognito ID and access tokens: signature via JWKS, iss, aud/client_id, token_use, exp/nbf."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuers: frozenset[str],
        audiences: frozenset[str],
        tenant: str,
        leeway_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._keys = keys
        self._issuers = issuers
        self._audiences = audiences
        self._tenant = tenant
        self._leeway = leeway_seconds
        self._clock = clock

    def verify(self, token: str) -> VerifiedToken:
        """Return the verified token or raise Unauthenticated saying why (never echoing the token)."""
        header = self._header(token)
        key = self._keys.key(header["kid"])
        if key is None:
            raise Unauthenticated("token signed by an unknown key")
        try:
            payload = jws.verify(token, jwk.construct(dict(key), algorithm="RS256"), ["RS256"])
        except (JWSError, JWTError) as exc:
            raise Unauthenticated("token signature is invalid") from exc
        try:
            claims = json.loads(payload)
        except ValueError as exc:
            raise Unauthenticated("token payload is not JSON") from exc
        if not isinstance(claims, dict):
            raise Unauthenticated("token payload is not a JSON object")
        self._check_claims(claims)
        return VerifiedToken(claims=claims, principal=self._principal(claims))

    @staticmethod
    def _header(token: str) -> dict[str, Any]:
        if token.count(".") != 2:
            raise Unauthenticated("token is malformed: expected a JWT of three dot-separated parts")
        try:
            header = jws.get_unverified_header(token)
        except (JWSError, JWTError) as exc:
            raise Unauthenticated("token header cannot be decoded") from exc
        if header.get("alg") not in ACCEPTED_ALGORITHMS:
            raise Unauthenticated(f"token algorithm {header.get('alg')!r} is not accepted; accepted: RS256")
        if not isinstance(header.get("kid"), str):
            raise Unauthenticated("token header has no key id (kid)")
        return dict(header)

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") not in self._issuers:
            raise Unauthenticated("token issuer is not trusted")
        token_use = claims.get("token_use")
        if token_use == "id":
            audience = claims.get("aud")
        elif token_use == "access":
            audience = claims.get("client_id")
        else:
            raise Unauthenticated("token_use must be 'id' or 'access'")
        if audience not in self._audiences:
            raise Unauthenticated("token audience is not this application")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or now > exp + self._leeway:
            raise Unauthenticated("token has expired")
        nbf = claims.get("nbf", claims.get("iat"))
        if isinstance(nbf, int | float) and now + self._leeway < nbf:
            raise Unauthenticated("token is not valid yet")
        if not isinstance(claims.get("sub"), str):
            raise Unauthenticated("token has no subject")

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        groups = claims.get("cognito:groups") or []
        if not isinstance(groups, list):
            raise Unauthenticated("token groups claim is not a list")
        group_set = frozenset(str(g) for g in groups)
        username = claims.get("cognito:username") or claims.get("username") or claims["sub"]
        return Principal(
            subject=str(claims["sub"]),
            username=str(username),
            groups=group_set,
            tenant=str(claims.get("custom:tenant") or self._tenant),
            email=claims.get("email"),
            department=claims.get("custom:department"),
            external=bool(group_set & EXTERNAL_GROUPS),
        )
