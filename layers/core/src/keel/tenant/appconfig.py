"""The tenant in AWS: read from AWS AppConfig through the Powertools parameters utility (R16).

A change of bots, groups or grants is an AppConfig deployment, not a code release: each read goes
through Powertools' cache (``max_age`` seconds), a new document is validated like a tenant folder,
and a document that fails validation never replaces the last good one (the deployment's alarm
rolls it back; the functions keep serving the tenant they had).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from keel.errors import ConfigurationError
from keel.tenant.loader import Tenant, TenantInvalid, tenant_from_data

logger = logging.getLogger("keel.tenant")
DEFAULT_MAX_AGE_SECONDS = 60
Fetch = Callable[[], Any]


class AppConfigTenant:
    """The current tenant of an AppConfig configuration profile ({"tenant": ..., "policies": {...}})."""

    def __init__(self, fetch: Fetch, *, source: str) -> None:
        self._fetch = fetch
        self._source = source
        self._lock = threading.Lock()
        self._digest = ""
        self._tenant: Tenant | None = None
        self._seen: object = None  # the last document object judged (accepted, or refused with a good one kept)

    @classmethod
    def from_identifier(
        cls, identifier: str, *, max_age: int = DEFAULT_MAX_AGE_SECONDS, client: Any = None
    ) -> AppConfigTenant:
        """identifier is application/environment/profile (names or ids), as KEEL_TENANT_APPCONFIG carries it."""
        from aws_lambda_powertools.utilities.parameters import AppConfigProvider

        application, environment, profile = _split(identifier)
        provider = AppConfigProvider(environment=environment, application=application, boto3_client=client)
        return cls(lambda: provider.get(profile, max_age=max_age, transform="json"), source=f"appconfig:{identifier}")

    def current(self) -> Tenant:
        """The tenant of the latest valid document (fetched at most once per max_age).

        Within max_age Powertools hands back the very object it cached, so a document already judged is
        recognised by identity and costs no digest; a new object is digested, and re-parsed only if its
        content changed. A fetch must therefore return a new object for a new document (Powertools does)."""
        raw = self._fetch()
        with self._lock:
            if raw is self._seen and self._tenant is not None:
                return self._tenant
        digest = _digest(raw)
        with self._lock:
            if digest == self._digest and self._tenant is not None:
                self._seen = raw
                return self._tenant
            try:
                tenant = _parse(raw, self._source)
            except TenantInvalid as exc:
                if self._tenant is None:
                    raise
                logger.error("tenant document refused; serving the last good one: %s", exc.problems)
                self._seen = raw  # refused once per fetched document, not once per request
                return self._tenant
            self._digest, self._tenant, self._seen = digest, tenant, raw
            return tenant


def _digest(raw: Any) -> str:
    return hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()


def _split(identifier: str) -> tuple[str, str, str]:
    parts = identifier.split("/")
    if len(parts) != 3 or not all(parts):
        raise ConfigurationError(f"KEEL_TENANT_APPCONFIG {identifier!r}: accepted is application/environment/profile")
    return parts[0], parts[1], parts[2]


def _parse(raw: Any, source: str) -> Tenant:
    if not isinstance(raw, dict) or not isinstance(raw.get("tenant"), dict):
        raise TenantInvalid(source, ['the AppConfig document must be {"tenant": {...}, "policies": {...}}'])
    policies = raw.get("policies") or {}
    if not isinstance(policies, dict) or not all(isinstance(v, str) for v in policies.values()):
        raise TenantInvalid(source, ["policies must map file names to Cedar policy text"])
    return tenant_from_data(raw["tenant"], source=source, policies=policies)
