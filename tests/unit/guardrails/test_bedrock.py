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


def _filters(*filters: dict[str, str]) -> dict[str, Any]:
    return {"action": "GUARDRAIL_INTERVENED", "assessments": [{"contentPolicy": {"filters": list(filters)}}]}


def test_a_blocked_content_filter_is_full_toxicity() -> None:
    client = FakeRuntime(_filters({"type": "HATE", "confidence": "HIGH", "action": "BLOCKED"}))
    assert BedrockGuardrail(client, "gr-1").toxicity("answer") == 1.0
    assert client.calls[0]["source"] == "OUTPUT"


def test_a_filter_below_its_strength_scores_its_confidence() -> None:
    client = FakeRuntime(
        {"action": "NONE", "assessments": [{"contentPolicy": {"filters": [{"type": "INSULTS", "confidence": "LOW"}]}}]}
    )
    assert BedrockGuardrail(client, "gr-1").toxicity("answer") == 0.3


def test_sensitive_information_or_prompt_attack_interventions_are_not_toxicity() -> None:
    pii = {
        "action": "GUARDRAIL_INTERVENED",
        "assessments": [{"sensitiveInformationPolicy": {"piiEntities": [{"type": "EMAIL", "action": "ANONYMIZED"}]}}],
    }
    assert BedrockGuardrail(FakeRuntime(pii), "gr-1").toxicity("write to it@acme.example") == 0.0
    attack = _filters({"type": "PROMPT_ATTACK", "confidence": "HIGH", "action": "BLOCKED"})
    assert BedrockGuardrail(FakeRuntime(attack), "gr-1").toxicity("answer") == 0.0


def test_toxicity_sdk_error_becomes_service_unavailable() -> None:
    with pytest.raises(ServiceUnavailable):
        BedrockGuardrail(FakeRuntime(fail=True), "gr-1").toxicity("answer")
