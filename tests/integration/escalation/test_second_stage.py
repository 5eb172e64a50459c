"""The Bedrock second stage against the local model endpoint through a real boto3 client: a stalled model is cut
off at the deadline, and an answer that is not a verdict falls back to the local decision with its cost counted."""

from __future__ import annotations

import time

import pytest

from keel.escalation import Turn, decide
from keel.escalation.second_stage import BedrockSecondOpinion
from keel.models.registry import ModelSpec
from tests.integration.conftest import ModelEndpoint
from tests.integration.models.helpers import SMALL, bedrock_client

pytestmark = pytest.mark.integration

SPEC = ModelSpec(SMALL, 128_000, 0.000035, 0.00014, "platform-ml")
TURNS = [Turn(role="user", text="I'd feel better sorting this out with one of your staff, honestly.")]


def test_a_stalled_model_is_cut_off_at_the_deadline(clean_model_endpoint: ModelEndpoint) -> None:
    clean_model_endpoint.fault("stall", model=SMALL, stall_seconds=3)
    stage = BedrockSecondOpinion(bedrock_client(clean_model_endpoint.url, read_timeout=3), SPEC, timeout_seconds=0.3)
    started = time.perf_counter()
    assert stage.judge(TURNS, ["explicit_request"]) is None
    assert time.perf_counter() - started < 1.0
    assert stage.timeouts == 1


def test_an_answer_that_is_not_a_verdict_counts_its_cost_and_leaves_the_local_decision(
    clean_model_endpoint: ModelEndpoint,
) -> None:
    stage = BedrockSecondOpinion(bedrock_client(clean_model_endpoint.url), SPEC, timeout_seconds=2.0)
    assert stage.judge(TURNS, ["explicit_request"]) is None
    assert stage.calls == 1 and stage.spent_usd > 0
    sent = clean_model_endpoint.requests()[-1]
    assert "<conversation>" in str(sent) and "one of your staff" in str(sent)
    local = decide(TURNS)
    assert decide(TURNS, second_opinion=stage).reason == local.reason
