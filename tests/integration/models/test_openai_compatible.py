"""The optional OpenAI-compatible provider: its adapter against a loopback server speaking that protocol,
and a whole turn on the local stack through it, with PII masked before the call (asserted on the server).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from keel.errors import ConfigurationError, ModelUnavailable, RateLimited
from keel.models.openai_compatible import OpenAICompatibleChatModel
from keel.models.ports import ChatMessage, ToolSpec
from keel.settings import load_settings
from tests.fakes.settings import VALID_ENVIRONMENT
from tests.integration.models.openai_server import OpenAICompatibleServer

SOURCE = (
    '<source doc_id="hr-annual-leave" title="Annual leave">\nEmployees get 25 days. Unused days carry over.\n</source>'
)


@pytest.fixture
def server() -> Iterator[tuple[OpenAICompatibleServer, str]]:
    served = OpenAICompatibleServer()
    url = served.start()
    yield served, url
    served.stop()


def test_a_completion_round_trips_with_usage_and_the_configured_model_name(
    server: tuple[OpenAICompatibleServer, str],
) -> None:
    served, url = server
    model = OpenAICompatibleChatModel(url, "llama3.1:8b", api_key="local-key")
    done = model.converse("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "Answer from the sources.",
                          [ChatMessage("user", f"{SOURCE}\n<question>leave?</question>")], max_tokens=64)  # fmt: skip
    assert done.text == "Employees get 25 days. [hr-annual-leave]"
    assert done.model_id == "eu.anthropic.claude-haiku-4-5-20251001-v1:0" and done.input_tokens > 0
    [sent] = served.requests
    assert sent["model"] == "llama3.1:8b" and sent["max_tokens"] == 64 and sent["stream"] is False
    assert sent["messages"][0] == {"role": "system", "content": "Answer from the sources."}


def test_tool_calls_come_back_as_tool_calls(server: tuple[OpenAICompatibleServer, str]) -> None:
    served, url = server
    served.tool_call = {"name": "leave_balance", "input": {}}
    tool = ToolSpec("leave_balance", "Show my own remaining leave balance")
    done = OpenAICompatibleChatModel(url, "m").converse("x", "", [ChatMessage("user", "my balance?")], max_tokens=32,
                                                        tools=[tool])  # fmt: skip
    assert [(c.name, c.input) for c in done.tool_calls] == [("leave_balance", {})]
    assert done.stop_reason == "tool_use"
    assert served.requests[0]["tools"][0]["function"]["name"] == "leave_balance"


def test_throttling_and_failures_become_keel_errors(server: tuple[OpenAICompatibleServer, str]) -> None:
    served, url = server
    model = OpenAICompatibleChatModel(url, "m", timeout=2)
    served.status = 429
    with pytest.raises(RateLimited) as throttled:
        model.converse("x", "", [ChatMessage("user", "hi")], max_tokens=8)
    assert throttled.value.retry_after == 3
    served.status = 500
    with pytest.raises(ModelUnavailable, match="answered HTTP 500"):
        model.converse("x", "", [ChatMessage("user", "hi")], max_tokens=8)
    with pytest.raises(ModelUnavailable, match="is not answering"):
        OpenAICompatibleChatModel("http://127.0.0.1:9/v1", "m", timeout=2).converse(
            "x", "", [ChatMessage("user", "hi")], max_tokens=8
        )


def test_the_provider_is_accepted_only_locally_and_only_complete() -> None:
    base = {**VALID_ENVIRONMENT, "KEEL_MODEL_PROVIDER": "openai-compatible"}
    with pytest.raises(ConfigurationError, match="needs KEEL_OPENAI_BASE_URL"):
        load_settings({**base, "KEEL_ENVIRONMENT": "local"})
    full = {**base, "KEEL_OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "KEEL_OPENAI_MODEL": "llama3.1:8b"}
    with pytest.raises(ConfigurationError, match="accepted only in local"):
        load_settings({**full, "KEEL_ENVIRONMENT": "dev", "KEEL_BEDROCK_GUARDRAIL_ID": "g"})
    assert load_settings({**full, "KEEL_ENVIRONMENT": "local"}).model_provider == "openai-compatible"


def test_a_turn_on_the_local_stack_answers_through_it_with_pii_masked(
    local_stack: Any, server: tuple[OpenAICompatibleServer, str]
) -> None:
    from keel.bootstrap import AwsClients, turn_dependencies
    from keel.conversations.models import ChatRequest
    from keel.launch.runners import demo_principals
    from keel.turn import ChatService
    from tests.conftest import REPO_ROOT

    served, url = server
    environment = {
        **local_stack.environment,
        "KEEL_MODEL_PROVIDER": "openai-compatible",
        "KEEL_OPENAI_BASE_URL": url,
        "KEEL_OPENAI_MODEL": "llama3.1:8b",
    }
    settings = load_settings(environment)
    deps = turn_dependencies(settings, AwsClients.from_settings(settings))
    deps.telemetry = None
    emma = demo_principals(REPO_ROOT / "layers/core/src/keel/local/demo/users.json")["emma.engineer"]
    message = "I'm on +44 20 7946 0958 and emma.private@gmail.com. How many days of annual leave do I get?"
    result = ChatService(deps).reply_as(emma, ChatRequest(bot="hr", message=message), channel="api")

    assert result.reply.outcome == "answered" and result.reply.citations, result.reply
    assert result.completion is not None and result.completion.input_tokens > 0
    sent = json.dumps(served.requests)
    assert served.requests and all(r["model"] == "llama3.1:8b" for r in served.requests)
    # What reached the developer's model server carries placeholders, never the values the user typed.
    assert "emma.private@gmail.com" not in sent and "7946 0958" not in sent
    assert "<EMAIL_" in sent and "<PHONE" in sent
