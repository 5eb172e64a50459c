"""The ApplyGuardrail adapter, driven by a small fake bedrock-runtime client."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from keel.errors import ServiceUnavailable
from keel.guardrails.bedrock import BedrockGuardrail


class FakeRuntime:
    """Answers apply_guardrail with a canned response or raises a ClientError."""

    def __init__(self, response: dict[str, Any] | None = None, fail: bool = False) -> None:
        self.response = response or {"action": "NONE"}
        self.fail = fail
        self.calls: list[dict[str, Any]] = []

    def apply_guardrail(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        if self.fail:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "ApplyGuardrail")
        return self.response


def test_intervention_blocks_with_policy_categories() -> None:
    client = FakeRuntime({"action": "GUARDRAIL_INTERVENED", "assessments": [{"contentPolicy": {}}]})
    verdict = BedrockGuardrail(client, "gr-1", "1").screen("bad text")
    assert verdict.decision == "block"
    assert verdict.categories == ("bedrock_contentPolicy",)
    assert client.calls[0]["guardrailIdentifier"] == "gr-1"
    assert client.calls[0]["content"] == [{"text": {"text": "bad text"}}]


def test_no_intervention_allows() -> None:
    assert BedrockGuardrail(FakeRuntime(), "gr-1").screen("hello").decision == "allow"


def test_sdk_error_becomes_service_unavailable() -> None:
    with pytest.raises(ServiceUnavailable):
        BedrockGuardrail(FakeRuntime(fail=True), "gr-1").screen("hello")
