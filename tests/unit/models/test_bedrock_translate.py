"""Translation of botocore errors into keel errors, and Converse message shaping."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from keel.errors import InvalidRequest, ModelUnavailable, RateLimited
from keel.models.bedrock import to_converse_messages, translate
from keel.models.ports import ChatMessage


def _client_error(code: str, status: int, headers: dict[str, str] | None = None) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "m"},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
        },
        "Converse",
    )


def test_throttling_becomes_rate_limited_with_retry_after() -> None:
    error = translate(_client_error("ThrottlingException", 429, {"retry-after": "7"}), "m1")
    assert isinstance(error, RateLimited) and error.retry_after == 7


@pytest.mark.parametrize(
    "error",
    [
        _client_error("InternalServerException", 500),
        _client_error("ModelErrorException", 424),
        _client_error("ServiceUnavailableException", 503),
        _client_error("ValidationException", 400),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1"),
    ],
)
def test_other_failures_become_model_unavailable(error: Exception) -> None:
    assert isinstance(translate(error, "m1"), ModelUnavailable)


def test_messages_merge_same_role_and_drop_a_leading_assistant_turn() -> None:
    converted = to_converse_messages(
        [ChatMessage("assistant", "hi"), ChatMessage("user", "a"), ChatMessage("user", "b")]
    )
    assert converted == [{"role": "user", "content": [{"text": "a"}, {"text": "b"}]}]
    with pytest.raises(InvalidRequest):
        to_converse_messages([])
