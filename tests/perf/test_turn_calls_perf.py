"""Model calls per turn and the route stage on the golden scenario set, before and after (issue 19).

Printed, never asserted on time. "Before" is measured on the same stack and the same questions:
- model calls: the turn before the intent gate called the planner whenever the act stage ran for a bot
  with actions, so before = the calls made now + one for every act stage that made no planning call;
- route for "auto": two former algorithms are timed directly against the same retriever, beside the route
  the turn now takes: the first (one k=1 search per permitted bot, then the answer's own search) and the
  second (one search per index the bots read, the answer reusing its passages).
The counts are asserted: a turn whose words name no action intent makes exactly one model call, and
"auto" makes exactly one search (over the union of the permitted scopes, every index at once) and no
second search for the answer. Choosing the bot is timed on its own (the rest of the route stage,
conversation reads, is the same before and after).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from typing import Any

import pytest

from keel.access.scope import union_scope
from keel.actions.turn_port import ActionPlanner
from keel.bootstrap import AwsClients, turn_dependencies
from keel.conversations.models import ChatRequest
from keel.errors import Forbidden
from keel.knowledge.ports import Passage, SearchScope
from keel.launch.runners import demo_principals
from keel.launch.scenarios import load_scenarios
from keel.local.model_server import ModelEndpointControl
from keel.models.tokens import estimate_tokens
from keel.settings import load_settings
from keel.turn import PASSAGES_PER_TURN, ChatService
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


class CountingRetriever:
    """The stack's retriever, counting searches."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.searches = 0

    def search(self, scope: SearchScope, query: str, *, k: int = 5) -> list[Passage]:
        self.searches += 1
        result: list[Passage] = self.inner.search(scope, query, k=k)
        return result


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _route_figures(
    service: ChatService, deps: Any, retriever: CountingRetriever, principals: dict[str, Any], scenarios: list[Any]
) -> tuple[dict[str, list[int]], dict[str, list[float]], int]:
    """Searches per "auto" turn and the time to choose the bot: first, previous and now, on every scenario."""
    searches: dict[str, list[int]] = {"first": [], "per index": [], "now": []}
    timings: dict[str, list[float]] = {"first": [], "per index": [], "now": []}
    two_indices = 0
    for number, scenario in enumerate(scenarios):
        principal = principals[scenario.user]
        bots = deps.access.bots_for(principal)
        if not bots:
            continue
        scopes = [deps.access.scope_for(principal, b) for b in bots]
        by_index: dict[str, list[SearchScope]] = {}
        for scope in scopes:
            by_index.setdefault(scope.index, []).append(scope)
        two_indices += len(by_index) > 1
        request = ChatRequest(bot="auto", message=scenario.question)
        if number % 15 == 0:
            # A whole turn now and then: one search in all, the answer reuses the route's passages.
            before = retriever.searches
            service.reply_as(principal, request, channel="eval")
            assert retriever.searches - before == 1, scenario.id
        # The route decision now: one search over the union of every permitted scope, whatever the indices.
        before = retriever.searches
        started = time.perf_counter()
        _, passages = service._route(principal, request)
        timings["now"].append((time.perf_counter() - started) * 1000)
        searches["now"].append(retriever.searches - before)
        assert searches["now"][-1] == 1 and passages is not None and len(passages) <= PASSAGES_PER_TURN
        # The previous route: one search per index over the union of that index's scopes (passages reused).
        started = time.perf_counter()
        for group in by_index.values():
            retriever.inner.search(union_scope(group), scenario.question, k=20)
        timings["per index"].append((time.perf_counter() - started) * 1000)
        searches["per index"].append(len(by_index))
        # The first route: one k=1 search per permitted bot (the answer then searched the chosen bot again).
        started = time.perf_counter()
        best_score = float("-inf")
        for scope in scopes:
            hits = retriever.inner.search(scope, scenario.question, k=1)
            if hits and hits[0].score > best_score:
                best_score = hits[0].score
        timings["first"].append((time.perf_counter() - started) * 1000)
        searches["first"].append(len(bots) + 1)
    return searches, timings, two_indices


