"""Shared key pairs and verifiers for the identity unit tests."""

from __future__ import annotations

from typing import Any

import pytest

from keel.identity.tokens import JwksCache, TokenVerifier
from tests.unit.identity.tokenfactory import CLIENT, ISSUER, NOW, KeyPair


@pytest.fixture(scope="session")
def pair() -> KeyPair:
    """The issuer's signing key."""
    return KeyPair("key-1")


@pytest.fixture(scope="session")
def stranger() -> KeyPair:
    """A key the issuer never published."""
    return KeyPair("key-unknown")


class Clock:
    """A settable clock."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """Wall clock fixed at NOW."""
    return Clock(NOW)


@pytest.fixture
def jwks(pair: KeyPair) -> JwksCache:
    """A JWKS cache over a document holding the issuer's key; counts fetches."""
    document: dict[str, Any] = {"keys": [pair.jwk]}
    return JwksCache(lambda: document, refetch_interval=60.0, clock=Clock(0.0))


@pytest.fixture
def verifier(jwks: JwksCache, clock: Clock) -> TokenVerifier:
    """A verifier trusting ISSUER and CLIENT."""
    return TokenVerifier(jwks, issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}), tenant="demo", clock=clock)
