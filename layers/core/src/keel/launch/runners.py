"""Ways to put a scenario to a configuration: the turn in-process on the local stack, or an HTTP API."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest
from keel.identity.principal import Principal
from keel.launch.scenarios import Observation, Scenario, behaviour_of


class LayeredPrompts:
    """Candidate prompt versions for the bots they cover, the served library for the rest."""

    def __init__(self, candidate: Any | None, served: Any) -> None:
        self._candidate = candidate
        self._served = served

    def system_prompt(self, bot: str) -> tuple[str, str]:
        """The candidate's prompt for bot when it has one, else the served one."""
        if self._candidate is not None and bot in self._candidate.bots:
            text, label = self._candidate.system_prompt(bot)
            return str(text), f"candidate:{label}"
        text, label = self._served.system_prompt(bot)
        return str(text), str(label)


def prompt_library(version: int | None, folder: Path | None, bots: list[str]) -> LayeredPrompts:
    """The prompts a candidate configuration serves: pinned versions, or a folder of <bot>/v<N>.md."""
    from keel.models.prompt_library import PromptLibrary

    served = PromptLibrary()
    if version is not None:
        missing = [b for b in bots if version not in {v.version for v in served.versions(b)}]
        if missing:
            raise InvalidRequest(f"prompt version v{version} does not exist for bot {', '.join(missing)}")
        served = PromptLibrary(pins=dict.fromkeys(bots, version))
    candidate = None
    if folder is not None:
        if not folder.is_dir():
            raise InvalidRequest(f"candidate prompt folder {folder} does not exist; accepted: a folder of <bot>/vN.md")
        candidate = PromptLibrary(folder)
    return LayeredPrompts(candidate, served)


def demo_principals(users_file: Path, tenant: str = "demo") -> dict[str, Principal]:
    """The tenant's users as principals (identity is not what the gate tests; access policies still apply)."""
    from keel.identity.principal import principals_from_file

    return principals_from_file(users_file, tenant)


class InProcessRunner:
    """Runs the real turn in this process against the running local stack, with a candidate's prompts/model."""

    def __init__(
        self,
        environment: Mapping[str, str],
        principals: Mapping[str, Principal],
        *,
        prompts: Any | None = None,
        model_id: str | None = None,
    ) -> None:
        from keel.bootstrap import AwsClients, turn_dependencies
        from keel.settings import load_settings
        from keel.turn import ChatService

        env = dict(environment)
        if model_id:
            env["KEEL_MODEL_PRIMARY"] = model_id
        settings = load_settings(env)
        deps = turn_dependencies(settings, AwsClients.from_settings(settings))
        if prompts is not None:
            deps.prompts = prompts
        # The eval's own figures come from the turn's facts; EMF lines on stdout would bury the report.
        deps.telemetry = None
        self._service = ChatService(deps)
        self._principals = principals

    def warm(self, scenario: Scenario) -> None:
        """One unscored turn, so loading the embedder and classifiers is not counted as latency."""
        self(scenario)

    def __call__(self, scenario: Scenario) -> Observation:
        """One turn for the scenario's user and bot."""
        from keel.conversations.models import ChatRequest
        from keel.errors import Forbidden, KeelError

        principal = self._principals.get(scenario.user)
        if principal is None:
            raise InvalidRequest(f"scenario {scenario.id}: user {scenario.user!r} is not a demo user")
        started = time.perf_counter()
        try:
            result = self._service.reply_as(
                principal, ChatRequest(bot=scenario.bot, message=scenario.question), channel="eval"
            )
        except KeelError as exc:
            # A 403 for a bot the user may not use is a refusal, not a crash of the gate.
            elapsed = (time.perf_counter() - started) * 1000
            error = None if isinstance(exc, Forbidden) else exc.message
            return Observation("refuse", (), "", elapsed, 0.0, error=error)
        reply, completion = result.reply, result.completion
        cited = tuple(c.doc_id for c in reply.citations)
        return Observation(
            behaviour=behaviour_of(reply.outcome, cited),
            cited=cited,
            answer=reply.answer,
            latency_ms=result.latency_ms,
            cost_usd=completion.cost_usd if completion else 0.0,
            tokens=(completion.input_tokens + completion.output_tokens) if completion else 0,
            prompt_version=result.facts.prompt_version,
            model_id=completion.model_id if completion else None,
        )


class HttpRunner:
    """Puts scenarios to a deployed API (staging) with a bearer token per scenario user; no cost is visible."""

    def __init__(self, api_url: str, token_for: Callable[[str], str], *, timeout: float = 60.0) -> None:
        self._url = api_url
        self._token_for = token_for
        self._timeout = timeout

    def __call__(self, scenario: Scenario) -> Observation:
        """POST /v1/chat as the scenario's user (keel.launch.probes.post_chat)."""
        from keel.launch.probes import post_chat

        started = time.perf_counter()
        try:
            status, reply, _ = post_chat(
                self._url, self._token_for(scenario.user), scenario.bot, scenario.question, timeout=self._timeout
            )
        except OSError as exc:
            return Observation("refuse", (), "", (time.perf_counter() - started) * 1000, error=type(exc).__name__)
        elapsed = (time.perf_counter() - started) * 1000
        if status == 403:
            return Observation("refuse", (), "", elapsed)
        if status != 200:
            return Observation("refuse", (), "", elapsed, error=f"HTTP {status}")
        if "answer" not in reply:  # a proxy's page or an empty body: every chat reply carries an answer
            return Observation("refuse", (), "", elapsed, error=f"HTTP 200 without a chat reply: {reply!r}"[:200])
        cited = tuple(c["doc_id"] for c in reply.get("citations", []))
        return Observation(
            behaviour=behaviour_of(str(reply.get("outcome", "answered")), cited),
            cited=cited,
            answer=str(reply.get("answer", "")),
            latency_ms=elapsed,
        )
