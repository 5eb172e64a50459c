"""The HTTP edge: error mapping by type, body parsing, bearer extraction."""

from __future__ import annotations

import json

import pytest

from keel.channels.http import bearer_token, error_response, parse_body, status_for
from keel.conversations.models import ChatRequest
from keel.errors import (
    AuditUnavailable,
    BudgetExceeded,
    InvalidRequest,
    KeelError,
    ModelUnavailable,
    Unauthenticated,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (InvalidRequest("x"), 400),
        (Unauthenticated("x"), 401),
        (BudgetExceeded("x", retry_after=60), 429),
        (ModelUnavailable("x"), 503),
        (AuditUnavailable("x"), 503),
        (KeelError("x"), 500),
    ],
)
def test_status_follows_the_error_type(error: KeelError, status: int) -> None:
    assert status_for(error) == status


def test_unknown_error_is_a_500_without_internals() -> None:
    response = error_response(RuntimeError("secret internal detail"), correlation="c-1")
    body = json.loads(response["body"])
    assert response["statusCode"] == 500
    assert "secret" not in response["body"]
    assert body["error"]["correlation_id"] == "c-1"


def test_rate_limit_carries_retry_after() -> None:
    response = error_response(BudgetExceeded("over budget", retry_after=42), correlation="c")
    assert response["statusCode"] == 429 and response["headers"]["Retry-After"] == "42"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (None, "empty"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"bot": "hr"}', "message is required"),
        ('{"bot": "hr", "message": "hi", "extra": 1}', "extra is not an accepted field"),
        ('{"bot": "HR!", "message": "hi"}', "bot"),
        ('{"bot": "hr", "message": ""}', "message"),
    ],
)
def test_malformed_bodies_say_what_is_wrong(body: str | None, fragment: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_body({"body": body}, ChatRequest)
    assert fragment in caught.value.message


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer ", "token-only"])
def test_missing_or_wrong_authorization_is_unauthenticated(header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    with pytest.raises(Unauthenticated):
        bearer_token({"headers": headers})


def test_bearer_token_is_extracted_case_insensitively() -> None:
    assert bearer_token({"headers": {"authorization": "bearer abc.def.ghi"}}) == "abc.def.ghi"
