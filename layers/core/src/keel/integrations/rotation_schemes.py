"""Which rotator a secret gets: its ``keel:rotation*`` tags, validated, and the rotation Lambda's one entry point.

- ``keel:rotation``: ``self-issued`` (Keel makes the value, nothing to register), ``provider`` (a person
  rotates it at its provider and stores it with put-secret-value; no schedule, ``secret_age`` watches its age)
  or ``rest-key`` (the provider's key API: POST /api/keys, GET /api/keys/self, DELETE /api/keys/{fingerprint}),
  which also needs
- ``keel:rotation-url``: the provider's https:// base URL,
- ``keel:rotation-auth``: how the provider takes a key, ``bearer`` or ``api-key-header`` (X-Api-Key),
- ``keel:rotation-field``: the secret's JSON field that holds the key (``access_token``, ``api_key``).

Tags, not the secret's value, because an operator's put-secret-value replaces the value but not its tags. Whoever
may tag a secret decides where its current key is sent, so only the deploying role tags them (the stacks do).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from keel.contract import AUTH_TAG, FIELD_TAG, SCHEME_TAG, URL_TAG, KeyAuth, Scheme
from keel.integrations.http import LOOPBACK_HOSTS, Transport
from keel.integrations.rotation import (
    ApiKeyRotator,
    RestKeyTarget,
    RotationFailed,
    SecretRotator,
    SelfIssuedRotator,
    describe_secret,
    parse_event,
)

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


@dataclass(frozen=True)
class RotationScheme:
    """A secret's validated rotation tags."""

    scheme: Scheme
    base_url: str = ""
    auth: KeyAuth | None = None
    field: str = ""

    @classmethod
    def from_tags(cls, secret_id: str, tags: Mapping[str, str]) -> RotationScheme:
        """The scheme the tags describe, or RotationFailed naming the tag and what it accepts."""
        value = tags.get(SCHEME_TAG)
        if value is None:
            raise RotationFailed(
                f"{secret_id} has no {SCHEME_TAG} tag; accepted: {_accepted(Scheme)} "
                f"(rest-key also needs {URL_TAG}, {AUTH_TAG} and {FIELD_TAG}). A provider-issued secret "
                f"without a key API is tagged {SCHEME_TAG}={Scheme.PROVIDER.value}: it is rotated at its provider "
                "and stored with put-secret-value"
            )
        if value not in _values(Scheme):
            raise RotationFailed(f"{secret_id}: {SCHEME_TAG}={value!r} is not a scheme; accepted: {_accepted(Scheme)}")
        if value in (Scheme.SELF_ISSUED, Scheme.PROVIDER):
            return cls(Scheme(value))
        return cls(
            Scheme.REST_KEY,
            base_url=_base_url(secret_id, tags.get(URL_TAG)),
            auth=_auth(secret_id, tags.get(AUTH_TAG)),
            field=_field(secret_id, tags.get(FIELD_TAG)),
        )

    def rotator(
        self, client: Any, *, secret_id: str | None = None, transport: Transport | None = None
    ) -> SecretRotator:
        """The rotator for this scheme over a Secrets Manager client (transport: the provider's HTTP, for tests).

        A provider-rotated secret has none: RotationFailed says how to rotate it.
        """
        if self.scheme is Scheme.PROVIDER:
            raise provider_rotated(secret_id or "this secret")
        if self.scheme is Scheme.SELF_ISSUED:
            return SelfIssuedRotator(client)
        name = f"the key API at {urlsplit(self.base_url).netloc}"
        make = RestKeyTarget.bearer if self.auth is KeyAuth.BEARER else RestKeyTarget.api_key_header
        return ApiKeyRotator(client, make(name, self.base_url, transport=transport), field=self.field)


def rotate_step(client: Any, event: Mapping[str, Any], *, transport: Transport | None = None) -> None:
    """Run one rotation step of a Secrets Manager event with the rotator the secret's tags name."""
    secret_id, token, step = parse_event(event)
    described = describe_secret(client, secret_id)
    if not described.get("RotationEnabled"):
        raise RotationFailed(f"rotation is not enabled for {secret_id}")
    scheme = RotationScheme.from_tags(secret_id, tag_map(described.get("Tags")))
    scheme.rotator(client, secret_id=secret_id, transport=transport).run(step, secret_id, token, described)


def tag_map(tags: Any) -> dict[str, str]:
    """Tags as AWS lists them ([{"Key": k, "Value": v}], in DescribeSecret and in templates) as a dict."""
    if not isinstance(tags, list):
        return {}
    return {str(t.get("Key")): str(t.get("Value")) for t in tags if isinstance(t, dict)}


def provider_rotated(secret_id: str) -> RotationFailed:
    """The refusal of a rotation event for a provider-rotated secret (a schedule someone added by hand)."""
    return RotationFailed(
        f"{secret_id} is {SCHEME_TAG}={Scheme.PROVIDER.value}: it has no automatic rotation. Issue a new value at "
        "its provider, store it with put-secret-value (same JSON fields), and remove this schedule with "
        "cancel-rotate-secret; the daily secret-age check watches it instead"
    )


def _base_url(secret_id: str, value: str | None) -> str:
    accepted = "the provider's https:// base URL (http:// only to 127.0.0.1 or localhost)"
    if not value:
        raise RotationFailed(f"{secret_id} is {SCHEME_TAG}=rest-key but has no {URL_TAG} tag; accepted: {accepted}")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # a malformed port or IPv6 literal
        host = None
    plain = host and not (parts.query or parts.fragment or parts.username or parts.password)
    if not plain or not (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)):
        raise RotationFailed(f"{secret_id}: {URL_TAG}={value!r} is not accepted; accepted: {accepted}")
    return value


def _auth(secret_id: str, value: str | None) -> KeyAuth:
    if value is None or value not in _values(KeyAuth):
        shown = "missing" if value is None else repr(value)
        raise RotationFailed(f"{secret_id}: {AUTH_TAG} is {shown}; accepted: {_accepted(KeyAuth)}")
    return KeyAuth(value)


def _field(secret_id: str, value: str | None) -> str:
    if value is None or not _FIELD.match(value):
        shown = "missing" if value is None else repr(value)
        raise RotationFailed(
            f"{secret_id}: {FIELD_TAG} is {shown}; accepted: the name of the JSON field that holds the key "
            "(letters, digits, underscores), e.g. access_token or api_key"
        )
    return value


def _values(kind: type[StrEnum]) -> list[str]:
    return [member.value for member in kind]


def _accepted(kind: type[StrEnum]) -> str:
    return ", ".join(_values(kind))
