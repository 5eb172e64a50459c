"""BedrockConverseModel and LangChainConverseModel against the local endpoint: answers, streams, errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from keel.errors import ModelUnavailable, RateLimited
from keel.models.bedrock import BedrockConverseModel
from keel.models.langchain import LangChainConverseModel
from keel.models.ports import ChatMessage, ToolSpec
from tests.integration.conftest import ModelEndpoint
from tests.integration.models.helpers import PRIMARY, SECONDARY, bedrock_client

pytestmark = pytest.mark.integration

PROMPT = (
    '<source doc_id="it-vpn" title="VPN">Use the VPN client to connect from home. '
    "The VPN disconnects after 12 hours.</source><question>How do I connect from home?</question>"
)
MESSAGES = [ChatMessage("user", PROMPT)]
EXPECTED = "Use the VPN client to connect from home. [it-vpn]"
RESET = ToolSpec("reset_password", "Reset the user's password", {"type": "object", "properties": {}})


@pytest.fixture(params=["boto3", "langchain"])
def model(request: pytest.FixtureRequest, clean_model_endpoint: ModelEndpoint) -> object:
    client = bedrock_client(clean_model_endpoint.url, read_timeout=0.5)
    return BedrockConverseModel(client) if request.param == "boto3" else LangChainConverseModel(client)


def test_converse_returns_text_and_usage(model: BedrockConverseModel) -> None:
    completion = model.converse(PRIMARY, "Answer from sources.", MESSAGES, max_tokens=200)
    assert completion.text == EXPECTED
    assert completion.model_id == PRIMARY
    assert completion.input_tokens > 0 and completion.output_tokens > 0


def test_a_history_cut_to_start_at_a_reply_is_sent_from_the_first_user_message(model: BedrockConverseModel) -> None:
    # The local endpoint keeps Bedrock's rules: a conversation starts with the user and the roles alternate.
    history = [
        ChatMessage("assistant", "Your leave balance is 12 days."),
        ChatMessage("user", "Thanks."),
        ChatMessage("user", PROMPT),
    ]
    completion = model.converse(PRIMARY, "Answer from sources.", history, max_tokens=200)
    assert completion.text == EXPECTED


def test_the_local_endpoint_refuses_a_conversation_that_starts_with_the_assistant(
    clean_model_endpoint: ModelEndpoint,
) -> None:
    client = bedrock_client(clean_model_endpoint.url, read_timeout=0.5)
    messages = [{"role": "assistant", "content": [{"text": "Hello"}]}, {"role": "user", "content": [{"text": "Hi"}]}]
    with pytest.raises(ClientError, match="must start with a user message"):
        client.converse(modelId=PRIMARY, messages=messages)
    twice = [{"role": "user", "content": [{"text": "Hi"}]}, {"role": "user", "content": [{"text": "Hello?"}]}]
    with pytest.raises(ClientError, match="must alternate"):
        client.converse(modelId=PRIMARY, messages=twice)


def test_tool_calls_come_back(model: BedrockConverseModel) -> None:
    completion = model.converse(
        PRIMARY, "", [ChatMessage("user", "Please reset my password")], max_tokens=50, tools=[RESET]
    )
    assert [c.name for c in completion.tool_calls] == ["reset_password"]


def test_throttling_maps_to_rate_limited(model: BedrockConverseModel, clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("throttle")
    with pytest.raises(RateLimited) as caught:
        model.converse(PRIMARY, "", MESSAGES, max_tokens=50)
    assert caught.value.retry_after >= 1


@pytest.mark.parametrize("mode", ["error", "model_error", "stall", "down"])
def test_failures_map_to_model_unavailable(
    model: BedrockConverseModel, clean_model_endpoint: ModelEndpoint, mode: str
) -> None:
    clean_model_endpoint.fault(mode, stall_seconds=3)
    with pytest.raises(ModelUnavailable):
        model.converse(SECONDARY, "", MESSAGES, max_tokens=50)


def test_unreachable_endpoint_maps_to_model_unavailable() -> None:
    from keel.local.servers import free_port

    model = BedrockConverseModel(bedrock_client(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(ModelUnavailable, match="could not be reached"):
        model.converse(PRIMARY, "", MESSAGES, max_tokens=50)


def test_converse_stream_yields_deltas_then_usage(clean_model_endpoint: ModelEndpoint) -> None:
    model = BedrockConverseModel(bedrock_client(clean_model_endpoint.url))
    stream = model.converse_stream(PRIMARY, "Answer from sources.", MESSAGES, max_tokens=200)
    deltas = list(stream)
    assert len(deltas) > 3 and "".join(deltas) == EXPECTED
    assert stream.completion is not None and stream.completion.output_tokens > 0


def test_converse_stream_of_a_throttled_model_raises_rate_limited(clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("throttle")
    model = BedrockConverseModel(bedrock_client(clean_model_endpoint.url))
    with pytest.raises(RateLimited):
        model.converse_stream(PRIMARY, "", MESSAGES, max_tokens=50)
