"""The turn's model deadline: once it has passed, the router starts no new model call."""

from __future__ import annotations

import random
import time

import pytest

from keel.errors import ModelUnavailable
from keel.models import deadline
from keel.models.deadline import model_deadline
from keel.models.ports import Completion
from keel.models.resilience import RetryPolicy
from keel.models.router import RETRIEVAL_ONLY_MODEL
from tests.fakes.models import ScriptedModel
from tests.unit.models.test_router import LARGE, PASSAGES, QUESTION, SECOND, _router


def _stall(seconds: float) -> object:
    def stalled(model_id: str) -> Completion:
        time.sleep(seconds)
        raise ModelUnavailable(f"model {model_id} timed out")

    return stalled


def test_outside_a_turn_there_is_no_deadline() -> None:
    assert deadline.remaining() is None
    assert not deadline.passed()


def test_the_clock_starts_with_the_first_model_call_and_is_gone_after_its_block() -> None:
    with model_deadline(30):
        time.sleep(0.01)
        assert deadline.remaining() == 30, "searching and screening before the first call spend nothing"
        deadline.start()
        left = deadline.remaining()
        assert left is not None and 29 < left < 30
        deadline.start()  # a later call does not restart the clock
        assert deadline.remaining() <= left  # type: ignore[operator]
        assert not deadline.passed()
    assert deadline.remaining() is None


def test_no_deadline_is_a_block_without_one() -> None:
    with model_deadline(None):
        assert deadline.remaining() is None


@pytest.mark.parametrize("seconds", [0, -1.5])
def test_a_deadline_must_be_positive(seconds: float) -> None:
    with pytest.raises(ValueError, match="positive seconds or None"), model_deadline(seconds):
        pass


def test_a_stalled_primary_past_the_deadline_is_not_followed_by_the_fallback() -> None:
    model = ScriptedModel()
    model.set(LARGE, _stall(0.05))  # type: ignore[arg-type]
    router, _, _ = _router(model)
    with model_deadline(0.02):
        result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert [model_id for model_id, _ in model.calls] == [LARGE]
    assert result.model_id == RETRIEVAL_ONLY_MODEL
    assert "model_deadline" in result.degradations


def test_a_fast_failure_within_the_deadline_still_falls_back() -> None:
    model = ScriptedModel()
    model.set(LARGE, "down")
    router, _, _ = _router(model)
    with model_deadline(30):
        result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert result.model_id == SECOND
    assert "model_deadline" not in result.degradations


def test_a_second_call_of_the_turn_after_the_deadline_calls_no_model() -> None:
    model = ScriptedModel()
    model.set(LARGE, _stall(0.05))  # type: ignore[arg-type]
    router, _, _ = _router(model)
    with model_deadline(0.02):
        router.generate("hr", "sys", QUESTION, PASSAGES)  # the planner's call, say
        calls = len(model.calls)
        answer = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert len(model.calls) == calls, "no model call starts after the deadline"
    assert answer.model_id == RETRIEVAL_ONLY_MODEL


def test_throttling_backoff_does_not_sleep_past_the_deadline() -> None:
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    model.set(SECOND, "throttle")
    router, _, sleeps = _router(
        model,
        retry=RetryPolicy(attempts=5, base_seconds=5.0, cap_seconds=5.0, budget_seconds=60.0),
        rng=random.Random(7),
    )
    with model_deadline(0.5):
        result = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert sleeps == [], "a backoff longer than the time left is not slept"
    assert result.model_id == RETRIEVAL_ONLY_MODEL


def test_a_deadline_spent_by_an_earlier_throttled_call_says_so_on_the_answer() -> None:
    # CI under load: the planner's call was throttled until the deadline ran out, and the answer said only
    # "model_deadline", as if the models had been slow rather than busy.
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    model.set(SECOND, "throttle")
    router, metrics, _ = _router(
        model, retry=RetryPolicy(attempts=1, base_seconds=0.0, cap_seconds=0.0, budget_seconds=0.0)
    )
    with model_deadline(0.02):
        planner = router.generate("hr", "sys", QUESTION, PASSAGES)
        time.sleep(0.03)
        answer = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert any(tag.startswith("throttled:") for tag in planner.degradations)
    assert answer.model_id == RETRIEVAL_ONLY_MODEL
    assert answer.degradations[0] == "model_deadline"
    assert f"throttled:{LARGE}" in answer.degradations and f"throttled:{SECOND}" in answer.degradations
    assert len(answer.degradations) == len(set(answer.degradations)), "each cause once"
    # Counted where it happened: two throttles (the planner's two models), one deadline, not four throttles.
    assert metrics.total("Degradations", degradation="throttled") == 2
    assert metrics.total("Degradations", degradation="model_deadline") == 1


def test_what_a_call_met_is_kept_only_within_its_turn() -> None:
    deadline.note("throttled:x")  # outside a turn: nowhere to keep it
    assert deadline.met() == ()
    with model_deadline(5):
        deadline.note("throttled:x")
        deadline.note("throttled:x")
        deadline.note("unavailable:y")
        assert deadline.met() == ("throttled:x", "unavailable:y")
    with model_deadline(5):
        assert deadline.met() == (), "a new turn starts with nothing met"


def test_a_deadline_met_mid_chain_reports_its_own_causes_once_and_the_earlier_calls_after() -> None:
    model = ScriptedModel()
    model.set(LARGE, "down")
    model.set(SECOND, "down")
    router, metrics, _ = _router(model)
    with model_deadline(0.02):
        router.generate("hr", "sys", QUESTION, PASSAGES)  # the planner: both models down, fast
        model.set(LARGE, _stall(0.05))  # type: ignore[arg-type]  # the answer's first model outlasts the deadline
        answer = router.generate("hr", "sys", QUESTION, PASSAGES)
    assert answer.degradations == (
        f"unavailable:{LARGE}",
        "model_deadline",
        f"unavailable:{SECOND}",
        "retrieval_only",
    )
    # The planner's two outages and the answer's own one; the carried one is not counted twice.
    assert metrics.total("Degradations", degradation="unavailable") == 3


def test_a_side_task_after_the_deadline_says_why_it_has_no_result() -> None:
    model = ScriptedModel()
    model.set(LARGE, "throttle")
    model.set(SECOND, "throttle")
    router, _, _ = _router(model, retry=RetryPolicy(attempts=1, base_seconds=0.0, cap_seconds=0.0, budget_seconds=0.0))
    with model_deadline(0.02):
        router.generate("hr", "sys", QUESTION, PASSAGES)
        time.sleep(0.03)
        intent = router.generate("hr", "sys", QUESTION, [], task="intent")
    assert intent.text == "" and intent.degradations[-1] == "unavailable"
    assert intent.degradations[:3] == ("model_deadline", f"throttled:{LARGE}", f"throttled:{SECOND}")
