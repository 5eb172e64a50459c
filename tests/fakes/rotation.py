"""Fakes for secret rotation: Secrets Manager's versions and staging labels, and a provider's key API."""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from keel.integrations.rotation import key_fingerprint


def _error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


@dataclass
class _Secret:
    tags: dict[str, str]
    rotation_enabled: bool = False
    values: dict[str, str | None] = field(default_factory=dict)
    stages: dict[str, list[str]] = field(default_factory=dict)
    dates: dict[str, datetime] = field(default_factory=dict)


class FakeSecretsManager:
    """The Secrets Manager calls rotation makes, with staging labels kept as the service keeps them."""

    def __init__(self) -> None:
        self._secrets: dict[str, _Secret] = {}
        self.calls: list[str] = []

    def create(
        self,
        name: str,
        value: dict[str, str],
        tags: dict[str, str] | None = None,
        *,
        created: datetime | None = None,
        changed: datetime | None = None,
    ) -> str:
        """A secret with one AWSCURRENT version holding value (and CreatedDate / LastChangedDate when given)."""
        dates = {k: v for k, v in (("CreatedDate", created), ("LastChangedDate", changed)) if v is not None}
        self._secrets[name] = _Secret(
            dict(tags or {}), values={"v0": json.dumps(value)}, stages={"v0": ["AWSCURRENT"]}, dates=dates
        )
        return name

    def start_rotation(self, name: str, token: str = "v1") -> str:
        """What RotateSecret does before it calls createSecret: rotation on, token labelled AWSPENDING, no value."""
        secret = self._secrets[name]
        secret.rotation_enabled = True
        self._move(secret, "AWSPENDING", token)
        secret.values.setdefault(token, None)
        return token

    def current(self, name: str) -> dict[str, str]:
        """The AWSCURRENT value."""
        return dict(json.loads(self.get_secret_value(SecretId=name, VersionStage="AWSCURRENT")["SecretString"]))

    def describe_secret(self, *, SecretId: str) -> dict[str, Any]:
        self.calls.append("describe_secret")
        secret = self._get(SecretId, "DescribeSecret")
        return {
            "Name": SecretId,
            "RotationEnabled": secret.rotation_enabled,
            "Tags": [{"Key": k, "Value": v} for k, v in secret.tags.items()],
            "VersionIdsToStages": {v: list(s) for v, s in secret.stages.items() if s},
            **secret.dates,
        }

    def get_secret_value(
        self, *, SecretId: str, VersionId: str | None = None, VersionStage: str | None = None
    ) -> dict[str, Any]:
        self.calls.append("get_secret_value")
        secret = self._get(SecretId, "GetSecretValue")
        if VersionId is None:
            VersionId = next((v for v, s in secret.stages.items() if VersionStage in s), None)
        if VersionId is None or secret.values.get(VersionId) is None:
            raise _error("ResourceNotFoundException", "GetSecretValue")
        if VersionStage is not None and VersionStage not in secret.stages.get(VersionId, []):
            raise _error("InvalidRequestException", "GetSecretValue")
        return {"VersionId": VersionId, "SecretString": secret.values[VersionId]}

    def put_secret_value(
        self, *, SecretId: str, ClientRequestToken: str, SecretString: str, VersionStages: list[str]
    ) -> dict[str, Any]:
        self.calls.append("put_secret_value")
        secret = self._get(SecretId, "PutSecretValue")
        if secret.values.get(ClientRequestToken) not in (None, SecretString):
            raise _error("ResourceExistsException", "PutSecretValue")
        secret.values[ClientRequestToken] = SecretString
        for stage in VersionStages:
            self._move(secret, stage, ClientRequestToken)
        return {"VersionId": ClientRequestToken}

    def update_secret_version_stage(
        self,
        *,
        SecretId: str,
        VersionStage: str,
        MoveToVersionId: str | None = None,
        RemoveFromVersionId: str | None = None,
    ) -> dict[str, Any]:
        self.calls.append("update_secret_version_stage")
        secret = self._get(SecretId, "UpdateSecretVersionStage")
        if RemoveFromVersionId is not None:
            if VersionStage not in secret.stages.get(RemoveFromVersionId, []):
                raise _error("InvalidParameterException", "UpdateSecretVersionStage")
            secret.stages[RemoveFromVersionId].remove(VersionStage)
        if MoveToVersionId is not None:
            self._move(secret, VersionStage, MoveToVersionId)
            if VersionStage == "AWSCURRENT" and RemoveFromVersionId is not None:
                self._move(secret, "AWSPREVIOUS", RemoveFromVersionId)
        return {"Name": SecretId}

    def get_random_password(self, *, PasswordLength: int, ExcludePunctuation: bool) -> dict[str, str]:
        self.calls.append("get_random_password")
        alphabet = string.ascii_letters + string.digits
        return {"RandomPassword": "".join(alphabet[(i * 7) % len(alphabet)] for i in range(PasswordLength))}

    def _get(self, name: str, operation: str) -> _Secret:
        if name not in self._secrets:
            raise _error("ResourceNotFoundException", operation)
        return self._secrets[name]

    @staticmethod
    def _move(secret: _Secret, stage: str, version: str) -> None:
        for stages in secret.stages.values():
            if stage in stages:
                stages.remove(stage)
        secret.stages.setdefault(version, []).append(stage)


class FakeKeyApi:
    """A provider's key API (POST /api/keys, GET /api/keys/self, DELETE /api/keys/{fingerprint}) as a transport.

    `refuse_new`: POST answers 403; `forget_new`: POST answers 201 but the key is not kept (the test fails);
    `down`: every call answers 503.
    """

    def __init__(self, key: str, *, header: str = "Authorization") -> None:
        self.keys = {key}
        self.header = header
        self.seen: list[tuple[str, str]] = []
        self.refuse_new = False
        self.forget_new = False
        self.down = False

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        path = "/" + url.split("/", 3)[3]
        self.seen.append((method, path))
        if self.down:
            return 503, {"error": "down"}
        presented = headers.get(self.header, "")
        if self.header == "Authorization":
            presented = presented[7:] if presented.startswith("Bearer ") else ""
        if presented not in self.keys:
            return 401, {"error": "bad key"}
        if method == "GET" and path == "/api/keys/self":
            return 200, {"fingerprint": key_fingerprint(presented)}
        if method == "POST" and path == "/api/keys":
            if self.refuse_new:
                return 403, {"error": "key creation is disabled for this account"}
            if not self.forget_new:
                self.keys.add(json.loads(body or b"{}")["key"])
            return 201, {}
        if method == "DELETE" and path.startswith("/api/keys/"):
            found = {k for k in self.keys if key_fingerprint(k) == path.rsplit("/", 1)[1]}
            self.keys -= found
            return (204, {}) if found else (404, {})
        return 404, {}
