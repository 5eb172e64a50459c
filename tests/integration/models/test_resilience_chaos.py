"""Chaos and throttling through the router, real boto3 and the local endpoint (issue 6 acceptance)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from keel.errors import RateLimited
from keel.knowledge.ports import Passage
from keel.models.bedrock import BedrockConverseModel
from keel.models.metrics import RecordingMetrics
from keel.models.ports import ChatMessage, Completion
from keel.models.prompt_library import PromptLibrary
from keel.models.registry import ModelRegistry, ModelSpec, load_registry_data
from keel.models.resilience import BreakerBoard, BreakerState, ConcurrencyGate, RetryPolicy
from keel.models.router import NO_MODEL, RETRIEVAL_ONLY_MODEL, UNAVAILABLE_MESSAGE, ModelRouter
from tests.integration.conftest import ModelEndpoint
from tests.integration.models.helpers import PRIMARY, SECONDARY, SMALL, bedrock_client

pytestmark = pytest.mark.integration

LEAVE = Passage("hr-annual-leave", "c1", "Annual leave", "Employees get 25 days of annual leave per year.", 1.0)
QUESTIONS = [
    ("How many days of annual leave do I get?", [LEAVE]),
    ("What is the parental leave policy?", []),
]


def _registry() -> ModelRegistry:
    specs = {m["id"]: ModelSpec(**m) for m in load_registry_data()["models"]}
    return ModelRegistry(specs, primary=PRIMARY, secondary=SECONDARY, small=SMALL)


def _turn(router: ModelRouter, index: int) -> Completion:
    question, passages = QUESTIONS[index % len(QUESTIONS)]
    library = PromptLibrary()
    system, _ = library.system_prompt("hr")
    return router.generate("hr", system, [ChatMessage("user", library.user_message(question, passages))], passages)


def test_primary_down_200_turns_degrade_gracefully_and_the_breaker_opens_probes_and_closes(
    clean_model_endpoint: ModelEndpoint,
) -> None:
    # Given the primary model is down (connections reset) and a breaker with a short cool-down
    clean_model_endpoint.fault("down", model=PRIMARY)
    metrics = RecordingMetrics()
    breakers = BreakerBoard(threshold=5, window=30, cooldown=0.4)
    router = ModelRouter(
        BedrockConverseModel(bedrock_client(clean_model_endpoint.url, read_timeout=1)),
        _registry(),
        breakers=breakers,
        metrics=metrics,
    )
    results: list[Completion] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        # When 100 turns run with the secondary up, then 50 with the secondary down as well
        results += list(pool.map(lambda i: _turn(router, i), range(100)))
        clean_model_endpoint.fault("down", model=SECONDARY)
        results += list(pool.map(lambda i: _turn(router, i), range(100, 150)))
        time.sleep(0.5)  # past the cool-down, so the breaker probes
        results += list(pool.map(lambda i: _turn(router, i), range(150, 170)))

    # Then every turn got the fallback model, a retrieval-only answer or the maintenance message
    assert len(results) == 170
    for result in results:
        assert result.model_id in (SECONDARY, RETRIEVAL_ONLY_MODEL, NO_MODEL), result
        assert result.degradations, result
        if result.model_id == NO_MODEL:
            assert result.text == UNAVAILABLE_MESSAGE
        if result.model_id == RETRIEVAL_ONLY_MODEL:
            assert result.text == "Employees get 25 days of annual leave per year. [hr-annual-leave]"
    assert any(f"breaker_open:{PRIMARY}" in r.degradations for r in results)
    assert breakers.get(PRIMARY).state in (BreakerState.OPEN, BreakerState.HALF_OPEN)

    # When the primary returns, the next probe closes its breaker and the last turns use it again
    clean_model_endpoint.reset()
    time.sleep(0.5)
    tail = [_turn(router, i) for i in range(170, 200)]
    assert tail[-1].model_id == PRIMARY and tail[-1].degradations == ()
    moves = [(t.old.value, t.new.value) for t in breakers.get(PRIMARY).transitions]
    assert moves[0] == ("closed", "open")
    assert ("open", "half_open") in moves
    assert ("half_open", "open") in moves, "probes while the model was still down reopened the breaker"
    assert moves[-1] == ("half_open", "closed")
    assert metrics.total("Degradations", degradation="retrieval_only") > 0
    assert metrics.total("BreakerTransitions", model=PRIMARY, state="closed") == 1


def test_three_times_the_rate_limit_loses_nothing(clean_model_endpoint: ModelEndpoint) -> None:
    # Given the provider accepts 10 requests a second across models
    limit = 10
    clean_model_endpoint.fault("ok", rate_limit_per_second=limit)
    router = ModelRouter(
        BedrockConverseModel(bedrock_client(clean_model_endpoint.url)),
        _registry(),
        retry=RetryPolicy(attempts=4, base_seconds=0.1, cap_seconds=0.5, budget_seconds=1.0),
        gate=ConcurrencyGate(8, max_wait=2.0),
    )
    outcomes: list[object] = []

    def call(index: int) -> object:
        try:
            return _turn(router, index)
        except RateLimited as exc:
            return exc

    # When 90 requests arrive at 30 a second
    with ThreadPoolExecutor(max_workers=30) as pool:
        futures = []
        for index in range(90):
            futures.append(pool.submit(call, index))
            time.sleep(1 / (3 * limit))
        outcomes = [f.result() for f in futures]

    # Then each one completed from a model, fell through to a retrieval-only answer (throttling takes the
    # same way down the chain as errors), or, with nothing to extract, was refused with Retry-After
    completed = [o for o in outcomes if isinstance(o, Completion)]
    limited = [o for o in outcomes if isinstance(o, RateLimited)]
    extracted = [c for c in completed if c.model_id == RETRIEVAL_ONLY_MODEL]
    assert len(completed) + len(limited) == 90
    assert all(c.model_id in (PRIMARY, SECONDARY, RETRIEVAL_ONLY_MODEL) for c in completed)
    assert all(any(d.startswith("throttled:") for d in c.degradations) for c in extracted)
    assert all(e.retry_after >= 1 for e in limited)
    assert len(completed) - len(extracted) >= 2 * limit
    print(
        f"\nthrottling at 3x: {len(completed) - len(extracted)} answered by a model, {len(extracted)} retrieval-only, "
        f"{len(limited)} got 429 with Retry-After"
    )
