"""The model router: picks a model per bot and task, survives provider failures, enforces budgets (R2, R3).

Fallback chain: the role's model -> the secondary model -> a retrieval-only answer (extractive, with
citations) -> the maintenance message. Each step taken is recorded in Completion.degradations and
counted in metrics. Provider failures never raise; budgets (BudgetExceeded) and sustained throttling
of every model (RateLimited with retry_after) do.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Protocol

from keel.errors import KeelError, ModelUnavailable, RateLimited
from keel.identity.principal import Principal
from keel.knowledge.ports import Passage
from keel.models import deadline, extractive
from keel.models.budget import Reservation, TokenBudget
from keel.models.maintenance import DEFAULT_MESSAGE, MaintenanceStatus
from keel.models.metrics import MetricsSink
from keel.models.ports import ChatMessage, ChatModel, Completion, ToolSpec
from keel.models.registry import ModelRegistry, ModelSpec, RoutingRules, routing_rules
from keel.models.resilience import BreakerBoard, ConcurrencyGate, RetryPolicy, Transition
from keel.models.tokens import estimate_tokens

logger = logging.getLogger(__name__)

RETRIEVAL_ONLY_MODEL = "retrieval-only"
NO_MODEL = "none"
UNAVAILABLE_MESSAGE = (
    "The assistant cannot answer right now because its language models are unavailable. "
    "Please try again in a few minutes."
)


class MaintenanceSwitch(Protocol):
    """The operator's maintenance switch."""

    def status(self) -> MaintenanceStatus:
        """Whether maintenance mode is on, and its message."""
        ...


