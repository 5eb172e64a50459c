"""Bearer-token verification against the identity provider's JWKS (R5).

Every refusal raises Unauthenticated with a message that says why and a ``details["reason"]`` code that
tests and the 401 body can rely on; neither ever contains the token itself.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from jose import JWTError, jwk, jws
from jose.exceptions import JWKError, JWSError

from keel.errors import ServiceUnavailable, Unauthenticated
from keel.identity.principal import CUSTOMER_GROUP, EXTERNAL_GROUPS, Principal

ACCEPTED_ALGORITHMS = frozenset({"RS256"})
MAX_TOKEN_BYTES = 16_384


def refuse(reason: str, message: str) -> Unauthenticated:
    """An Unauthenticated error carrying a stable reason code (never the token)."""
    return Unauthenticated(message, details={"reason": reason})


class KeySource(Protocol):
    """Where verification keys come from (a JWKS endpoint in practice)."""

    def key(self, kid: str | None) -> Mapping[str, Any] | None:
        """The JWK for kid (None: the only key, when exactly one is published), or None if unknown."""
        ...


class JwksCache:
    """Keys from a JWKS document, cached; an unknown kid triggers at most one refetch per interval.

    The rate limit stops a flood of tokens with random kids from turning into a flood of JWKS fetches.
    """

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        refetch_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refetch_interval = refetch_interval
        self._clock = clock
        self._keys: dict[str, Mapping[str, Any]] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str | None) -> Mapping[str, Any] | None:
        """The cached key, refetching the set once when kid is unknown and the interval has passed."""
        found = self._lookup(kid)
        if found is not None:
            return found
        with self._lock:
            due = self._fetched_at is None or self._clock() - self._fetched_at >= self._refetch_interval
            if self._lookup(kid) is None and due:
                self.fetches += 1
                # A failed fetch raises before the window starts, so the next request tries again
                # instead of refusing every token as signed by an unknown key for a whole interval.
                self._keys = _signing_keys(self._fetch())
                self._fetched_at = self._clock()
        return self._lookup(kid)

    def _lookup(self, kid: str | None) -> Mapping[str, Any] | None:
        if kid is None:
            # A token without kid is only unambiguous when the issuer publishes exactly one key.
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)


class HttpJwks(JwksCache):
    """A JWKS endpoint (Cognito's /<pool>/.well-known/jwks.json, or an OIDC provider's jwks_uri)."""

    def __init__(self, url: str, *, refetch_interval: float = 60.0, timeout: float = 5.0) -> None:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(f"JWKS URL must be https (or loopback for the local stack), got {url!r}")
        self._url = url
        self._timeout = timeout
        super().__init__(self._download, refetch_interval=refetch_interval)

    def _download(self) -> Mapping[str, Any]:
        try:
            with urllib.request.urlopen(self._url, timeout=self._timeout) as response:  # noqa: S310 - checked above
                document = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise ServiceUnavailable("the identity provider's signing keys cannot be fetched") from exc
        if not isinstance(document, dict):
            raise ServiceUnavailable("the identity provider's signing keys are not a JWKS document")
        return document


def _signing_keys(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """RSA signature keys of a JWKS document by kid; encryption keys and other key types are dropped."""
    keys: dict[str, Mapping[str, Any]] = {}
    for item in document.get("keys", []):
        if not isinstance(item, dict) or not isinstance(item.get("kid"), str):
            continue
        if item.get("kty") != "RSA" or item.get("use", "sig") != "sig":
            continue
        if item.get("alg", "RS256") not in ACCEPTED_ALGORITHMS:
            continue
        keys[item["kid"]] = item
    return keys


@dataclass(frozen=True)
class ClaimMapping:
    """What one issuer is trusted to say about a user: nothing a user can write is ever read (R5, R6).

    Trust is per issuer, never per claim name: the same ``custom:groups`` is the IdP's word in a workforce
    pool federated to the corporate directory and a self-service customer's wish in a pool with sign-up.
    The tenant is never read from a token: it comes from configuration.
    """

    # Groups set only by administrators (Cognito groups) or the IdP itself; None: no groups from the token.
    groups: str | None = "cognito:groups"
    # A comma-separated attribute the IdP's attribute mapping writes on every federated sign-in; read only
    # when the token shows a federated identity, because for a native user it is just an attribute.
    federated_groups: str | None = "custom:groups"
    federation_marker: str = "identities"
    # Written by an administrator or the IdP mapping; no app client may write it (asserted in tests/infra).
    department: str | None = "custom:department"
    username: tuple[str, ...] = ("cognito:username", "username")
    requires_token_use: bool = True
    # Every principal of this issuer is external (a customer pool), whatever its token says.
    external: bool = False
    # Groups every principal of this issuer has (the customer group for a customer pool).
    fixed_groups: frozenset[str] = frozenset()
    # A self-service pool's e-mail is what the user typed: trusted only once the pool has verified it.
    requires_verified_email: bool = False


COGNITO_CLAIMS = ClaimMapping()
# A customer pool allows self sign-up, so every attribute in its tokens was chosen by the user: the
# principal is external, with the customer group only, and no department.
CUSTOMER_CLAIMS = ClaimMapping(
    groups=None,
    federated_groups=None,
    department=None,
    external=True,
    fixed_groups=frozenset({CUSTOMER_GROUP}),
    requires_verified_email=True,
)
# A corporate OIDC provider trusted directly: its groups claim is the directory's own.
OIDC_CLAIMS = ClaimMapping(
    groups="groups",
    federated_groups=None,
    department="department",
    username=("preferred_username", "email"),
    requires_token_use=False,
)


@dataclass(frozen=True)
class VerifiedToken:
    """A token whose signature and claims were checked."""

    claims: Mapping[str, Any]
    principal: Principal

    @property
    def issued_at(self) -> float:
        """The earliest of iat and auth_time: a refreshed token still dates from its sign-in."""
        times = [t for t in (_number(self.claims.get("iat")), _number(self.claims.get("auth_time"))) if t is not None]
        return min(times) if times else 0.0


class TokenVerifier:
    """Verifies ID and access tokens: signature via JWKS, iss, aud/client_id, token_use, exp/nbf."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuers: frozenset[str],
        audiences: frozenset[str],
        tenant: str,
        leeway_seconds: int = 30,
        clock: Callable[[], float] = time.time,
        claims: ClaimMapping = COGNITO_CLAIMS,
        token_uses: frozenset[str] = frozenset({"id", "access"}),
        require_kid: bool = True,
    ) -> None:
        if not issuers or not audiences:
            raise ValueError("a token verifier needs at least one trusted issuer and one audience")
        self._keys = keys
        self._issuers = issuers
        self._audiences = audiences
        self._tenant = tenant
        self._leeway = leeway_seconds
        self._clock = clock
        self._mapping = claims
        self._token_uses = token_uses
        self._require_kid = require_kid

    def verify(self, token: str) -> VerifiedToken:
        """Return the verified token or raise Unauthenticated saying why (never echoing the token)."""
        header = _header(token)
        kid = header.get("kid")
        if kid is None and self._require_kid:
            raise refuse("unknown_kid", "token header has no key id (kid)")
        key = self._keys.key(kid)
        if key is None:
            raise refuse("unknown_kid", "token is signed by a key the identity provider does not publish")
        try:
            public_key = jwk.construct(dict(key), algorithm="RS256")
            payload = jws.verify(token, public_key, sorted(ACCEPTED_ALGORITHMS))
        except (JWSError, JWTError, JWKError) as exc:
            raise refuse("bad_signature", "token signature is invalid") from exc
        try:
            claims = json.loads(payload)
        except ValueError as exc:
            raise refuse("malformed", "token payload is not JSON") from exc
        if not isinstance(claims, dict):
            raise refuse("malformed", "token payload is not a JSON object")
        self._check_claims(claims)
        return VerifiedToken(claims=claims, principal=self._principal(claims))

    def reverify(self, claims: Mapping[str, Any]) -> VerifiedToken:
        """Claims this verifier accepted earlier (kept server-side instead of the token), checked again.

        The signature was checked when they were first verified; issuer, audience, expiry and the mapping
        to a principal are checked again now, so a session kept this way ends when its token would.
        """
        self._check_claims(claims)
        return VerifiedToken(claims=dict(claims), principal=self._principal(claims))

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        if claims.get("iss") not in self._issuers:
            raise refuse("wrong_issuer", "token issuer is not trusted")
        self._check_audience(claims)
        now = self._clock()
        exp = _number(claims.get("exp"))
        if exp is None:
            raise refuse("no_expiry", "token has no expiry (exp)")
        if now > exp + self._leeway:
            raise refuse("expired", "token has expired")
        nbf = _number(claims.get("nbf"))
        if nbf is not None and now + self._leeway < nbf:
            raise refuse("not_yet_valid", "token is not valid yet (nbf)")
        iat = _number(claims.get("iat"))
        if iat is not None and now + self._leeway < iat:
            raise refuse("not_yet_valid", "token was issued in the future (iat)")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise refuse("no_subject", "token has no subject (sub)")

    def _check_audience(self, claims: Mapping[str, Any]) -> None:
        token_use = claims.get("token_use")
        if self._mapping.requires_token_use:
            if token_use not in self._token_uses:
                accepted = " or ".join(repr(u) for u in sorted(self._token_uses))
                raise refuse("wrong_token_use", f"token_use must be {accepted}")
            # Cognito puts the app client in aud for ID tokens and in client_id for access tokens.
            audience: Any = claims.get("aud") if token_use == "id" else claims.get("client_id")  # noqa: S105
        else:
            audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(isinstance(a, str) and a in self._audiences for a in audiences):
            raise refuse("wrong_audience", "token audience is not this application")

    def _principal(self, claims: Mapping[str, Any]) -> Principal:
        mapping = self._mapping
        group_set = set(mapping.fixed_groups)
        if mapping.groups is not None:
            groups = claims.get(mapping.groups) or []
            if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
                raise refuse("malformed", "token groups claim is not a list of strings")
            group_set.update(groups)
        if mapping.federated_groups is not None and claims.get(mapping.federation_marker):
            extra = claims.get(mapping.federated_groups)
            if isinstance(extra, str):
                group_set.update(g.strip() for g in extra.strip("[]").split(",") if g.strip())
        username = next((claims[c] for c in mapping.username if isinstance(claims.get(c), str)), claims["sub"])
        department = claims.get(mapping.department) if mapping.department is not None else None
        email = claims.get("email")
        if mapping.requires_verified_email and claims.get("email_verified") not in (True, "true"):
            email = None
        return Principal(
            subject=str(claims["sub"]),
            username=str(username),
            groups=frozenset(group_set),
            tenant=self._tenant,
            email=email if isinstance(email, str) else None,
            department=department if isinstance(department, str) and department else None,
            external=mapping.external or bool(group_set & EXTERNAL_GROUPS),
        )


