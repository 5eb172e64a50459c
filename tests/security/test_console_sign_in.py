"""Attacker stories against the consoles' sign-in (issue 20), played over HTTP against the local stack's login
(the stand-in for Cognito managed login on the API's origin) and Keel's API.

The holes these close: a console that asked people to paste a bearer token (which then travels in chats and
screenshots) and an ops view that took one from the address bar. Sign-in is now code + PKCE; these stories
check that the pieces an attacker can reach (a code, a link, the login form, a self-service account) buy
nothing.
"""

from __future__ import annotations

import base64
import json
import secrets
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from keel.bootstrap import AwsClients
from keel.local import provision
from keel.local.login import s256

pytestmark = pytest.mark.integration
PASSWORD = "Attacker-Chosen-Pass-2026!"


def _authorize(stack: Any, verifier: str, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": stack.pool.client_id,
        "redirect_uri": f"{stack.api.url}/ops/",
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(12),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return params


def _login(stack: Any, username: str, password: str, verifier: str, **extra: str) -> requests.Response:
    http = requests.Session()
    page = http.get(f"{stack.api.url}/oauth2/authorize", params=_authorize(stack, verifier), timeout=10)
    assert page.status_code == 200, page.text
    marker = 'name="transaction" value="'
    start = page.text.index(marker) + len(marker)
    form = {"transaction": page.text[start : page.text.index('"', start)], "username": username, "password": password}
    return http.post(f"{stack.api.url}/login", data={**form, **extra}, allow_redirects=False, timeout=10)


def _code(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]


def _exchange(stack: Any, code: str, verifier: str | None) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "client_id": stack.pool.client_id}
    form["redirect_uri"] = f"{stack.api.url}/ops/"
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(f"{stack.api.url}/oauth2/token", data=form, timeout=10)


def _ops(stack: Any, token: str) -> int:
    request = urllib.request.Request(
        f"{stack.api.url}/v1/ops/kpis?since=1d", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_visitor_who_signed_themselves_up_cannot_sign_in_to_the_consoles(local_stack: Any) -> None:
    # Mallory signs up on the public customer pool (as anyone can), asking for an operator's groups
    cognito = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url).cognito
    username = f"mallory-{uuid.uuid4().hex[:8]}"
    cognito.sign_up(
        ClientId=local_stack.environment["KEEL_CUSTOMER_APP_CLIENT_ID"],
        Username=username,
        Password=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": f"{username}@example.com"}],
    )
    # The consoles' login knows only the workforce directory
    answer = _login(local_stack, username, PASSWORD, secrets.token_urlsafe(48))
    assert answer.status_code == 401 and "Location" not in answer.headers
    assert "Incorrect username or password" in answer.text  # the same answer as for any unknown name


def test_an_intercepted_authorization_code_is_useless_without_the_verifier(local_stack: Any) -> None:
    user = next(u for u in provision.demo_users() if u["username"] == "ivan.it")
    verifier = secrets.token_urlsafe(48)
    code = _code(_login(local_stack, user["username"], user["password"], verifier))
    # The attacker read the code (a proxy log, a browser extension, a referrer) but never saw the verifier
    for guess in (None, secrets.token_urlsafe(48), s256(verifier)):
        stolen = _exchange(local_stack, code, guess)
        assert stolen.status_code == 400 and "access_token" not in stolen.text
    # And the code is burnt: the victim's own page must start again, the attacker cannot retry
    assert _exchange(local_stack, code, verifier).json()["error"] == "invalid_grant"


def test_a_crafted_sign_in_link_cannot_send_the_code_to_the_attacker(local_stack: Any) -> None:
    for target in ("https://attacker.example/ops/", f"{local_stack.api.url}/ops/../evil", f"{local_stack.api.url}/"):
        params = _authorize(local_stack, secrets.token_urlsafe(48), redirect_uri=target)
        answer = requests.get(
            f"{local_stack.api.url}/oauth2/authorize", params=params, allow_redirects=False, timeout=10
        )
        assert answer.status_code == 400 and "Location" not in answer.headers
        assert 'name="password"' not in answer.text  # no login form on the attacker's behalf
    out = requests.get(
        f"{local_stack.api.url}/logout",
        params={"client_id": local_stack.pool.client_id, "logout_uri": "https://attacker.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert out.status_code == 400 and "Location" not in out.headers  # sign-out is no open redirect


def test_extra_fields_on_the_login_form_never_reach_the_token(local_stack: Any) -> None:
    user = next(u for u in provision.demo_users() if u["username"] == "emma.engineer")
    verifier = secrets.token_urlsafe(48)
    wished = {"groups": "ops,it-admins", "cognito:groups": "ops", "custom:groups": "ops", "scope": "admin"}
    answer = _login(local_stack, user["username"], user["password"], verifier, **wished)
    tokens = _exchange(local_stack, _code(answer), verifier).json()
    claims = json.loads(_b64(tokens["access_token"].split(".")[1]))
    assert set(claims.get("cognito:groups", [])) == set(user["groups"])
    assert _ops(local_stack, tokens["access_token"]) == 403


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
