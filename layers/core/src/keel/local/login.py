"""The local stand-in for Cognito managed login: the web consoles' OpenID Connect sign-in (R4).

In AWS the agent console and the ops view send people to the Cognito managed login domain
(``/oauth2/authorize``, ``/oauth2/token``, ``/logout``), which federates to the corporate IdP and returns
the user pool's own tokens. moto has no managed login, so this module serves the same endpoints on the
local API's origin and returns the same tokens: real RS256 JWTs that the user pool in moto signs (JWKS at
``/<pool>/.well-known/jwks.json``), with the groups the directory (the pool's groups, set by an
administrator) gives the user. Nothing the person types besides username and password reaches a token.

What it enforces, as the real one does:

- the authorization code flow only, with S256 PKCE; the client id and the exact redirect URI are registered;
- a code is single-use, bound to its client, redirect URI and challenge, and expires after five minutes;
- a refresh is refused once the directory has disabled the user;
- a signed-in browser keeps a login session (an HttpOnly cookie scoped to the login paths) so the second
  console signs in without a second password prompt; ``/logout`` ends it and forgets its refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from botocore.exceptions import ClientError

Response = tuple[int, dict[str, str], bytes]
PATHS = ("/oauth2/authorize", "/oauth2/token", "/login", "/logout")
CODE_TTL_SECONDS = 300
TRANSACTION_TTL_SECONDS = 600
SESSION_TTL_SECONDS = 8 * 3600
MAX_PENDING = 10_000
SESSION_COOKIE = "keel_login"
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_STATE = re.compile(r"^[A-Za-z0-9._~-]{8,256}$")
# The login page runs no script and loads nothing: its own policy is stricter than the consoles'.
_PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class AuthorizeRequest:
    """A validated authorization request, waiting for the person to sign in."""

    client_id: str
    redirect_uri: str
    state: str
    challenge: str
    scope: str


@dataclass(frozen=True)
class Grant:
    """What an issued code (or a login session) stands for."""

    username: str
    tokens: Mapping[str, Any]
    expires_at: float
    request: AuthorizeRequest | None = None


class OAuthError(Exception):
    """An OAuth 2.0 error response (RFC 6749 section 5.2)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class CognitoDirectoryLogin:
    """Password sign-in, refresh and the enabled check against the user pool (moto locally)."""

    def __init__(self, cognito: Any, pool_id: str, client_id: str) -> None:
        self._cognito = cognito
        self._pool_id = pool_id
        self._client_id = client_id

    def sign_in(self, username: str, password: str) -> Mapping[str, Any]:
        """The pool's tokens, or OAuthError('access_denied') with the reason a person can act on.

        An unknown user and a wrong password get the same answer; a disabled account is reported as the
        directory reports it.
        """
        try:
            result = self._cognito.admin_initiate_auth(
                UserPoolId=self._pool_id,
                ClientId=self._client_id,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": username, "PASSWORD": password},
            )
        except ClientError as exc:
            if "disabled" in str(exc.response.get("Error", {}).get("Message", "")).lower():
                # The directory's own answer (Cognito's "User is disabled."), given as the IdP gives it.
                raise OAuthError("access_denied", "This account is disabled. Ask your administrator.", 403) from exc
            raise OAuthError("access_denied", "Incorrect username or password.", 401) from exc
        if not self.enabled(username):
            raise OAuthError("access_denied", "This account is disabled. Ask your administrator.", 403)
        tokens: Mapping[str, Any] = result.get("AuthenticationResult") or {}
        if "AccessToken" not in tokens:
            raise OAuthError("access_denied", "This account cannot sign in here (a challenge is pending).", 401)
        return tokens

    def refresh(self, username: str, refresh_token: str) -> Mapping[str, Any]:
        """New ID and access tokens for a refresh token, unless the directory disabled the user."""
        if not self.enabled(username):
            raise OAuthError("invalid_grant", "the account is disabled; sign in again later")
        try:
            result = self._cognito.admin_initiate_auth(
                UserPoolId=self._pool_id,
                ClientId=self._client_id,
                AuthFlow="REFRESH_TOKEN_AUTH",
                AuthParameters={"REFRESH_TOKEN": refresh_token},
            )
        except ClientError as exc:
            raise OAuthError("invalid_grant", "the refresh token is no longer valid; sign in again") from exc
        tokens: Mapping[str, Any] = result.get("AuthenticationResult") or {}
        return {**tokens, "RefreshToken": refresh_token}

    def enabled(self, username: str) -> bool:
        """False for an unknown or disabled user."""
        try:
            user = self._cognito.admin_get_user(UserPoolId=self._pool_id, Username=username)
        except ClientError:
            return False
        return bool(user.get("Enabled", True))