class TrustedIssuers:
    """A list of trusted issuers, each with its own verifier; a token goes to the one its iss names."""

    def __init__(self, verifiers: Mapping[str, TokenVerifier]) -> None:
        if not verifiers:
            raise ValueError("at least one trusted issuer is required")
        self._verifiers = dict(verifiers)

    def verify(self, token: str) -> VerifiedToken:
        """Verify with the verifier of the token's (claimed, then checked) issuer."""
        _header(token)
        try:
            claims = json.loads(jws.get_unverified_claims(token))
        except (JWSError, JWTError, ValueError) as exc:
            raise refuse("malformed", "token payload cannot be decoded") from exc
        return self._verifier_for(claims.get("iss") if isinstance(claims, dict) else None).verify(token)

    def reverify(self, claims: Mapping[str, Any]) -> VerifiedToken:
        """Claims kept from an earlier verification, checked again by their issuer's verifier."""
        return self._verifier_for(claims.get("iss")).reverify(claims)

    def _verifier_for(self, issuer: object) -> TokenVerifier:
        verifier = self._verifiers.get(issuer) if isinstance(issuer, str) else None
        if verifier is None:
            raise refuse("wrong_issuer", "token issuer is not trusted")
        return verifier


def _header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token:
        raise refuse("missing", "no bearer token was sent; send 'Authorization: Bearer <JWT>'")
    if len(token) > MAX_TOKEN_BYTES:
        raise refuse("malformed", f"token is longer than {MAX_TOKEN_BYTES} bytes")
    if token.count(".") != 2:
        raise refuse("malformed", "token is malformed: expected a JWT of three dot-separated parts")
    try:
        header = jws.get_unverified_header(token)
    except (JWSError, JWTError) as exc:
        raise refuse("malformed", "token header cannot be decoded") from exc
    if header.get("alg") not in ACCEPTED_ALGORITHMS:
        raise refuse("bad_algorithm", f"token algorithm {header.get('alg')!r} is not accepted; accepted: RS256")
    if header.get("kid") is not None and not isinstance(header["kid"], str):
        raise refuse("unknown_kid", "token header key id (kid) is not a string")
    return dict(header)


def _number(value: object) -> float | None:
    """A numeric claim as a float; None for absent or non-numeric (booleans are not times)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
