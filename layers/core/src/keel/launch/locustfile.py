"""Locust users for the load test (run by keel.launch.load, not imported by the platform).

ChatUser: a signed-in employee asking the HTTP API questions with a think time between them.
SearchUser: the same retriever the turn uses, against the stack's OpenSearch, timed as "search" so
search latency under load is measured apart from the turn. Tokens and think times come from
KEEL_LOAD_* environment variables set by keel.launch.load.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from typing import Any

from locust import HttpUser, User, between, events, task

# The tenant's launch plan (keel.launch.plan.LaunchPlan.to_env): which bots to ask what, and whose scope searches use.
_PLAN = json.loads(os.environ.get("KEEL_LOAD_PLAN") or "{}")
QUESTIONS: tuple[tuple[str, str], ...] = tuple((str(b), str(q)) for b, q in _PLAN.get("questions", []))
if not QUESTIONS:
    raise SystemExit("KEEL_LOAD_PLAN names no questions: run the load test through keel.launch.load (keel preflight)")
_TOKENS = itertools.cycle(json.loads(os.environ.get("KEEL_LOAD_TOKENS", "[]")) or [""])
_THINK = (float(os.environ.get("KEEL_LOAD_THINK_MIN", "10")), float(os.environ.get("KEEL_LOAD_THINK_MAX", "20")))
_SEARCH_USERS = int(os.environ.get("KEEL_LOAD_SEARCH_USERS", "0"))


class ChatUser(HttpUser):
    """One employee on the HTTP API."""

    wait_time = between(*_THINK)

    def on_start(self) -> None:
        """Take a token from the pool (tokens are per demo user, shared round-robin)."""
        self.token = next(_TOKENS)

    @task
    def ask(self) -> None:
        """One chat turn; a non-200 or a reply without an answer is a failure."""
        bot, question = random.choice(QUESTIONS)
        with self.client.post(
            "/v1/chat",
            json={"bot": bot, "message": question},
            headers={"Authorization": f"Bearer {self.token}"},
            name="POST /v1/chat",
            catch_response=True,
            timeout=120,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
            elif not response.json().get("answer"):
                response.failure("reply without an answer")
            else:
                response.success()


class SearchUser(User):
    """The turn's retriever alone against the stack's OpenSearch: search latency while the API is loaded."""

    wait_time = between(0.5, 1.5)
    fixed_count = _SEARCH_USERS
    _retriever: Any = None
    _scope: Any = None

    def on_start(self) -> None:
        """Wire the retriever and an employee's scope once per process."""
        if SearchUser._retriever is None:
            from keel.bootstrap import AwsClients, build_access, build_retriever
            from keel.identity.principal import Principal
            from keel.local.state import read_stack
            from keel.settings import load_settings

            settings = load_settings(read_stack()["environment"])
            SearchUser._retriever = build_retriever(settings, AwsClients.from_settings(settings))
            employee = Principal(
                "load", "load", frozenset(_PLAN["groups"]), _PLAN["tenant"], department=_PLAN.get("department")
            )
            SearchUser._scope = build_access(settings).scope_for(employee, _PLAN["bot"])

    @task
    def search(self) -> None:
        """One permission-scoped hybrid search, reported to locust as request type 'search'."""
        _, question = random.choice(QUESTIONS)
        started = time.perf_counter()
        error: Exception | None = None
        try:
            SearchUser._retriever.search(SearchUser._scope, question, k=5)
        except Exception as exc:  # any failure is counted as a failed search, not a crashed user
            error = exc
        events.request.fire(
            request_type="search",
            name="retriever.search",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={},
        )
