"""Model calls per turn and the route stage on the golden scenario set, before and after (issue 19).

Printed, never asserted on time. "Before" is measured on the same stack and the same questions:
- model calls: the turn before the intent gate called the planner whenever the act stage ran for a bot
  with actions, so before = the calls made now + one for every act stage that made no planning call;
- route for "auto": the former algorithm (one k=1 search per permitted bot, then the answer's own search)
  is timed directly against the same retriever, beside the route stage the turn now reports.
The counts are asserted: a turn whose words name no action intent makes exactly one model call, and
"auto" makes one search per index its bots read and no second search for the answer. Choosing the bot
is timed on its own both ways (the rest of the route stage, conversation reads, is the same before and after).
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from typing import Any

import pytest

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

    route_now: list[float] = []
    route_before: list[float] = []
    searches_now: list[int] = []
    searches_before: list[int] = []
    for number, scenario in enumerate(scenarios):
        principal = principals[scenario.user]
        bots = deps.access.bots_for(principal)
        if not bots:
            continue
        indexes = len({deps.access.scope_for(principal, b).index for b in bots})
        request = ChatRequest(bot="auto", message=scenario.question)
        if number % 15 == 0:
            # A whole turn now and then: the answer reuses the route's passages (no second search).
            before = retriever.searches
            service.reply_as(principal, request, channel="eval")
            assert retriever.searches - before == indexes, scenario.id
        # The route decision now: one search per index over the union of the permitted scopes.
        before = retriever.searches
        started = time.perf_counter()
        _, passages = service._route(principal, request)
        route_now.append((time.perf_counter() - started) * 1000)
        searches_now.append(retriever.searches - before)
        assert searches_now[-1] == indexes and passages is not None and len(passages) <= PASSAGES_PER_TURN
        # The former route: one k=1 search per permitted bot (the answer then searched the chosen bot again).
        started = time.perf_counter()
        best_score = float("-inf")
        for bot in bots:
            hits = retriever.inner.search(deps.access.scope_for(principal, bot), scenario.question, k=1)
            if hits and hits[0].score > best_score:
                best_score = hits[0].score
        route_before.append((time.perf_counter() - started) * 1000)
        searches_before.append(len(bots) + 1)

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
    print(
        f"'auto' on {len(route_now)} scenario questions: searches per turn (route and answer) before "
        f"{statistics.mean(searches_before):.2f}, after {statistics.mean(searches_now):.2f}; choosing the bot "
        f"p50/p95 before {_p(route_before, 0.5):.1f}/{_p(route_before, 0.95):.1f} ms (one search per bot), "
        f"after {_p(route_now, 0.5):.1f}/{_p(route_now, 0.95):.1f} ms (one search per index, passages reused)"
    )
    assert sum(calls_now) < sum(calls_before)
