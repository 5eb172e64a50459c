"""The web login's authorization-code + PKCE flow against the local OIDC provider, in plain HTTP."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from keel.identity.tokens import OIDC_CLAIMS, HttpJwks, TokenVerifier
from keel.local.oidc import LocalOidcProvider, LocalUser, s256

CLIENT = "keel-web"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalOidcProvider]:
    users = [LocalUser("emma", "emma@acme.example", ("all-staff", "engineering"), "engineering", "emma")]
    with LocalOidcProvider.start(users) as running:
        yield running


def authorize(provider: LocalOidcProvider, verifier: str, *, sub: str = "emma") -> str:
    """Steps 1-2 of the flow: show the login page, pick the user, follow to the redirect; return the code."""
    state = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "openid email profile",
        "state": state,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    page = requests.get(provider.authorization_endpoint, params=params, timeout=5)
    assert page.status_code == 200 and "emma" in page.text
    answer = requests.post(
        provider.authorization_endpoint, params=params, data={"sub": sub}, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    assert query["state"] == [state]
    return query["code"][0]


def exchange(provider: LocalOidcProvider, code: str, verifier: str | None) -> requests.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": CLIENT}
    if verifier is not None:
        form["code_verifier"] = verifier
    return requests.post(provider.token_endpoint, data=form, timeout=5)


def test_code_and_pkce_flow_yields_an_id_token_that_maps_to_a_principal(provider: LocalOidcProvider) -> None:
    verifier = secrets.token_urlsafe(48)
    tokens = exchange(provider, authorize(provider, verifier), verifier)
    assert tokens.status_code == 200, tokens.text
    token_verifier = TokenVerifier(
        HttpJwks(provider.jwks_url),
        issuers=frozenset({provider.issuer}),
        audiences=frozenset({CLIENT}),
        tenant="demo",
        claims=OIDC_CLAIMS,
        require_kid=False,
    )
    principal = token_verifier.verify(tokens.json()["id_token"]).principal
    assert principal.subject == "emma"
    assert principal.groups == {"all-staff", "engineering"}
    assert principal.department == "engineering"
    assert principal.email == "emma@acme.example"
    assert not principal.external


def test_authorize_without_a_code_challenge_is_refused(provider: LocalOidcProvider) -> None:
    params = {"response_type": "code", "client_id": CLIENT, "redirect_uri": REDIRECT, "scope": "openid"}
    answer = requests.get(provider.authorization_endpoint, params=params, timeout=5)
    assert answer.status_code == 400 and "PKCE" in answer.text


def test_plain_challenge_method_is_refused(provider: LocalOidcProvider) -> None:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": REDIRECT,
        "scope": "openid",
        "code_challenge": "x" * 43,
        "code_challenge_method": "plain",
    }
    assert requests.get(provider.authorization_endpoint, params=params, timeout=5).status_code == 400


@pytest.mark.parametrize("presented", [None, "wrong-" + "v" * 50])
def test_code_without_the_right_verifier_is_refused(provider: LocalOidcProvider, presented: str | None) -> None:
    verifier = secrets.token_urlsafe(48)
    answer = exchange(provider, authorize(provider, verifier), presented)
    assert answer.status_code == 400 and "id_token" not in answer.text


def test_a_code_is_single_use(provider: LocalOidcProvider) -> None:
    verifier = secrets.token_urlsafe(48)
    code = authorize(provider, verifier)
    assert exchange(provider, code, verifier).status_code == 200
    assert exchange(provider, code, verifier).status_code == 400


def test_id_token_for_another_client_is_refused(provider: LocalOidcProvider) -> None:
    from keel.errors import Unauthenticated

    verifier = secrets.token_urlsafe(48)
    token = exchange(provider, authorize(provider, verifier), verifier).json()["id_token"]
    other = TokenVerifier(
        HttpJwks(provider.jwks_url),
        issuers=frozenset({provider.issuer}),
        audiences=frozenset({"another-app"}),
        tenant="demo",
        claims=OIDC_CLAIMS,
        require_kid=False,
    )
    with pytest.raises(Unauthenticated, match="audience"):
        other.verify(token)