def test_model_calls_per_turn_and_route_before_and_after(local_stack: Any) -> None:
    settings = load_settings(local_stack.environment)
    deps = turn_dependencies(settings, AwsClients.from_settings(settings))
    deps.telemetry = None
    retriever = CountingRetriever(deps.retriever)
    deps.retriever = retriever
    planner = deps.actions
    assert isinstance(planner, ActionPlanner)
    service = ChatService(deps)
    principals = demo_principals(REPO_ROOT / "layers/core/src/keel/local/demo/users.json")
    scenarios = [s for group in load_scenarios(REPO_ROOT / "evals" / "scenarios").values() for s in group]
    endpoint = ModelEndpointControl(local_stack.model.url)

    planning_tokens: list[int] = []

    def ask(user: str, bot: str, question: str) -> tuple[Any, int, int]:
        endpoint.clear_requests()
        result = service.reply_as(principals[user], ChatRequest(bot=bot, message=question), channel="eval")
        requests = endpoint.requests()
        planning = [r for r in requests if "toolConfig" in str(r)]
        # The planner's input as the endpoint received it (system, tools and the user's words).
        planning_tokens.extend(estimate_tokens(json.dumps(r.get("body", r))) for r in planning)
        return result, len(requests), len(planning)

    ask(scenarios[0].user, scenarios[0].bot, scenarios[0].question)  # warm: embedder, classifiers
    calls_now: list[int] = []
    calls_before: list[int] = []
    answer_tokens: list[tuple[int, int]] = []
    by_kind: Counter[str] = Counter()
    for scenario in scenarios:
        try:
            result, calls, planning = ask(scenario.user, scenario.bot, scenario.question)
        except Forbidden:
            continue
        acted = "act" in result.facts.stage_ms
        with_tools = bool(planner.registry.tools(scenario.bot))
        calls_now.append(calls)
        if result.completion is not None and result.completion.input_tokens:
            answer_tokens.append((result.completion.input_tokens, result.completion.output_tokens))
        calls_before.append(calls + (1 if acted and with_tools and planning == 0 else 0))
        if acted and with_tools:
            named = planner.registry.may_ask_for_action(scenario.bot, result.facts.input_masked)
            by_kind["action intent" if named else "no action intent"] += 1
            if not named:
                # The acceptance figure: no action intent, exactly one model call (the answer).
                assert planning == 0 and calls == 1, (scenario.id, calls)

    route = _route_figures(service, deps, retriever, principals, scenarios)

    n = len(calls_now)
    print(
        f"\ntokens per answer call ({len(answer_tokens)} calls): input "
        f"{statistics.mean(t[0] for t in answer_tokens):.0f}, "
        f"output {statistics.mean(t[1] for t in answer_tokens):.0f}; "
        f"per planning call ({len(planning_tokens)} calls): input about "
        f"{statistics.mean(planning_tokens or [0]):.0f}; planning calls per turn {len(planning_tokens) / n:.2f}"
    )
    print(
        f"\nmodel calls per turn on {n} scenario turns (named bots; {dict(by_kind)} act-stage turns with actions): "
        f"before {sum(calls_before) / n:.2f} (total {sum(calls_before)}), after {sum(calls_now) / n:.2f} "
        f"(total {sum(calls_now)})"
    )
    searches, timings, two_indices = route
    print(
        f"'auto' on {len(timings['now'])} scenario questions ({two_indices} by users whose bots read two indices): "
        f"searches per turn (route and answer): first {statistics.mean(searches['first']):.2f} (one per bot, "
        f"then the answer's), previous {statistics.mean(searches['per index']):.2f} (one per index, passages "
        f"reused), now {statistics.mean(searches['now']):.2f} (one over the union, passages reused)"
    )
    print(
        "choosing the bot p50/p95: "
        + ", ".join(f"{k} {_p(v, 0.5):.1f}/{_p(v, 0.95):.1f} ms" for k, v in timings.items())
    )
    assert set(searches["now"]) == {1} and two_indices > 0
    assert sum(calls_now) < sum(calls_before)