class ManagedLogin:
    """The managed login endpoints, as one dispatch function the local API mounts on its own origin."""

    def __init__(
        self,
        directory: CognitoDirectoryLogin,
        *,
        client_id: str,
        redirect_uris: frozenset[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._directory = directory
        self._client_id = client_id
        self._redirect_uris = redirect_uris
        self._clock = clock
        self._lock = threading.Lock()
        self._transactions: dict[str, tuple[AuthorizeRequest, float]] = {}
        self._codes: dict[str, Grant] = {}
        self._sessions: dict[str, Grant] = {}
        self._refresh_owners: dict[str, str] = {}

    def dispatch(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Response:
        """One request to a login path; never raises."""
        parts = urlsplit(raw_path)
        query = _single(parse_qsl(parts.query, keep_blank_values=True))
        try:
            if parts.path == "/oauth2/authorize" and method == "GET":
                return self._authorize(query, headers)
            if parts.path == "/login" and method == "POST":
                return self._login(_single(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
            if parts.path == "/oauth2/token" and method == "POST":
                return self._token(_single(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
            if parts.path == "/logout" and method == "GET":
                return self._logout(query, headers)
        except OAuthError as exc:
            if parts.path == "/oauth2/token":
                return _json(exc.status, {"error": exc.error, "error_description": exc.description})
            return _page(exc.status, "Sign-in refused", f"<p role='alert'>{html.escape(exc.description)}</p>")
        return _json(
            405, {"error": "invalid_request", "error_description": f"{method} is not accepted on {parts.path}"}
        )

    # --- the browser's steps ---

    def _authorize(self, query: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        request = self._validated(query)
        grant = self._session(headers)
        if grant is not None and query.get("prompt") != "login" and self._directory.enabled(grant.username):
            refreshed = self._directory.refresh(grant.username, str(grant.tokens["RefreshToken"]))
            return self._redirect_with_code(request, grant.username, refreshed, set_session=False)
        transaction = secrets.token_urlsafe(24)
        with self._lock:
            self._expire()
            _bounded(self._transactions)
            self._transactions[transaction] = (request, self._clock() + TRANSACTION_TTL_SECONDS)
        return _page(200, "Sign in to Keel", _form(transaction, ""))

    def _login(self, form: Mapping[str, str]) -> Response:
        transaction = form.get("transaction", "")
        with self._lock:
            self._expire()
            pending = self._transactions.get(transaction)
        if pending is None:
            raise OAuthError(
                "invalid_request", "This sign-in page has expired. Go back to the console and sign in again."
            )
        request = pending[0]
        username, password = form.get("username", "").strip(), form.get("password", "")
        if not username or not password:
            return _page(400, "Sign in to Keel", _form(transaction, "Enter your username and your password."))
        try:
            tokens = self._directory.sign_in(username, password)
        except OAuthError as exc:
            return _page(exc.status, "Sign in to Keel", _form(transaction, exc.description))
        with self._lock:
            self._transactions.pop(transaction, None)
        return self._redirect_with_code(request, username, tokens, set_session=True)

    def _redirect_with_code(
        self, request: AuthorizeRequest, username: str, tokens: Mapping[str, Any], *, set_session: bool
    ) -> Response:
        code = secrets.token_urlsafe(32)
        now = self._clock()
        headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        with self._lock:
            self._expire()
            _bounded(self._codes)
            self._codes[code] = Grant(username, tokens, now + CODE_TTL_SECONDS, request)
            refresh = str(tokens.get("RefreshToken") or "")
            if refresh:
                self._refresh_owners[refresh] = username
            if set_session:
                session = secrets.token_urlsafe(32)
                _bounded(self._sessions)
                self._sessions[session] = Grant(username, tokens, now + SESSION_TTL_SECONDS)
                headers["Set-Cookie"] = (
                    f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax; Max-Age={SESSION_TTL_SECONDS}"
                )
        location = request.redirect_uri + "?" + urlencode({"code": code, "state": request.state})
        return 302, {**headers, "Location": location}, b""

    def _token(self, form: Mapping[str, str]) -> Response:
        if form.get("client_id") != self._client_id:
            raise OAuthError("invalid_client", "unknown client_id", 401)
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            tokens = self._exchange(form)
        elif grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            with self._lock:
                owner = self._refresh_owners.get(refresh)
            if owner is None:
                raise OAuthError("invalid_grant", "unknown or ended refresh token; sign in again")
            tokens = self._directory.refresh(owner, refresh)
        else:
            raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        body = {
            "id_token": tokens["IdToken"],
            "access_token": tokens["AccessToken"],
            "token_type": "Bearer",
            "expires_in": int(tokens.get("ExpiresIn") or 3600),
        }
        if grant_type == "authorization_code" and tokens.get("RefreshToken"):
            body["refresh_token"] = tokens["RefreshToken"]
        return _json(200, body)

    def _exchange(self, form: Mapping[str, str]) -> Mapping[str, Any]:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.request is None or grant.expires_at < self._clock():
            raise OAuthError("invalid_grant", "the authorization code is unknown, used or expired")
        if form.get("redirect_uri") != grant.request.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        verifier = form.get("code_verifier", "")
        if not _VERIFIER.match(verifier) or s256(verifier) != grant.request.challenge:
            raise OAuthError("invalid_grant", "the code_verifier does not match the code_challenge")
        return grant.tokens

    def _logout(self, query: Mapping[str, str], headers: Mapping[str, str]) -> Response:
        if query.get("client_id") != self._client_id:
            raise OAuthError("invalid_request", "Unknown client: sign-out was not done.")
        target = query.get("logout_uri", "")
        if target not in self._redirect_uris:
            raise OAuthError("invalid_request", "This sign-out address is not registered: sign-out was not done.")
        session = _cookie(headers)
        with self._lock:
            grant = self._sessions.pop(session, None) if session else None
            if grant is not None:
                self._refresh_owners.pop(str(grant.tokens.get("RefreshToken") or ""), None)
        expired = f"{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        return 302, {"Location": target, "Set-Cookie": expired, "Cache-Control": "no-store"}, b""

    # --- helpers ---

    def _validated(self, query: Mapping[str, str]) -> AuthorizeRequest:
        if query.get("client_id") != self._client_id:
            raise OAuthError("invalid_request", "Unknown client_id: this application is not registered.")
        redirect_uri = query.get("redirect_uri", "")
        if redirect_uri not in self._redirect_uris:
            raise OAuthError("invalid_request", "This redirect_uri is not registered for the application.")
        if query.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "Only response_type=code is accepted.")
        challenge = query.get("code_challenge", "")
        if query.get("code_challenge_method") != "S256" or not _CHALLENGE.match(challenge):
            raise OAuthError(
                "invalid_request", "PKCE is required: send code_challenge_method=S256 and a code_challenge."
            )
        state = query.get("state", "")
        if not _STATE.match(state):
            raise OAuthError("invalid_request", "A state of 8 to 256 URL-safe characters is required.")
        scope = query.get("scope", "openid")
        if "openid" not in scope.split():
            raise OAuthError("invalid_scope", "The scope must include openid.")
        return AuthorizeRequest(self._client_id, redirect_uri, state, challenge, scope)

    def _session(self, headers: Mapping[str, str]) -> Grant | None:
        session = _cookie(headers)
        with self._lock:
            self._expire()
            return self._sessions.get(session) if session else None

    def _expire(self) -> None:
        now = self._clock()
        for table in (self._codes, self._sessions):
            for key in [k for k, g in table.items() if g.expires_at < now]:
                del table[key]
        for key in [k for k, (_, until) in self._transactions.items() if until < now]:
            del self._transactions[key]


def _bounded(table: dict[str, Any]) -> None:
    # A flood of abandoned sign-ins must not grow memory without bound: drop the oldest.
    while len(table) >= MAX_PENDING:
        table.pop(next(iter(table)))


def _single(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Parameters that appear once; a repeated one is ambiguous and treated as absent."""
    counts: dict[str, int] = {}
    for key, _ in pairs:
        counts[key] = counts.get(key, 0) + 1
    return {k: v for k, v in pairs if counts[k] == 1}


def _cookie(headers: Mapping[str, str]) -> str:
    raw = next((v for k, v in headers.items() if k.lower() == "cookie"), "")
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # http.cookies raises CookieError on malformed headers: treat as no session
        return ""
    morsel = jar.get(SESSION_COOKIE)
    return morsel.value if morsel is not None else ""


def _json(status: int, body: Mapping[str, Any]) -> Response:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
    return status, headers, json.dumps(body).encode()


def _form(transaction: str, error: str) -> str:
    alert = f'<p class="error" role="alert" id="error">{html.escape(error)}</p>' if error else ""
    described = ' aria-describedby="error"' if error else ""
    return f"""{alert}
<form method="post" action="/login">
  <input type="hidden" name="transaction" value="{html.escape(transaction)}">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" required autofocus{described}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required{described}>
  <button type="submit">Sign in</button>
</form>
<p class="note">Local stack: <code>keel dev</code> prints the demo logins. In AWS this step is your
company's single sign-on.</p>"""


def _page(status: int, title: str, content: str) -> Response:
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }}
 main {{ max-width: 380px; margin: 10vh auto; background: #fff; padding: 24px 28px; border-radius: 8px;
   box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
 h1 {{ font-size: 20px; margin: 0 0 16px; }}
 label {{ display: block; margin-top: 12px; font-weight: 600; }}
 input {{ width: 100%; box-sizing: border-box; padding: 8px; font: inherit; border: 1px solid #6b7280;
   border-radius: 4px; }}
 button {{ margin-top: 16px; width: 100%; padding: 10px; font: inherit; background: #1d4ed8; color: #fff;
   border: 0; border-radius: 4px; cursor: pointer; }}
 .error {{ color: #991b1b; background: #fee2e2; padding: 8px; border-radius: 4px; }}
 .note {{ color: #374151; font-size: 13px; margin-top: 16px; }}
</style></head>
<body><main><h1>{html.escape(title)}</h1>{content}</main></body></html>"""
    return status, dict(_PAGE_HEADERS), page.encode()
