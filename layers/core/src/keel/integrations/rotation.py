"""Secrets Manager rotation: createSecret, setSecret, testSecret, finishSecret, for API keys and self-issued values.

API keys (ApiKeyRotator): the target issues nothing itself: Keel makes the new key, registers it at the target
with the current key, tests it, promotes it to AWSCURRENT and only then revokes the old key at the target.
Adapters keep working through the switch because they reread AWSCURRENT after a short TTL and at once after a 401.
Self-issued values (SelfIssuedRotator): Keel makes the new value and promotes it; nothing is registered anywhere.
Any failure before finishSecret leaves AWSCURRENT as it was. Which rotator a secret gets: ``rotation_schemes``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import InvalidRequest, KeelError, NotFound
from keel.integrations.http import JsonApi, Transport, urllib_transport
from keel.integrations.secrets import StaticCredentials, parse_secret

Step = Literal["createSecret", "setSecret", "testSecret", "finishSecret"]
STEPS: tuple[Step, ...] = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationFailed(KeelError):
    """A rotation step could not complete; the secret keeps its current version."""

    code = "rotation_failed"


def key_fingerprint(key: str) -> str:
    """The id of a key at the target: a SHA-256 prefix, so a key never appears in a URL or a log."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


class KeyRotationTarget(Protocol):
    """A system whose API keys can be added, tested and revoked over its API."""

    def add_key(self, current: str, new: str) -> None:
        """Register new, authenticating with current (idempotent)."""
        ...

    def test_key(self, candidate: str) -> bool:
        """True when the target accepts candidate."""
        ...

    def revoke_key(self, current: str, old: str) -> None:
        """Revoke old, authenticating with current (idempotent)."""
        ...


class RestKeyTarget:
    """Key management over REST: POST /api/keys, GET /api/keys/self, DELETE /api/keys/{fingerprint}."""

    def __init__(
        self,
        name: str,
        base_url: str,
        auth_headers: Callable[[str], dict[str, str]],
        *,
        transport: Transport | None = None,
    ) -> None:
        self._name = name
        self._base_url = base_url
        self._auth = auth_headers
        self._transport = transport or urllib_transport()

    @classmethod
    def bearer(cls, name: str, base_url: str, *, transport: Transport | None = None) -> RestKeyTarget:
        """A target that takes keys as Authorization: Bearer (the CRM shape)."""
        return cls(name, base_url, lambda key: {"Authorization": f"Bearer {key}"}, transport=transport)

    @classmethod
    def api_key_header(cls, name: str, base_url: str, *, transport: Transport | None = None) -> RestKeyTarget:
        """A target that takes keys as X-Api-Key (the HR shape)."""
        return cls(name, base_url, lambda key: {"X-Api-Key": key}, transport=transport)

    def add_key(self, current: str, new: str) -> None:
        """POST the new key (the target answers 200 if it already knows it)."""
        self._api(current).call("POST", "/api/keys", {"key": new})

    def test_key(self, candidate: str) -> bool:
        """GET /api/keys/self with the candidate, no refetch on 401."""
        headers = {"Accept": "application/json", **self._auth(candidate)}
        status, _ = self._transport("GET", self._base_url.rstrip("/") + "/api/keys/self", headers, None)
        return 200 <= status < 300

    def revoke_key(self, current: str, old: str) -> None:
        """DELETE the old key by fingerprint (404: already gone)."""
        try:
            self._api(current).call("DELETE", f"/api/keys/{key_fingerprint(old)}")
        except NotFound:
            return

    def _api(self, key: str) -> JsonApi:
        return JsonApi(
            self._name, self._base_url, StaticCredentials({"key": key}), lambda s: self._auth(s["key"]), self._transport
        )


