"""The REST API's REQUEST authorizer: policies from verified, unrevoked tokens, and its Lambda handler."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.errors import InvalidRequest, ServiceUnavailable, Unauthenticated
from keel.identity.authenticator import TokenAuthenticator
from keel.identity.authorizer import allow_policy, authorize, bearer_from_event, deny_policy
from keel.identity.principal import Principal
from keel.identity.revocation import InMemoryRevocationStore, RevocationCheck, RevocationRecord
from keel.identity.tokens import TokenVerifier
from tests.unit.identity.tokenfactory import NOW, KeyPair, claims

REPO = Path(__file__).resolve().parents[3]
METHOD = "arn:aws:execute-api:eu-west-1:111111111111:abc123/dev/POST/v1/chat"


def event(authorization: str | None = None, **extra: Any) -> dict[str, Any]:
    headers = {} if authorization is None else {"Authorization": authorization}
    return {"type": "REQUEST", "methodArn": METHOD, "headers": headers, **extra}


@pytest.fixture
def store() -> InMemoryRevocationStore:
    return InMemoryRevocationStore()


@pytest.fixture
def authenticator(verifier: TokenVerifier, store: InMemoryRevocationStore) -> TokenAuthenticator:
    return TokenAuthenticator(verifier, RevocationCheck(store))


def load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("authorizer_handler", REPO / "functions/authorizer/handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_valid_token_is_allowed_on_exactly_the_called_method_with_who_it_is(
    authenticator: TokenAuthenticator, pair: KeyPair
) -> None:
    answer = authorize(event(f"Bearer {pair.sign(claims())}"), authenticator.authenticate)
    assert answer["principalId"] == "sub-emma"
    assert answer["policyDocument"]["Statement"] == [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": METHOD}
    ]
    assert answer["context"] == {
        "subject": "sub-emma",
        "username": "emma",
        "groups": "all-staff,engineering",
        "tenant": "demo",
        "external": False,
    }


def test_a_token_revoked_after_it_was_issued_is_denied_on_the_next_request(
    authenticator: TokenAuthenticator, store: InMemoryRevocationStore, pair: KeyPair
) -> None:
    # Given an allowed token, When the subject is signed out, Then the very next call is denied.
    token = pair.sign(claims())
    assert authorize(event(f"Bearer {token}"), authenticator.authenticate)["policyDocument"]["Statement"][0][
        "Effect"
    ] == ("Allow")
    store.put(RevocationRecord("sub-emma", not_before=NOW - 10, reason="signed out"))
    answer = authorize(event(f"Bearer {token}"), authenticator.authenticate)
    assert answer["principalId"] == "anonymous"
    assert answer["policyDocument"]["Statement"][0] == {
        "Action": "execute-api:Invoke",
        "Effect": "Deny",
        "Resource": METHOD,
    }
    assert answer["context"] == {"reason": "revoked"}


@pytest.mark.parametrize(
    "header",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c", "x" * 9000],
)
def test_missing_malformed_or_foreign_tokens_are_denied(authenticator: TokenAuthenticator, header: str | None) -> None:
    answer = authorize(event(header), authenticator.authenticate)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "subject" not in answer["context"]


def test_a_token_from_an_untrusted_key_is_denied(authenticator: TokenAuthenticator, stranger: KeyPair) -> None:
    answer = authorize(event(f"Bearer {stranger.sign(claims())}"), authenticator.authenticate)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"


def test_the_header_name_and_scheme_are_case_insensitive(authenticator: TokenAuthenticator, pair: KeyPair) -> None:
    answered = authorize(
        {"methodArn": METHOD, "headers": {"authorization": f"bearer  {pair.sign(claims())}"}},
        authenticator.authenticate,
    )
    assert answered["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_an_unreadable_revocation_list_fails_the_request_instead_of_allowing_it() -> None:
    def down(token: str) -> Principal:
        raise ServiceUnavailable("the revocation list cannot be read; try again shortly")

    with pytest.raises(ServiceUnavailable):
        authorize(event("Bearer a.b.c"), down)


@pytest.mark.parametrize("bad", [{}, {"methodArn": "*"}, {"methodArn": "arn:aws:s3:::bucket"}])
def test_an_event_without_a_method_arn_is_refused_clearly(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequest, match="methodArn"):
        authorize({"headers": {"Authorization": "Bearer a.b.c"}, **bad}, lambda token: pytest.fail("not called"))


def test_headers_that_are_not_an_object_are_refused_clearly() -> None:
    with pytest.raises(InvalidRequest, match="headers"):
        bearer_from_event({"headers": ["Authorization"]})


@given(st.text(max_size=200))
def test_no_header_value_that_fails_to_authenticate_is_ever_allowed(value: str) -> None:
    def refuse_all(token: str) -> Principal:
        raise Unauthenticated("refused", details={"reason": "bad_signature"})

    answer = authorize(event(value), refuse_all)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert answer["policyDocument"]["Statement"][0]["Resource"] == METHOD


def test_policies_carry_only_string_number_or_boolean_context() -> None:
    principal = Principal("s", "u", frozenset({"b", "a"}), "t", external=True)
    for answer in (allow_policy(principal, METHOD), deny_policy(METHOD, "expired")):
        assert all(isinstance(v, str | int | float | bool) for v in answer["context"].values())
    assert allow_policy(principal, METHOD)["context"]["groups"] == "a,b"


def test_the_handler_wires_the_authenticator_once_and_answers_a_policy(
    authenticator: TokenAuthenticator, pair: KeyPair, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = load_handler()
    monkeypatch.setattr(handler, "_authenticate", lambda: authenticator.authenticate)
    answer = handler.lambda_handler(event(f"Bearer {pair.sign(claims())}"), None)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert handler.lambda_handler(event(None), None)["policyDocument"]["Statement"][0]["Effect"] == "Deny"
