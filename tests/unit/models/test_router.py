"""The router: rules, fallback chain, retries, breakers, budgets, maintenance, metrics (fakes only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from keel.errors import BudgetExceeded, InvalidRequest, RateLimited
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.models.budget import BudgetLimits, InMemoryBudget
from keel.models.maintenance import MaintenanceStatus, StaticMaintenanceSwitch
from keel.models.metrics import RecordingMetrics
from keel.models.ports import ChatMessage, Completion, ToolSpec
from keel.models.registry import ModelRegistry, ModelSpec, RoutingRules
from keel.models.resilience import BreakerBoard, BreakerState, ConcurrencyGate, RetryPolicy
from keel.models.router import NO_MODEL, RETRIEVAL_ONLY_MODEL, UNAVAILABLE_MESSAGE, ModelRouter
from tests.fakes.models import FakeClock, ScriptedModel

LARGE, SECOND, SMALL = "large-1", "second-1", "small-1"
SPECS = {
    LARGE: ModelSpec(LARGE, 200_000, 0.003, 0.015, "ml"),
    SECOND: ModelSpec(SECOND, 200_000, 0.00025, 0.00125, "ml"),
    SMALL: ModelSpec(SMALL, 128_000, 0.000035, 0.00014, "ml"),
}
PASSAGES = [
    Passage("hr-annual-leave", "c1", "Leave", "Employees get 25 days of annual leave per year.", 1.0),
]
QUESTION = [ChatMessage("user", "<question>How many days of annual leave do I get?</question>")]
ALICE = Principal("alice", "alice", frozenset({"all-staff"}), "acme")


def _router(model: ScriptedModel, **options: object) -> tuple[ModelRouter, RecordingMetrics, list[float]]:
    metrics = RecordingMetrics()
    sleeps: list[float] = []
    rules = RoutingRules({"answer": "large", "intent": "small"}, {"sales": {"answer": "small"}})
    registry = ModelRegistry(SPECS, primary=LARGE, secondary=SECOND, small=SMALL)
    defaults: dict[str, object] = {
        "rules": rules,
        "metrics": metrics,
        "sleep": sleeps.append,
        "retry": RetryPolicy(attempts=3, base_seconds=0.1, cap_seconds=0.4, budget_seconds=1.0),
        "breakers": BreakerBoard(threshold=2, window=60, cooldown=30, clock=FakeClock()),
    }
    defaults.update(options)
    return ModelRouter(model, registry, **defaults), metrics, sleeps  # type: ignore[arg-type]


def test_answers_go_to_the_large_model_with_cost_and_metrics() -> None:
    router, metrics, _ = _router(ScriptedModel())
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.model_id == LARGE
    assert result.degradations == ()
    assert result.cost_usd == pytest.approx(100 / 1000 * 0.003 + 20 / 1000 * 0.015)
    assert metrics.total("InputTokens", model=LARGE, bot="hr") == 100
    assert metrics.total("ModelCostUSD", model=LARGE) == pytest.approx(result.cost_usd)


def test_intent_goes_to_the_small_model_and_bot_rules_override_the_default() -> None:
    model = ScriptedModel()
    router, _, _ = _router(model)
    assert router.generate("hr", "sys", QUESTION, [], task="intent").model_id == SMALL
    assert router.generate("sales", "sys", QUESTION, PASSAGES).model_id == SMALL


def test_unknown_task_is_refused_naming_the_accepted_ones() -> None:
    router, _, _ = _router(ScriptedModel())
    with pytest.raises(InvalidRequest, match="accepted: answer, intent"):
        router.generate("hr", "sys", QUESTION, PASSAGES, task="poetry")


def test_primary_down_falls_back_to_the_secondary() -> None:
    model = ScriptedModel()
    model.set(LARGE, "down")
    router, metrics, _ = _router(model)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.model_id == SECOND
    assert result.degradations == (f"unavailable:{LARGE}", f"fallback:{SECOND}")
    assert metrics.total("Degradations", degradation="fallback") == 1


def test_both_models_down_gives_a_retrieval_only_answer_with_citations() -> None:
    model = ScriptedModel()
    model.set(LARGE, "down")
    model.set(SECOND, "down")
    router, _, _ = _router(model)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.model_id == RETRIEVAL_ONLY_MODEL
    assert result.text == "Employees get 25 days of annual leave per year. [hr-annual-leave]"
    assert result.degradations[-1] == "retrieval_only"


def test_no_model_and_no_relevant_passage_gives_the_maintenance_message() -> None:
    model = ScriptedModel()
    model.set(LARGE, "down")
    model.set(SECOND, "down")
    router, _, _ = _router(model)
    result = router.generate("hr", "sys", QUESTION, [])
    assert result.text == UNAVAILABLE_MESSAGE
    assert result.model_id == NO_MODEL
    assert result.degradations[-1] == "maintenance"


def test_small_task_with_no_model_returns_empty_text_marked_unavailable() -> None:
    model = ScriptedModel()
    model.set(SMALL, "down")
    model.set(SECOND, "down")
    router, _, _ = _router(model)
    result = router.generate("hr", "sys", QUESTION, PASSAGES, task="intent")
    assert result.text == ""
    assert result.degradations[-1] == "unavailable"


def test_unexpected_adapter_error_is_a_provider_failure_not_a_crash() -> None:
    model = ScriptedModel()
    model.set(LARGE, KeyError("output"))
    router, _, _ = _router(model)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.degradations == (f"error:{LARGE}", f"fallback:{SECOND}")


def test_throttling_is_retried_with_bounded_jittered_sleeps() -> None:
    model = ScriptedModel()
    model.set(LARGE, "throttle", "throttle", "ok")
    router, metrics, sleeps = _router(model)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.model_id == LARGE and result.degradations == ()
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.1 and 0 <= sleeps[1] <= 0.2
    assert metrics.total("ModelRetries", model=LARGE) == 2


def test_every_model_throttling_falls_through_to_a_retrieval_only_answer() -> None:
    # Throttling takes the same way down the chain as errors do, before anyone gets a 429.
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    model.set(SECOND, "throttle")
    router, _, sleeps = _router(model)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.model_id == RETRIEVAL_ONLY_MODEL
    assert result.degradations == (f"throttled:{LARGE}", f"throttled:{SECOND}", "retrieval_only")
    assert sum(sleeps) <= 2 * 1.0, "retry sleeps stay within the budget per model"


def test_every_model_throttling_with_nothing_to_extract_raises_rate_limited_with_retry_after() -> None:
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    model.set(SECOND, "throttle")
    router, _, _ = _router(model)
    with pytest.raises(RateLimited) as caught:
        router.generate("hr", "sys", QUESTION, [])
    assert caught.value.retry_after == 2


def test_throttling_does_not_open_the_breaker() -> None:
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    router, _, _ = _router(model)
    for _ in range(5):
        router.generate("hr", "sys", QUESTION, PASSAGES)
    assert router.breakers.get(LARGE).state is BreakerState.CLOSED


def test_breaker_opens_skips_the_primary_then_probes_and_closes() -> None:
    clock = FakeClock()
    model = ScriptedModel()
    model.set(LARGE, "down")
    router, _, _ = _router(model, breakers=BreakerBoard(threshold=2, window=60, cooldown=30, clock=clock))
    for _ in range(2):
        router.generate("hr", "sys", QUESTION, PASSAGES)
    calls_before = len(model.calls)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.degradations[0] == f"breaker_open:{LARGE}"
    assert model.calls[calls_before:] == [(SECOND, 0)]
    model.set(LARGE, "ok")
    clock.advance(30)
    assert router.generate("hr", "sys", QUESTION, PASSAGES).model_id == LARGE
    assert router.breakers.get(LARGE).state is BreakerState.CLOSED


def test_maintenance_mode_answers_the_configured_message_without_calling_a_model() -> None:
    model = ScriptedModel()
    switch = StaticMaintenanceSwitch(MaintenanceStatus(True, "Back at 14:00."))
    router, _, _ = _router(model, maintenance=switch)
    result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.text == "Back at 14:00." and result.degradations == ("maintenance",)
    assert model.calls == []


def test_budget_reserves_then_settles_to_the_real_usage() -> None:
    budget = InMemoryBudget(BudgetLimits(10_000, 100_000), clock=lambda: datetime(2026, 11, 3, tzinfo=UTC))
    router, _, _ = _router(ScriptedModel(), budget=budget)
    router.generate("hr", "sys", QUESTION, PASSAGES, principal=ALICE)
    assert budget.counters[("user", "acme#alice", "2026-11-03")] == 120
    assert budget.counters[("tenant", "acme", "2026-11-03")] == 120


def test_over_budget_is_refused_with_a_clear_message_and_no_model_call() -> None:
    model = ScriptedModel()
    budget = InMemoryBudget(BudgetLimits(500, 100_000))
    router, _, _ = _router(model, budget=budget, max_tokens=400)
    router.generate("hr", "sys", QUESTION, PASSAGES, principal=ALICE)
    with pytest.raises(BudgetExceeded, match="daily token budget of 500 tokens is spent") as caught:
        router.generate("hr", "sys", QUESTION, PASSAGES, principal=ALICE)
    assert caught.value.retry_after >= 1
    assert len(model.calls) == 1


def test_budget_is_refunded_when_no_model_answered() -> None:
    model = ScriptedModel()
    model.set(LARGE, "down")
    model.set(SECOND, "down")
    budget = InMemoryBudget(BudgetLimits(10_000, 100_000))
    router, _, _ = _router(model, budget=budget)
    router.generate("hr", "sys", QUESTION, PASSAGES, principal=ALICE)
    assert set(budget.counters.values()) == {0}


def test_tools_reach_the_model_and_tool_calls_come_back() -> None:
    from keel.models.ports import ToolCall

    def with_tool(model_id: str) -> Completion:
        return Completion("", model_id, 5, 5, 1.0, "tool_use", tool_calls=(ToolCall("t1", "reset", {}),))

    model = ScriptedModel()
    model.set(LARGE, with_tool)
    router, _, _ = _router(model)
    result = router.generate("it", "sys", QUESTION, [], tools=[ToolSpec("reset", "Reset a password")])
    assert result.tool_calls[0].name == "reset"
    assert model.calls == [(LARGE, 1)]


def test_full_queue_counts_as_throttling() -> None:
    gate = ConcurrencyGate(1, max_wait=0.0)
    router, _, _ = _router(ScriptedModel(), gate=gate)
    with gate:
        assert router.generate("hr", "sys", QUESTION, PASSAGES).model_id == RETRIEVAL_ONLY_MODEL
        with pytest.raises(RateLimited):
            router.generate("hr", "sys", QUESTION, [])


def test_a_side_task_under_throttling_gets_the_empty_unavailable_result_errors_get() -> None:
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    model.set(SECOND, "throttle")
    model.set(SMALL, "throttle")
    router, _, _ = _router(model)
    result = router.generate("hr", "sys", QUESTION, [], task="intent")
    assert result.text == "" and result.degradations[-1] == "unavailable"
