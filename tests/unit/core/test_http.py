"""The HTTP edge: error mapping by type, body parsing, bearer extraction."""

from __future__ import annotations

import json

import pytest

from keel.channels.http import MAX_BODY_BYTES, bearer_token, error_response, parse_body, status_for
from keel.conversations.models import ChatRequest
from keel.errors import (
    AuditUnavailable,
    BudgetExceeded,
    InvalidRequest,
    KeelError,
    ModelUnavailable,
    PayloadTooLarge,
    Unauthenticated,
    UnsupportedMediaType,
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


def test_an_oversized_body_is_a_413_naming_the_limit_with_the_common_error_body() -> None:
    body = json.dumps({"bot": "hr", "message": "x" * (MAX_BODY_BYTES + 1)})
    with pytest.raises(PayloadTooLarge) as caught:
        parse_body({"body": body}, ChatRequest)
    assert f"the limit is {MAX_BODY_BYTES} bytes" in caught.value.message
    response = error_response(caught.value, correlation="corr-1")
    assert response["statusCode"] == 413
    assert json.loads(response["body"])["error"]["code"] == "payload_too_large"
    assert json.loads(response["body"])["error"]["correlation_id"] == "corr-1"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/html; charset=utf-8"]
)
def test_a_body_not_sent_as_json_is_a_415_naming_the_accepted_type(content_type: str) -> None:
    event = {"body": '{"bot": "hr", "message": "hi"}', "headers": {"Content-Type": content_type}}
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_body(event, ChatRequest)
    assert "Content-Type: application/json" in caught.value.message
    assert error_response(caught.value, correlation="c")["statusCode"] == 415


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_json_bodies_are_accepted(content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    assert parse_body({"body": '{"bot": "hr", "message": "hi"}', "headers": headers}, ChatRequest).bot == "hr"


def test_every_operation_with_a_body_documents_413_and_415_with_the_error_body() -> None:
    from keel.channels.openapi import ROUTES, build_openapi

    paths = build_openapi()["paths"]
    with_body = [op for op in ROUTES if op.request is not None]
    assert with_body
    for op in with_body:
        responses = paths[op.path][op.method]["responses"]
        for status in ("413", "415"):
            assert responses[status]["content"]["application/json"]["schema"]["$ref"].endswith("ErrorBody")
