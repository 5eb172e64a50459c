"""Declared actions: a schema, a side-effect level, the Cedar action that guards it and how to find its resource."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from keel.actions.ports import ActionResult, SideEffect
from keel.errors import ConfigurationError, InvalidRequest
from keel.identity.principal import Principal
from keel.models.ports import ToolSpec

SIDE_EFFECTS: tuple[SideEffect, ...] = ("read", "write", "destructive", "money_moving")
CONFIRMED: frozenset[SideEffect] = frozenset({"destructive", "money_moving"})
_NAME = re.compile(r"^[a-z][a-z0-9_]{2,63}$")


@dataclass(frozen=True)
class ActionSpec:
    """One action: the tool the model may propose, and everything needed to authorise and run it."""

    name: str
    description: str
    input_model: type[BaseModel]
    side_effect: SideEffect
    cedar_action: str
    resource: Callable[[Principal, Any], str]
    run: Callable[[Principal, Any], ActionResult]
    summary: Callable[[Any], str]
    amount_cents: Callable[[Any], int] | None = None
    # Words or patterns (regular expressions, matched case-insensitively on word boundaries) of a user's
    # message that may ask for this action. A message that matches no intent of any of the bot's actions
    # is answered without the tool-planning model call; an action without intents always gets the call.
    intents: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigurationError(f"action name {self.name!r} must match {_NAME.pattern}")
        if self.side_effect not in SIDE_EFFECTS:
            raise ConfigurationError(f"side effect {self.side_effect!r}; accepted: {', '.join(SIDE_EFFECTS)}")
        if self.side_effect == "money_moving" and self.amount_cents is None:
            raise ConfigurationError(f"money-moving action {self.name} must say how to read its amount")
        try:
            _intent_pattern(self.intents)
        except re.error as exc:
            raise ConfigurationError(f"action {self.name}: an intent is not a valid pattern ({exc})") from None

    def may_be_asked_by(self, text: str) -> bool:
        """Whether ``text`` (the user's own words) may ask for this action: an intent matches, or none is declared."""
        pattern = _intent_pattern(self.intents)
        return pattern is None or pattern.search(text) is not None

    @property
    def needs_confirmation(self) -> bool:
        """Destructive and money-moving actions run only after the user's explicit yes."""
        return self.side_effect in CONFIRMED

    def tool(self) -> ToolSpec:
        """The Converse tool specification the model sees."""
        schema = self.input_model.model_json_schema()
        schema.pop("title", None)
        level = self.side_effect.replace("_", "-")
        return ToolSpec(self.name, f"{self.description} (side effect: {level})", schema)

    def parse(self, arguments: dict[str, Any]) -> BaseModel:
        """Validated inputs, or InvalidRequest naming each missing or bad field and what it accepts."""
        try:
            return self.input_model.model_validate(arguments)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ".".join(str(p) for p in error["loc"]) or "input"
                described = self.input_model.model_fields.get(name)
                hint = f" ({described.description})" if described is not None and described.description else ""
                problems.append(f"{name}{hint}: {error['msg']}")
            raise InvalidRequest("; ".join(problems), details={"action": self.name}) from None


class ActionRegistry:
    """The actions each bot offers; a bot offers nothing unless actions are registered for it.

    Which bots offer an action is either fixed or asked of a callable at each lookup (the tenant's `actions`, so an
    AppConfig deployment that offers cloud actions through another bot reaches running functions without a cold
    start: the tenant source's cache decides how often it is fetched)."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionSpec] = {}
        self._offered_by: dict[str, list[Callable[[], Collection[str]]]] = {}

    def register(self, spec: ActionSpec, bots: Iterable[str] | Callable[[], Collection[str]]) -> None:
        """Offer spec through bots (a fixed list, or a callable returning the current ones); one name means one
        action everywhere."""
        existing = self._actions.get(spec.name)
        if existing is not None and existing is not spec:
            raise ConfigurationError(f"action {spec.name} is registered twice with different definitions")
        self._actions[spec.name] = spec
        if callable(bots):
            offered_by = bots
        else:
            fixed = frozenset(bots)

            def offered_by() -> Collection[str]:
                return fixed

        self._offered_by.setdefault(spec.name, []).append(offered_by)

    def _offers(self, bot: str, name: str) -> bool:
        return any(bot in offered_by() for offered_by in self._offered_by.get(name, ()))

    def get(self, bot: str, name: str) -> ActionSpec | None:
        """The action if bot offers it."""
        return self._actions[name] if self._offers(bot, name) else None

    def for_bot(self, bot: str) -> list[ActionSpec]:
        """The bot's actions in registration order. A family's actions share one callable (the tenant's entry for
        the family): it is asked once per call, not once per action."""
        answers: dict[Callable[[], Collection[str]], Collection[str]] = {}

        def offered(source: Callable[[], Collection[str]]) -> Collection[str]:
            if source not in answers:
                answers[source] = source()
            return answers[source]

        return [
            spec
            for name, spec in self._actions.items()
            if any(bot in offered(source) for source in self._offered_by.get(name, ()))
        ]

    def may_ask_for_action(self, bot: str, text: str) -> bool:
        """Whether the user's message may ask for one of the bot's actions (cheap, before any model call)."""
        return any(spec.may_be_asked_by(text) for spec in self.for_bot(bot))

    def tools(self, bot: str) -> list[ToolSpec]:
        """The bot's tool specifications for the model."""
        return [spec.tool() for spec in self.for_bot(bot)]

    def __iter__(self) -> Iterator[ActionSpec]:
        return iter(self._actions.values())


@functools.lru_cache(maxsize=256)
def _intent_pattern(intents: tuple[str, ...]) -> re.Pattern[str] | None:
    if not intents:
        return None
    return re.compile("|".join(rf"\b(?:{intent})\b" for intent in intents), re.IGNORECASE)