class SecretRotator(ABC):
    """The four rotation steps over one Secrets Manager client; subclasses make, register and test a value."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def handle(self, event: Mapping[str, Any]) -> None:
        """The Lambda entry Secrets Manager calls once per step with SecretId, ClientRequestToken and Step."""
        secret_id, token, step = parse_event(event)
        self.run(step, secret_id, token, self._describe(secret_id))

    def run(self, step: Step, secret_id: str, token: str, described: Mapping[str, Any]) -> None:
        """Run step for token, given the secret's DescribeSecret answer; a finished version is left alone."""
        stages = described.get("VersionIdsToStages", {})
        if token not in stages:
            raise RotationFailed(f"version {token} is not a version of {secret_id}")
        if "AWSCURRENT" in stages[token]:
            return
        if "AWSPENDING" not in stages[token]:
            raise RotationFailed(f"version {token} of {secret_id} is not pending rotation")
        getattr(self, _METHODS[step])(secret_id, token)

    def rotate(self, secret_id: str, token: str | None = None) -> str:
        """Run the four steps in order (what Secrets Manager does); returns the new version id."""
        token = token or str(uuid.uuid4())
        self.create_secret(secret_id, token)
        self.set_secret(secret_id, token)
        self.test_secret(secret_id, token)
        self.finish_secret(secret_id, token)
        return token

    @abstractmethod
    def create_secret(self, secret_id: str, token: str) -> None:
        """createSecret: store a new value as AWSPENDING under token (kept if it exists already)."""

    @abstractmethod
    def set_secret(self, secret_id: str, token: str) -> None:
        """setSecret: make the pending value usable where it is checked."""

    @abstractmethod
    def test_secret(self, secret_id: str, token: str) -> None:
        """testSecret: fail unless the pending value works."""

    @abstractmethod
    def finish_secret(self, secret_id: str, token: str) -> None:
        """finishSecret: make token AWSCURRENT."""

    def _promote(self, secret_id: str, token: str, previous: str | None) -> None:
        self._call(
            "update_secret_version_stage",
            SecretId=secret_id,
            VersionStage="AWSCURRENT",
            MoveToVersionId=token,
            RemoveFromVersionId=previous,
        )
        self._call(
            "update_secret_version_stage", SecretId=secret_id, VersionStage="AWSPENDING", RemoveFromVersionId=token
        )

    def _current_version(self, secret_id: str) -> str | None:
        stages = self._describe(secret_id).get("VersionIdsToStages", {})
        return next((v for v, s in stages.items() if "AWSCURRENT" in s), None)

    def _put_pending(self, secret_id: str, token: str, value: Mapping[str, str]) -> None:
        self._call(
            "put_secret_value",
            SecretId=secret_id,
            ClientRequestToken=token,
            SecretString=json.dumps(value),
            VersionStages=["AWSPENDING"],
        )

    def _pending(self, secret_id: str, token: str) -> dict[str, str] | None:
        try:
            raw = self._client.get_secret_value(SecretId=secret_id, VersionId=token, VersionStage="AWSPENDING")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise RotationFailed(f"the pending version of {secret_id} cannot be read") from exc
        except BotoCoreError as exc:
            raise RotationFailed(f"Secrets Manager is not reachable for {secret_id}") from exc
        return parse_secret(secret_id, raw.get("SecretString"))

    def _require_pending(self, secret_id: str, token: str) -> dict[str, str]:
        pending = self._pending(secret_id, token)
        if pending is None:
            raise RotationFailed(f"{secret_id} has no pending version {token}; run createSecret first")
        return pending

    def _read(self, secret_id: str, *, stage: str) -> dict[str, str]:
        raw = self._call("get_secret_value", SecretId=secret_id, VersionStage=stage)
        return parse_secret(secret_id, raw.get("SecretString"))

    def _describe(self, secret_id: str) -> dict[str, Any]:
        return describe_secret(self._client, secret_id)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        return _call(self._client, operation, **kwargs)