class ModelRouter:
    """Runs every model call of Keel: routing, retries, breakers, fallbacks, budgets, metrics."""

    def __init__(
        self,
        model: ChatModel,
        registry: ModelRegistry,
        *,
        rules: RoutingRules | None = None,
        breakers: BreakerBoard | None = None,
        retry: RetryPolicy | None = None,
        gate: ConcurrencyGate | None = None,
        budget: TokenBudget | None = None,
        maintenance: MaintenanceSwitch | None = None,
        metrics: MetricsSink | None = None,
        max_tokens: int = 800,
        unavailable_message: str = UNAVAILABLE_MESSAGE,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._model = model
        self._registry = registry
        self._rules = rules or routing_rules()
        self._breakers = breakers or BreakerBoard()
        self._breakers.subscribe(self._count_transition)
        self._retry = retry or RetryPolicy()
        self._gate = gate or ConcurrencyGate()
        self._budget = budget
        self._maintenance = maintenance
        self._metrics = metrics
        self._max_tokens = max_tokens
        self._unavailable_message = unavailable_message
        self._sleep = sleep
        self._rng = rng or random.Random()

    @property
    def breakers(self) -> BreakerBoard:
        """The circuit breakers, one per model id."""
        return self._breakers

    def generate(
        self,
        bot: str,
        system: str,
        messages: list[ChatMessage],
        passages: list[Passage],
        task: str = "answer",
        *,
        principal: Principal | None = None,
        tools: Sequence[ToolSpec] = (),
        max_tokens: int | None = None,
    ) -> Completion:
        """A completion from the first model of the chain that answers, or a degraded one.

        Raises BudgetExceeded when the principal's or tenant's budget is spent, RateLimited when
        every model in the chain is throttling, InvalidRequest for an unknown task.
        """
        started = time.perf_counter()
        status = self._maintenance.status() if self._maintenance is not None else None
        if status is not None and status.enabled:
            return self._finish(bot, task, started, self._canned(status.message or DEFAULT_MESSAGE), ["maintenance"])
        role = self._rules.role_for(bot, task)
        limit = max_tokens or self._max_tokens
        reservation = self._reserve(principal, system, messages, limit)
        used = 0
        try:
            completion, used = self._run_chain(bot, task, role, system, messages, passages, tools, limit, started)
            return completion
        finally:
            if reservation is not None and self._budget is not None:
                self._budget.settle(reservation, used)

    def _run_chain(
        self,
        bot: str,
        task: str,
        role: str,
        system: str,
        messages: list[ChatMessage],
        passages: list[Passage],
        tools: Sequence[ToolSpec],
        max_tokens: int,
        started: float,
    ) -> tuple[Completion, int]:
        degradations: list[str] = []
        throttled: RateLimited | None = None
        failed = False
        carried: tuple[str, ...] = ()  # earlier calls' causes, reported again here but counted where they happened
        for position, spec in enumerate(self._registry.chain("large" if role == "large" else "small")):
            if deadline.passed():
                # The turn has waited long enough on models: answer from the passages, start no new call.
                # Say why time ran out: what this turn's earlier calls met (a planner throttled until the
                # deadline, say), which this chain has not reported itself.
                degradations.append("model_deadline")
                carried = tuple(tag for tag in deadline.met() if tag not in degradations)
                degradations.extend(carried)
                failed = True
                break
            breaker = self._breakers.get(spec.id)
            if not breaker.allow():
                _met(degradations, f"breaker_open:{spec.id}")
                failed = True
                continue
            try:
                completion = self._call(spec, system, messages, tools, max_tokens)
            except RateLimited as exc:
                # Throttling says the model is alive: it must not trip the breaker.
                breaker.release()
                _met(degradations, f"throttled:{spec.id}")
                throttled = exc
                continue
            except KeelError as exc:
                if not isinstance(exc, ModelUnavailable):
                    breaker.release()
                    raise
                breaker.record_failure()
                self._emit({"model": spec.id}, {"ModelErrors": (1, "Count")})
                _met(degradations, f"unavailable:{spec.id}")
                failed = True
                continue
            except Exception:
                # A malformed provider response is a provider failure too: fall back, never a bare 500.
                logger.exception("model %s returned something the adapter could not read", spec.id)
                breaker.record_failure()
                self._emit({"model": spec.id}, {"ModelErrors": (1, "Count")})
                _met(degradations, f"error:{spec.id}")
                failed = True
                continue
            breaker.record_success()
            if position > 0:
                degradations.append(f"fallback:{spec.id}")
            completion = replace(completion, cost_usd=spec.cost(completion.input_tokens, completion.output_tokens))
            self._emit_call(bot, task, completion)
            return self._finish(bot, task, started, completion, degradations), (
                completion.input_tokens + completion.output_tokens
            )
        if throttled is not None and not failed:
            # Throttling falls through the same chain as errors: a retrieval-only answer, or for a side
            # task (intent, summary) the empty result its caller copes with; a 429 only when nothing can answer.
            answered = self._retrieval_only(bot, task, started, messages, passages, degradations)
            if answered is not None:
                return answered, 0
            if task != "answer":
                return self._last_resort(bot, task, started, messages, passages, degradations, carried), 0
            self._count(bot, degradations)
            raise RateLimited(
                "the language models are busy; please retry shortly",
                retry_after=max(throttled.retry_after, 1),
                details={"degradations": degradations},
            )
        return self._last_resort(bot, task, started, messages, passages, degradations, carried), 0

    def _last_resort(
        self,
        bot: str,
        task: str,
        started: float,
        messages: list[ChatMessage],
        passages: list[Passage],
        degradations: list[str],
        carried: tuple[str, ...] = (),
    ) -> Completion:
        answered = self._retrieval_only(bot, task, started, messages, passages, degradations, carried)
        if answered is not None:
            return answered
        if task != "answer":
            # Intent, summaries and the like have no stand-in text; an empty result tells the caller.
            completion = Completion("", NO_MODEL, 0, 0, 0.0, stop_reason="unavailable")
            return self._finish(bot, task, started, completion, [*degradations, "unavailable"], carried)
        canned = self._canned(self._unavailable_message)
        return self._finish(bot, task, started, canned, [*degradations, "maintenance"], carried)

    def _retrieval_only(
        self,
        bot: str,
        task: str,
        started: float,
        messages: list[ChatMessage],
        passages: list[Passage],
        degradations: list[str],
        carried: tuple[str, ...] = (),
    ) -> Completion | None:
        """An extractive answer from the passages when no model answered, or None if they hold none."""
        if task != "answer" or not passages:
            return None
        question = _question(messages)
        sources = [extractive.Source(p.doc_id, p.text, p.title) for p in passages]
        text = extractive.answer(question, sources)
        if text == extractive.NO_ANSWER:
            return None
        completion = Completion(text, RETRIEVAL_ONLY_MODEL, 0, 0, 0.0, stop_reason="retrieval_only")
        return self._finish(bot, task, started, completion, [*degradations, "retrieval_only"], carried)

    def _call(
        self,
        spec: ModelSpec,
        system: str,
        messages: list[ChatMessage],
        tools: Sequence[ToolSpec],
        max_tokens: int,
    ) -> Completion:
        """One model, with bounded retries and full-jitter backoff on throttling."""
        attempt = 1
        slept = 0.0
        while True:
            try:
                deadline.start()
                with self._gate:
                    if tools:
                        return self._model.converse(spec.id, system, messages, max_tokens=max_tokens, tools=tools)
                    return self._model.converse(spec.id, system, messages, max_tokens=max_tokens)
            except RateLimited:
                delay = self._retry.delay(attempt, self._rng)
                left = deadline.remaining()
                if (
                    attempt >= self._retry.attempts
                    or slept + delay > self._retry.budget_seconds
                    or (left is not None and delay >= left)
                ):
                    self._emit({"model": spec.id}, {"ModelThrottles": (1, "Count")})
                    raise
                self._emit({"model": spec.id}, {"ModelRetries": (1, "Count")})
                self._sleep(delay)
                slept += delay
                attempt += 1

    def _reserve(
        self, principal: Principal | None, system: str, messages: list[ChatMessage], max_tokens: int
    ) -> Reservation | None:
        if self._budget is None or principal is None:
            return None
        estimate = estimate_tokens(system) + sum(estimate_tokens(m.text) for m in messages) + max_tokens
        return self._budget.reserve(principal.subject, principal.tenant, estimate)

    @staticmethod
    def _canned(text: str) -> Completion:
        return Completion(text, NO_MODEL, 0, 0, 0.0, stop_reason="maintenance")

    def _finish(
        self,
        bot: str,
        task: str,
        started: float,
        completion: Completion,
        degradations: list[str],
        carried: tuple[str, ...] = (),
    ) -> Completion:
        # Tags carried from the turn's earlier calls were counted on those calls' completions.
        self._count(bot, [tag for tag in degradations if tag not in carried])
        latency = (time.perf_counter() - started) * 1000
        return replace(completion, latency_ms=round(latency, 3), degradations=tuple(degradations))

    def _emit_call(self, bot: str, task: str, completion: Completion) -> None:
        self._emit(
            {"bot": bot, "model": completion.model_id, "task": task},
            {
                "ModelCalls": (1, "Count"),
                "InputTokens": (completion.input_tokens, "Count"),
                "OutputTokens": (completion.output_tokens, "Count"),
                "ModelLatency": (round(completion.latency_ms, 3), "Milliseconds"),
                "ModelCostUSD": (completion.cost_usd, "None"),
            },
        )

    def _count(self, bot: str, degradations: list[str]) -> None:
        for tag in degradations:
            self._emit({"bot": bot, "degradation": tag.split(":", 1)[0]}, {"Degradations": (1, "Count")})

    def _count_transition(self, transition: Transition) -> None:
        self._emit({"model": transition.name, "state": str(transition.new)}, {"BreakerTransitions": (1, "Count")})

    def _emit(self, dimensions: dict[str, str], values: dict[str, tuple[float, str]]) -> None:
        if self._metrics is not None:
            self._metrics.emit(dimensions, values)


def _question(messages: list[ChatMessage]) -> str:
    last_user = next((m.text for m in reversed(messages) if m.role == "user"), "")
    return extractive.parse_prompt(last_user)[1]


def _met(degradations: list[str], tag: str) -> None:
    """Record a degradation on this completion and on the turn's budget, for a deadline to report later."""
    degradations.append(tag)
    deadline.note(tag)
