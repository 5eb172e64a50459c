"""The local managed login (the consoles' OIDC code + PKCE sign-in) over real HTTP, against Cognito in moto.

Every refusal is a clear OAuth error or page that says what was wrong; none issues a token.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from keel.bootstrap import AwsClients
from keel.identity.tokens import HttpJwks, TokenVerifier
from keel.local import provision
from keel.local.api import LocalApi
from keel.local.login import PATHS, CognitoDirectoryLogin, ManagedLogin, s256

pytestmark = pytest.mark.integration
PAGE = "http://127.0.0.1:9/agent/"


@pytest.fixture(scope="module")
def setup(moto_stack: Any) -> Iterator[dict[str, Any]]:
    clients = AwsClients(region="us-east-1", endpoint_url=moto_stack.url)
    pool = provision.provision_user_pool(clients.cognito)
    api = LocalApi([], Path("."), None, lambda: {"status": "up"})
    login = ManagedLogin(
        CognitoDirectoryLogin(clients.cognito, pool.pool_id, pool.client_id),
        client_id=pool.client_id,
        redirect_uris=frozenset({PAGE}),
    )
    api.mount(PATHS, login.dispatch)
    api.start()
    yield {"clients": clients, "pool": pool, "url": api.url, "moto": moto_stack.url}
    api.stop()


def new_user(setup: dict[str, Any], groups: list[str]) -> tuple[str, str]:
    username = f"login-{uuid.uuid4().hex[:8]}"
    return username, provision.ensure_user(setup["clients"].cognito, setup["pool"], username, groups=groups)


def authorize_params(setup: dict[str, Any], verifier: str, **overrides: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": setup["pool"].client_id,
        "redirect_uri": PAGE,
        "scope": "openid email profile",
        "state": secrets.token_urlsafe(12),
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return params


def transaction_of(page: str) -> str:
    marker = 'name="transaction" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def sign_in(
    setup: dict[str, Any], username: str, password: str, verifier: str, session: requests.Session | None = None
) -> tuple[requests.Response, dict[str, str]]:
    http = session or requests.Session()
    params = authorize_params(setup, verifier)
    page = http.get(f"{setup['url']}/oauth2/authorize", params=params, timeout=5)
    assert page.status_code == 200 and "Password" in page.text
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]  # the login page runs no script
    form = {"transaction": transaction_of(page.text), "username": username, "password": password}
    answer = http.post(f"{setup['url']}/login", data=form, allow_redirects=False, timeout=5)
    return answer, params


def code_from(answer: requests.Response, params: dict[str, str]) -> str:
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == PAGE
    assert query["state"] == [params["state"]]
    return query["code"][0]


def exchange(setup: dict[str, Any], code: str, verifier: str, **overrides: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": PAGE,
        "client_id": setup["pool"].client_id,
        "code_verifier": verifier,
    }
    form.update(overrides)
    return requests.post(f"{setup['url']}/oauth2/token", data=form, timeout=5)


def verifier_for(setup: dict[str, Any]) -> TokenVerifier:
    pool = setup["pool"]
    return TokenVerifier(
        HttpJwks(f"{setup['moto']}/{pool.pool_id}/.well-known/jwks.json"),
        issuers=frozenset({f"https://cognito-idp.us-east-1.amazonaws.com/{pool.pool_id}"}),
        audiences=frozenset({pool.client_id}),
        tenant="demo",
    )


def test_code_and_pkce_yield_the_pools_own_tokens_with_the_directorys_groups(setup: dict[str, Any]) -> None:
    username, password = new_user(setup, ["all-staff", "support-agents"])
    verifier = secrets.token_urlsafe(48)
    answer, params = sign_in(setup, username, password, verifier)
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    tokens = exchange(setup, code_from(answer, params), verifier)
    assert tokens.status_code == 200 and tokens.headers["Cache-Control"] == "no-store"
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0 and body["refresh_token"]
    principal = verifier_for(setup).verify(body["access_token"]).principal
    assert principal.username == username and principal.groups == {"all-staff", "support-agents"}

    # A refresh gives new tokens that verify the same way
    refreshed = requests.post(
        f"{setup['url']}/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": setup["pool"].client_id,
        },
        timeout=5,
    )
    assert refreshed.status_code == 200, refreshed.text
    assert verifier_for(setup).verify(refreshed.json()["access_token"]).principal.username == username
    assert "refresh_token" not in refreshed.json()


def test_the_login_session_signs_the_second_console_in_without_a_password_until_logout(setup: dict[str, Any]) -> None:
    username, password = new_user(setup, ["all-staff"])
    http = requests.Session()
    verifier = secrets.token_urlsafe(48)
    answer, params = sign_in(setup, username, password, verifier, http)
    code_from(answer, params)
    # Second page: straight back with a code
    second = secrets.token_urlsafe(48)
    silent_params = authorize_params(setup, second)
    silent = http.get(f"{setup['url']}/oauth2/authorize", params=silent_params, allow_redirects=False, timeout=5)
    assert exchange(setup, code_from(silent, silent_params), second).status_code == 200
    # prompt=login asks again
    forced = http.get(
        f"{setup['url']}/oauth2/authorize", params=authorize_params(setup, second, prompt="login"), timeout=5
    )
    assert forced.status_code == 200 and "Password" in forced.text
    # Logout ends the session and returns to the registered page
    out = http.get(
        f"{setup['url']}/logout",
        params={"client_id": setup["pool"].client_id, "logout_uri": PAGE},
        allow_redirects=False,
        timeout=5,
    )
    assert out.status_code == 302 and out.headers["Location"] == PAGE
    again = http.get(f"{setup['url']}/oauth2/authorize", params=authorize_params(setup, second), timeout=5)
    assert again.status_code == 200 and "Password" in again.text


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"client_id": "someone-else"}, "Unknown client_id"),
        ({"redirect_uri": "http://127.0.0.1:9/evil/"}, "redirect_uri is not registered"),
        ({"response_type": "token"}, "Only response_type=code"),
        ({"code_challenge_method": "plain"}, "PKCE is required"),
        ({"code_challenge": "short"}, "PKCE is required"),
        ({"state": ""}, "state of 8 to 256"),
        ({"scope": "email"}, "must include openid"),
    ],
)
def test_a_bad_authorization_request_is_refused_with_what_was_wrong(
    setup: dict[str, Any], override: dict[str, str], expected: str
) -> None:
    params = authorize_params(setup, secrets.token_urlsafe(48), **override)
    answer = requests.get(f"{setup['url']}/oauth2/authorize", params=params, allow_redirects=False, timeout=5)
    assert answer.status_code == 400 and expected in answer.text
    assert "Location" not in answer.headers and "Traceback" not in answer.text


def test_a_repeated_parameter_is_ambiguous_and_refused(setup: dict[str, Any]) -> None:
    params = authorize_params(setup, secrets.token_urlsafe(48))
    query = "&".join(f"{k}={requests.utils.quote(v)}" for k, v in params.items()) + "&redirect_uri=http://x/"
    answer = requests.get(f"{setup['url']}/oauth2/authorize?{query}", timeout=5)
    assert answer.status_code == 400 and "redirect_uri" in answer.text


def test_wrong_password_and_disabled_account_are_refused_on_the_form(setup: dict[str, Any]) -> None:
    username, password = new_user(setup, ["all-staff"])
    answer, _ = sign_in(setup, username, "Wrong-Password-123!", secrets.token_urlsafe(48))
    assert answer.status_code == 401 and "Incorrect username or password" in answer.text
    assert 'name="transaction"' in answer.text  # the person can try again on the same page
    empty, _ = sign_in(setup, username, "", secrets.token_urlsafe(48))
    assert empty.status_code == 400 and "Enter your username and your password" in empty.text
    setup["clients"].cognito.admin_disable_user(UserPoolId=setup["pool"].pool_id, Username=username)
    disabled, _ = sign_in(setup, username, password, secrets.token_urlsafe(48))
    assert disabled.status_code == 403 and "disabled" in disabled.text

    # An unknown name gets the same answer as a wrong password: the form does not confirm who exists
    unknown, _ = sign_in(setup, "nobody-" + username, "Wrong-Password-123!", secrets.token_urlsafe(48))
    assert unknown.status_code == 401 and "Incorrect username or password" in unknown.text


def test_an_unknown_login_transaction_is_refused(setup: dict[str, Any]) -> None:
    form = {"transaction": "forged", "username": "x", "password": "y"}
    answer = requests.post(f"{setup['url']}/login", data=form, allow_redirects=False, timeout=5)
    assert answer.status_code == 400 and "expired" in answer.text


def test_code_exchange_refusals(setup: dict[str, Any]) -> None:
    username, password = new_user(setup, ["all-staff"])
    verifier = secrets.token_urlsafe(48)
    answer, params = sign_in(setup, username, password, verifier)
    code = code_from(answer, params)
    wrong_verifier = exchange(setup, code, secrets.token_urlsafe(48))
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    # The failed attempt used the code up: a code is single-use whatever happens
    assert exchange(setup, code, verifier).json()["error"] == "invalid_grant"

    answer, params = sign_in(setup, username, password, verifier)
    moved = exchange(setup, code_from(answer, params), verifier, redirect_uri="http://127.0.0.1:9/ops/")
    assert moved.status_code == 400 and "redirect_uri" in moved.json()["error_description"]

    answer, params = sign_in(setup, username, password, verifier)
    code = code_from(answer, params)
    assert exchange(setup, code, verifier, client_id="other").status_code == 401
    assert exchange(setup, code, verifier, grant_type="password").json()["error"] == "unsupported_grant_type"
    assert exchange(setup, code, verifier).status_code == 200


def test_refresh_refusals_unknown_token_and_disabled_user(setup: dict[str, Any]) -> None:
    client_id = setup["pool"].client_id
    unknown = requests.post(
        f"{setup['url']}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": "made-up", "client_id": client_id},
        timeout=5,
    )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    username, password = new_user(setup, ["all-staff"])
    verifier = secrets.token_urlsafe(48)
    answer, params = sign_in(setup, username, password, verifier)
    refresh = exchange(setup, code_from(answer, params), verifier).json()["refresh_token"]
    setup["clients"].cognito.admin_disable_user(UserPoolId=setup["pool"].pool_id, Username=username)
    refused = requests.post(
        f"{setup['url']}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": client_id},
        timeout=5,
    )
    assert refused.status_code == 400 and "disabled" in refused.json()["error_description"]


def test_logout_to_an_unregistered_address_is_refused(setup: dict[str, Any]) -> None:
    answer = requests.get(
        f"{setup['url']}/logout",
        params={"client_id": setup["pool"].client_id, "logout_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 400 and "not registered" in answer.text and "Location" not in answer.headers


def test_other_methods_are_refused(setup: dict[str, Any]) -> None:
    answer = requests.delete(f"{setup['url']}/oauth2/token", timeout=5)
    assert answer.status_code == 405 and "DELETE is not accepted" in answer.json()["error_description"]
