"""Fakes of the model capability: a scripted ChatModel and a fake clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from keel.errors import ModelUnavailable, RateLimited
from keel.models.ports import ChatMessage, Completion, ToolSpec

Outcome = str | Exception | Callable[[str], Completion]


@dataclass
class ScriptedModel:
    """A ChatModel whose behaviour per model id is scripted: "ok", "down", "throttle", or an exception.

    A script entry is a list consumed one call at a time; the last entry repeats.
    """

    script: dict[str, list[Outcome]] = field(default_factory=dict)
    answer: str = "An answer. [doc-1]"
    calls: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, model_id: str, *outcomes: Outcome) -> None:
        """Script the next outcomes of model_id."""
        with self._lock:
            self.script[model_id] = list(outcomes)

    def converse(
        self,
        model_id: str,
        system: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """Follow the script for model_id (default "ok")."""
        with self._lock:
            self.calls.append((model_id, len(tools)))
            entries = self.script.get(model_id, ["ok"])
            outcome = entries.pop(0) if len(entries) > 1 else entries[0]
        if isinstance(outcome, Exception):
            raise outcome
        if callable(outcome):
            return outcome(model_id)
        if outcome == "down":
            raise ModelUnavailable(f"model {model_id} could not be reached")
        if outcome == "throttle":
            raise RateLimited(f"model {model_id} is throttling", retry_after=2)
        return Completion(self.answer, model_id, input_tokens=100, output_tokens=20, latency_ms=1.0)


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds
