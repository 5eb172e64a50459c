"""Registries of models (per environment, with context limits, prices and owners) and routing rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from keel.errors import ConfigurationError, InvalidRequest
from keel.models.catalogue import Catalogue, ModelSpec, load_catalogue_data
from keel.settings import Settings

Role = Literal["large", "small"]
ROLES: tuple[Role, ...] = ("large", "small")


class RoutingRules:
    """Which model size serves a task for a bot: small for intent and summaries, large for answers."""

    def __init__(self, default: Mapping[str, Role], bots: Mapping[str, Mapping[str, Role]] | None = None) -> None:
        for rules in (default, *(bots or {}).values()):
            bad = {task: role for task, role in rules.items() if role not in ROLES}
            if bad:
                raise ConfigurationError(f"routing rules {bad}: accepted roles are {', '.join(ROLES)}")
        self._default = dict(default)
        self._bots = {bot: dict(rules) for bot, rules in (bots or {}).items()}

    @property
    def tasks(self) -> list[str]:
        """Every task some rule knows."""
        return sorted({*self._default, *(t for rules in self._bots.values() for t in rules)})

    def role_for(self, bot: str, task: str) -> Role:
        """The role for (bot, task); a bot's own rule wins over the default."""
        role = self._bots.get(bot, {}).get(task) or self._default.get(task)
        if role is None:
            raise InvalidRequest(f"unknown model task {task!r}; accepted: {', '.join(self.tasks)}")
        return role


class ModelRegistry:
    """The models of one environment and the role each plays: primary, secondary (fallback), small."""

    def __init__(self, specs: Mapping[str, ModelSpec], *, primary: str, secondary: str, small: str) -> None:
        missing = [m for m in (primary, secondary, small) if m not in specs]
        if missing:
            raise ConfigurationError(
                f"model(s) {', '.join(missing)} not in the registry; accepted: {', '.join(sorted(specs))}"
            )
        self._specs = dict(specs)
        self.primary = specs[primary]
        self.secondary = specs[secondary]
        self.small = specs[small]

    @classmethod
    def from_settings(cls, settings: Settings, data: Mapping[str, Any] | None = None) -> ModelRegistry:
        """The registry for settings.environment; KEEL_MODEL_* must name models allowed there."""
        data = data or load_registry_data()
        environment = str(settings.environment)
        catalogue = Catalogue(data)
        allowed = set(data["environments"].get(environment, []))
        specs: dict[str, ModelSpec] = {}
        for setting, model_id in (
            ("KEEL_MODEL_PRIMARY", settings.model_primary),
            ("KEEL_MODEL_SECONDARY", settings.model_secondary),
            ("KEEL_MODEL_SMALL", settings.model_small),
        ):
            # A profile id (eu.<model id>) names the same catalogue entry as its model id.
            spec = catalogue.find(model_id)
            if spec is None or spec.model_id not in allowed:
                raise ConfigurationError(
                    f"{setting}: {model_id!r} is not registered for environment {environment}; "
                    f"accepted: {', '.join(sorted(allowed))} (or an inference profile of one, e.g. eu.<id>)"
                )
            specs[model_id] = spec
        for model_id in allowed:
            specs.setdefault(model_id, catalogue.find(model_id) or _missing(model_id))
        return cls(
            specs, primary=settings.model_primary, secondary=settings.model_secondary, small=settings.model_small
        )

    def spec(self, model_id: str) -> ModelSpec:
        """The spec of a registered model."""
        try:
            return self._specs[model_id]
        except KeyError:
            raise ConfigurationError(f"model {model_id!r} is not registered") from None

    def chain(self, role: Role) -> list[ModelSpec]:
        """The models to try in order for a role: its own model, then the secondary."""
        first = self.primary if role == "large" else self.small
        return list({spec.id: spec for spec in (first, self.secondary)}.values())

    def all(self) -> list[ModelSpec]:
        """Every model registered for this environment."""
        return list(self._specs.values())


def load_registry_data() -> dict[str, Any]:
    """The registry file shipped with the package (models, environments, routing)."""
    return load_catalogue_data()


def _missing(model_id: str) -> ModelSpec:
    raise ConfigurationError(f"registry.json: environment lists {model_id!r}, which has no catalogue entry")


def routing_rules(data: Mapping[str, Any] | None = None) -> RoutingRules:
    """The routing rules of the registry file."""
    routing = (data or load_registry_data())["routing"]
    return RoutingRules(routing["default"], routing.get("bots", {}))
