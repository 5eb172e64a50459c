"""A local OpenID Connect provider on 127.0.0.1 for the web login's authorization-code + PKCE flow (R4).

It wraps the PyPI package ``oidc-provider-mock`` (an authlib-based provider that signs RS256 ID tokens) and
adds what Keel needs from a corporate IdP that the mock leaves out:

- PKCE is enforced (the mock accepts a code without a verifier): ``/oauth2/authorize`` must carry an S256
  ``code_challenge``, and ``/oauth2/token`` must present the matching ``code_verifier``;
- predefined demo users whose claims carry ``groups`` and ``department``, mapped to a Principal by a
  TokenVerifier configured with ``OIDC_CLAIMS``;
- the Werkzeug debugger the mock switches on is switched off again.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from keel.local.servers import LOOPBACK, free_port, wait_for_http

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_MAX_PENDING = 10_000


@dataclass(frozen=True)
class LocalUser:
    """A demo user the provider can sign in with one click (no password: Keel never sees one)."""

    sub: str
    email: str
    groups: tuple[str, ...]
    department: str | None = None
    name: str | None = None

    def claims(self) -> dict[str, object]:
        """The claims the provider puts in the ID token."""
        claims: dict[str, object] = {"email": self.email, "groups": list(self.groups)}
        if self.department:
            claims["department"] = self.department
        if self.name:
            claims["preferred_username"] = self.name
        return claims


def s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class PkceGuard:
    """WSGI middleware that enforces S256 PKCE in front of the provider."""

    app: WsgiApp
    _challenges: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Check the authorize and token requests; remember each issued code's challenge."""
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            query = _single(parse_qs(environ.get("QUERY_STRING", "")))
            challenge, method = query.get("code_challenge", ""), query.get("code_challenge_method", "")
            if method != "S256" or not _CHALLENGE.match(challenge):
                return _error(start_response, "PKCE required: send code_challenge_method=S256 and a code_challenge")
            return self._authorize(environ, start_response, challenge)
        if path == "/oauth2/token" and environ.get("REQUEST_METHOD") == "POST":
            body = _read_body(environ)
            form = _single(parse_qs(body.decode("utf-8", "replace")))
            if form.get("grant_type") == "authorization_code":
                with self._lock:
                    challenge = self._challenges.pop(form.get("code", ""), "")
                verifier = form.get("code_verifier", "")
                if not challenge or not _VERIFIER.match(verifier) or s256(verifier) != challenge:
                    return _error(start_response, "invalid_grant: the code_verifier does not match the challenge")
        return self.app(environ, start_response)

    def _authorize(
        self, environ: dict[str, Any], start_response: Callable[..., Any], challenge: str
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        result = self.app(environ, capture)
        for name, value in captured.get("headers", []):
            if name.lower() == "location":
                code = _single(parse_qs(urlsplit(value).query)).get("code")
                if code:
                    with self._lock:
                        if len(self._challenges) >= _MAX_PENDING:
                            self._challenges.pop(next(iter(self._challenges)))
                        self._challenges[code] = challenge
        return result


def _quiet_handler() -> type:
    import werkzeug.serving

    class Quiet(werkzeug.serving.WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """Request lines carry authorization codes in their query strings: never log them."""

    return Quiet


class LocalOidcProvider:
    """The provider running on a loopback port in a background thread."""

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.issuer = f"http://{LOOPBACK}:{server.server_port}"

    @property
    def jwks_url(self) -> str:
        """Where the provider publishes its signing keys."""
        return f"{self.issuer}/jwks"

    @property
    def authorization_endpoint(self) -> str:
        """The browser's first stop."""
        return f"{self.issuer}/oauth2/authorize"

    @property
    def token_endpoint(self) -> str:
        """Where the client exchanges a code (and its PKCE verifier) for tokens."""
        return f"{self.issuer}/oauth2/token"

    @classmethod
    def start(cls, users: Iterable[LocalUser] = (), *, port: int | None = None) -> LocalOidcProvider:
        """Start on 127.0.0.1 (a free port unless given) with the demo users predefined."""
        import oidc_provider_mock
        import werkzeug.serving
        from oidc_provider_mock import _app as mock_app

        # authlib refuses plain http unless told; this provider only ever listens on loopback.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
        # The web app is a public client (no secret, as Cognito's web client): allow auth method "none",
        # which is safe here because PkceGuard binds every code to its verifier.
        methods = mock_app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS
        if "none" not in methods:
            mock_app.AuthorizationCodeGrant.TOKEN_ENDPOINT_AUTH_METHODS = [*methods, "none"]
        flask_app = oidc_provider_mock.app(
            require_nonce=False,
            user_claims=[oidc_provider_mock.User(sub=u.sub, claims=u.claims()) for u in users],
        )
        flask_app.debug = False
        inner = flask_app.wsgi_app
        # The mock wraps itself in Werkzeug's debugger; unwrap it so errors never render tracebacks.
        flask_app.wsgi_app = getattr(inner, "app", inner)
        server = werkzeug.serving.make_server(
            LOOPBACK, port or free_port(), PkceGuard(flask_app), threaded=True, request_handler=_quiet_handler()
        )
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        provider = cls(server, thread)
        wait_for_http(f"{provider.issuer}/.well-known/openid-configuration")
        return provider

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __enter__(self) -> LocalOidcProvider:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def demo_users(records: Iterable[Mapping[str, Any]]) -> Iterator[LocalUser]:
    """LocalUsers from the demo users file's records (username, email, groups, department)."""
    for record in records:
        yield LocalUser(
            sub=str(record["username"]),
            email=str(record["email"]),
            groups=tuple(str(g) for g in record.get("groups", [])),
            department=record.get("department"),
            name=str(record["username"]),
        )


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    # A repeated PKCE parameter is ambiguous: treat it as absent so the request is refused.
    return {k: v[0] for k, v in values.items() if len(v) == 1}


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    # Put the body back for the provider behind us.
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _error(start_response: Callable[..., Any], message: str) -> list[bytes]:
    body = ('{"error": "invalid_request", "error_description": "' + message + '"}').encode()
    start_response("400 Bad Request", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
