"""Integration credentials from Secrets Manager: AWSCURRENT, cached briefly, refetched after a 401 (R19)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import ConfigurationError, ServiceUnavailable

DEFAULT_TTL_SECONDS = 60.0


class CredentialsUnavailable(ServiceUnavailable):
    """Secrets Manager could not be read; the integration cannot be called right now."""

    code = "credentials_unavailable"


class CredentialProvider(Protocol):
    """Where an adapter gets its credential fields; invalidate() after the target refused them."""

    def get(self) -> dict[str, str]:
        """The current credential fields."""
        ...

    def invalidate(self) -> None:
        """Forget any cached value so the next get() reads the secret again."""
        ...


class SecretsManagerCredentials:
    """A JSON secret read at AWSCURRENT and cached for ttl_seconds, so a rotation reaches running code."""

    def __init__(
        self,
        client: Any,
        secret_id: str,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < 0:
            raise ConfigurationError(f"ttl_seconds must be 0 or more, got {ttl_seconds}")
        self._client = client
        self._secret_id = secret_id
        self._ttl = ttl_seconds
        self._clock = clock
        self._cached: tuple[float, dict[str, str]] | None = None
        self._lock = threading.Lock()
        self.reads = 0

    @property
    def secret_id(self) -> str:
        """The secret this provider reads."""
        return self._secret_id

    def get(self) -> dict[str, str]:
        """The secret's fields at AWSCURRENT (from the cache while it is fresh)."""
        with self._lock:
            if self._cached is not None and self._clock() - self._cached[0] < self._ttl:
                return self._cached[1]
            try:
                raw = self._client.get_secret_value(SecretId=self._secret_id, VersionStage="AWSCURRENT")
            except (ClientError, BotoCoreError) as exc:
                raise CredentialsUnavailable(f"the credentials in {self._secret_id} cannot be read right now") from exc
            self.reads += 1
            value = parse_secret(self._secret_id, raw.get("SecretString"))
            self._cached = (self._clock(), value)
            return value

    def invalidate(self) -> None:
        """Forget the cached value (the target refused it: the secret may have rotated)."""
        with self._lock:
            self._cached = None


class StaticCredentials:
    """Fixed credential fields, for adapters run against the local stand-ins without Secrets Manager."""

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = dict(fields)

    def get(self) -> dict[str, str]:
        """The fields."""
        return dict(self._fields)

    def invalidate(self) -> None:
        """Nothing to refetch."""


def parse_secret(secret_id: str, secret_string: Any) -> dict[str, str]:
    """A secret's JSON object of string fields, or ConfigurationError saying what shape is accepted."""
    try:
        value = json.loads(secret_string) if isinstance(secret_string, str) else None
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigurationError(f'secret {secret_id} must be a JSON object of strings, e.g. {{"api_key": "..."}}')
    return value