class ApiKeyRotator(SecretRotator):
    """The four rotation steps for a JSON secret holding one API key in `field`, registered at a target."""

    def __init__(
        self,
        client: Any,
        target: KeyRotationTarget,
        *,
        field: str = "api_key",
        new_key: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        super().__init__(client)
        self._target = target
        self._field = field
        self._new_key = new_key

    def create_secret(self, secret_id: str, token: str) -> None:
        """createSecret: store a new key as AWSPENDING under token (kept if it exists already)."""
        current = self._read(secret_id, stage="AWSCURRENT")
        if self._pending(secret_id, token) is not None:
            return
        self._put_pending(secret_id, token, {**current, self._field: self._new_key()})

    def set_secret(self, secret_id: str, token: str) -> None:
        """setSecret: register the pending key at the target, authenticated with the current key."""
        current = self._key(self._read(secret_id, stage="AWSCURRENT"), secret_id)
        new = self._key(self._require_pending(secret_id, token), secret_id)
        try:
            self._target.add_key(current, new)
        except KeelError as exc:
            raise RotationFailed(
                f"the target did not take the pending key of {secret_id}: {exc.message}; AWSCURRENT is unchanged"
            ) from exc

    def test_secret(self, secret_id: str, token: str) -> None:
        """testSecret: the target must accept the pending key."""
        pending = self._key(self._require_pending(secret_id, token), secret_id)
        try:
            accepted = self._target.test_key(pending)
        except KeelError as exc:
            raise RotationFailed(
                f"the pending key of {secret_id} could not be tested: {exc.message}; AWSCURRENT is unchanged"
            ) from exc
        if not accepted:
            raise RotationFailed(f"the target refused the pending key of {secret_id}; AWSCURRENT is unchanged")

    def finish_secret(self, secret_id: str, token: str) -> None:
        """finishSecret: make token AWSCURRENT, then revoke the previous key at the target."""
        previous = self._current_version(secret_id)
        if previous == token:
            return
        old = self._key(self._read(secret_id, stage="AWSCURRENT"), secret_id)
        new = self._key(self._require_pending(secret_id, token), secret_id)
        self._promote(secret_id, token, previous)
        if old == new:
            return
        try:
            self._target.revoke_key(new, old)
        except KeelError as exc:
            # A retried finishSecret finds token already current and stops, so say what is left to do.
            raise RotationFailed(
                f"{secret_id} now uses the new key, but revoking the old one (fingerprint {key_fingerprint(old)}) "
                f"at the target failed: {exc.message}; revoke it there by hand"
            ) from exc

    def _key(self, value: Mapping[str, str], secret_id: str) -> str:
        key = value.get(self._field)
        if not key:
            raise RotationFailed(f"{secret_id} has no {self._field!r} field to rotate")
        return key


class SelfIssuedRotator(SecretRotator):
    """Rotation of a value Keel issues itself (a shared webhook or HMAC secret): no provider to tell.

    The new value keeps the secret's JSON shape and replaces the field named by its ``rotate_field`` key
    (default ``value``) with one from GetRandomPassword.
    """

    MIN_LENGTH = 32

    def create_secret(self, secret_id: str, token: str) -> None:
        """createSecret: store a new random value as AWSPENDING under token (kept if it exists already)."""
        if self._pending(secret_id, token) is not None:
            return
        current = self._read(secret_id, stage="AWSCURRENT")
        password = self._call("get_random_password", PasswordLength=48, ExcludePunctuation=True)["RandomPassword"]
        self._put_pending(secret_id, token, {**current, _rotate_field(current): password})

    def set_secret(self, secret_id: str, token: str) -> None:
        """setSecret: nothing to register; the consumers read AWSCURRENT."""

    def test_secret(self, secret_id: str, token: str) -> None:
        """testSecret: the pending value must hold a generated value of at least MIN_LENGTH characters."""
        pending = self._require_pending(secret_id, token)
        field = _rotate_field(pending)
        if len(pending.get(field, "")) < self.MIN_LENGTH:
            raise RotationFailed(f"the pending version of {secret_id} has no usable {field!r}; AWSCURRENT is unchanged")

    def finish_secret(self, secret_id: str, token: str) -> None:
        """finishSecret: make token AWSCURRENT."""
        previous = self._current_version(secret_id)
        if previous != token:
            self._promote(secret_id, token, previous)


def parse_event(event: Mapping[str, Any]) -> tuple[str, str, Step]:
    """(SecretId, ClientRequestToken, Step) of a rotation event, or InvalidRequest saying what is accepted."""
    try:
        secret_id, token, step = str(event["SecretId"]), str(event["ClientRequestToken"]), event["Step"]
    except KeyError as exc:
        raise InvalidRequest(f"a rotation event needs SecretId, ClientRequestToken and Step; {exc} is missing") from exc
    if step not in STEPS:
        raise InvalidRequest(f"unknown rotation step {step!r}; accepted: {', '.join(STEPS)}")
    return secret_id, token, step


def describe_secret(client: Any, secret_id: str) -> dict[str, Any]:
    """DescribeSecret, with SDK errors as RotationFailed."""
    described: dict[str, Any] = _call(client, "describe_secret", SecretId=secret_id)
    return described


def _call(client: Any, operation: str, **kwargs: Any) -> Any:
    try:
        return getattr(client, operation)(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        raise RotationFailed(f"Secrets Manager {operation} failed for {kwargs.get('SecretId')}") from exc


def _rotate_field(value: Mapping[str, str]) -> str:
    return value.get("rotate_field") or "value"


_METHODS: dict[str, str] = {
    "createSecret": "create_secret",
    "setSecret": "set_secret",
    "testSecret": "test_secret",
    "finishSecret": "finish_secret",
}
