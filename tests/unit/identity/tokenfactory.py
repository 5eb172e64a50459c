"""Tokens signed with a test RSA key pair, plus hand-built forgeries (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jws

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TEST"
CLIENT = "web-client"
NOW = 1_800_000_000.0


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class KeyPair:
    """An RSA key pair with its public JWK."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.public_pem = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        public = jwk.construct(self.public_pem.decode(), algorithm="RS256").to_dict()
        self.jwk = {**{k: (v.decode() if isinstance(v, bytes) else v) for k, v in public.items()}, "kid": kid}
        self.jwk["use"] = "sig"

    def sign(self, claims: Mapping[str, Any], *, headers: Mapping[str, Any] | None = None) -> str:
        """An RS256 JWS over the claims."""
        return jws.sign(
            dict(claims), self.private_pem.decode(), headers={"kid": self.kid, **(headers or {})}, algorithm="RS256"
        )


def claims(**overrides: Any) -> dict[str, Any]:
    """Cognito-shaped ID token claims valid at NOW."""
    base: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "sub-emma",
        "aud": CLIENT,
        "token_use": "id",
        "iat": int(NOW) - 60,
        "auth_time": int(NOW) - 60,
        "exp": int(NOW) + 3600,
        "cognito:username": "emma",
        "cognito:groups": ["all-staff", "engineering"],
        "custom:department": "engineering",
        "email": "emma@acme.example",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def unsigned(claims_: Mapping[str, Any], kid: str) -> str:
    """alg: none, empty signature."""
    header = _b64(json.dumps({"alg": "none", "kid": kid}).encode())
    return f"{header}.{_b64(json.dumps(claims_).encode())}."


def hs256_with_public_key(claims_: Mapping[str, Any], pair: KeyPair) -> str:
    """The classic confusion attack: HMAC-SHA256 keyed with the RSA public key's PEM."""
    header = _b64(json.dumps({"alg": "HS256", "kid": pair.kid, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims_).encode())
    mac = hmac.new(pair.public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def edit_payload(token: str, **changes: Any) -> str:
    """Change claims after signing, keeping the original signature."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(changes)
    return f"{header}.{_b64(json.dumps(data).encode())}.{signature}"
