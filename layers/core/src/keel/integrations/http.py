"""JSON over HTTP for integration adapters: status codes become Keel errors; a 401 refetches credentials once."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from keel.errors import InvalidRequest, KeelError, NotFound, ServiceUnavailable
from keel.integrations.secrets import CredentialProvider

# Host names of this machine: the local stand-ins, reachable over plain http and with any credentials.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# (method, url, headers, body) -> (status, parsed JSON body); tests pass fakes, adapters default to urllib.
Transport = Callable[[str, str, dict[str, str], bytes | None], tuple[int, Any]]


class IntegrationUnavailable(ServiceUnavailable):
    """The target system did not answer, or answered 429/5xx; the call may be retried later."""

    code = "integration_unavailable"


class IntegrationRejected(KeelError):
    """The target system refused the request (a 4xx other than 404/429); retrying will not help."""

    code = "integration_rejected"


def urllib_transport(
    timeout: float = 10.0,
    *,
    unavailable: type[ServiceUnavailable] = IntegrationUnavailable,
    target: str = "the target",
) -> Transport:
    """A transport over urllib with a timeout; network failures become `unavailable` (IntegrationUnavailable)."""

    def send(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        request = urllib.request.Request(url, data=body, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
                return response.status, json_or_raw(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json_or_raw(exc.read())
        except (OSError, ValueError) as exc:
            raise unavailable(f"{target} is not responding ({type(exc).__name__})") from exc

    return send


@dataclass
class JsonApi:
    """One REST API with credentials from a provider; after a 401 the credentials are refetched once."""

    name: str
    base_url: str
    credentials: CredentialProvider
    auth_headers: Callable[[Mapping[str, str]], dict[str, str]]
    transport: Transport

    def call(
        self, method: str, path: str, payload: Any | None = None, *, query: Mapping[str, str] | None = None
    ) -> Any:
        """The parsed body of a 2xx; NotFound on 404, IntegrationUnavailable or IntegrationRejected otherwise."""
        body = json.dumps(payload).encode() if payload is not None else None
        url = self.base_url.rstrip("/") + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
        for attempt in range(2):
            headers = {"Content-Type": "application/json", "Accept": "application/json"}
            try:
                headers.update(self.auth_headers(self.credentials.get()))
            except KeyError as exc:
                raise InvalidRequest(f"the {self.name} secret lacks the field {exc.args[0]!r}") from exc
            status, data = self.transport(method, url, headers, body)
            if status == 401:
                if attempt == 0:
                    # The secret may have rotated since it was cached: read it again, once.
                    self.credentials.invalidate()
                    continue
                break
            if 200 <= status < 300:
                return data
            if status == 404:
                raise NotFound(f"{self.name}: not found")
            if status == 429 or status >= 500:
                raise IntegrationUnavailable(f"{self.name} answered {status}")
            raise IntegrationRejected(f"{self.name} refused the request with {status}", details={"status": status})
        raise IntegrationRejected(f"{self.name} refused the credentials twice (401)", details={"status": 401})


def json_or_raw(raw: bytes, limit: int = 500) -> Any:
    """A response body parsed as JSON; {} when empty, {"raw": its first `limit` characters} when not JSON."""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        return {"raw": raw.decode("utf-8", "replace")[:limit]}
