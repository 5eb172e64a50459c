"""The bot registry: which bots exist, who they serve and which collections they read (R6, R23)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from keel.errors import ConfigurationError, NotFound

if TYPE_CHECKING:
    from keel.tenant.loader import Tenant

BOT_ID_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"


class BotDefinition(BaseModel):
    """One bot: its audience decides its index; its collections bound what it may ever retrieve."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(pattern=BOT_ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    audience: Literal["internal", "external"]
    collections: tuple[str, ...] = Field(min_length=1)
    allowed_groups: tuple[str, ...] = ()
    owner: str = Field(min_length=3)
    # Whose queue this bot's escalations land in: members of these groups may see, take and answer them.
    agent_groups: tuple[str, ...] = ()

    @field_validator("collections")
    @classmethod
    def _collection_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not name or not name.replace("-", "").isalnum() or name != name.lower():
                raise ValueError(f"collection {name!r} must be lower-case letters, digits and dashes")
        return value

    @property
    def external(self) -> bool:
        """True for bots that face customers (the external index)."""
        return self.audience == "external"


_BOTS = TypeAdapter(list[BotDefinition])


class BotRegistry:
    """Validated bot definitions by id; a collection belongs to one audience only."""

    def __init__(self, bots: Iterable[BotDefinition], collections: Mapping[str, str] | None = None) -> None:
        """Bots, and each collection's audience (derived from the bots reading it when not given)."""
        self._bots: dict[str, BotDefinition] = {}
        audiences: dict[str, str] = dict(collections or {})
        for bot in bots:
            if bot.id in self._bots:
                raise ConfigurationError(f"bot id {bot.id!r} is defined twice")
            for collection in bot.collections:
                if collections is not None:
                    _check_declared(bot, collection, audiences)
                # One collection in both indices would let internal text reach an external bot.
                elif audiences.setdefault(collection, bot.audience) != bot.audience:
                    raise ConfigurationError(
                        f"collection {collection!r} is used by internal and external bots; "
                        "a collection must belong to one audience"
                    )
            self._bots[bot.id] = bot
        if not self._bots:
            raise ConfigurationError("the bot registry is empty; define at least one bot")
        self._audiences = audiences

    @classmethod
    def from_tenant(cls, tenant: Tenant) -> BotRegistry:
        """The bots of a validated tenant, over its declared collections."""
        bots = [
            BotDefinition(
                id=b.id,
                name=b.name,
                audience=b.audience,
                collections=b.collections,
                allowed_groups=b.allowed_groups,
                owner=b.owner,
                agent_groups=tuple(q.group for q in tenant.spec.escalation.agent_queues if b.id in q.bots),
            )
            for b in tenant.spec.bots
        ]
        return cls(bots, tenant.collections)

    @classmethod
    def load(cls, path: Path) -> BotRegistry:
        """Read and validate a bots JSON file (a list of bot objects)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigurationError(f"bot registry {path} does not exist") from exc
        except ValueError as exc:
            raise ConfigurationError(f"bot registry {path} is not valid JSON: {exc}") from exc
        try:
            return cls(_BOTS.validate_python(raw))
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
            raise ConfigurationError(f"bot registry {path} is invalid: {problems}") from None

    def get(self, bot_id: str) -> BotDefinition:
        """The bot, or NotFound listing the known ids."""
        bot = self._bots.get(bot_id)
        if bot is None:
            raise NotFound(f"unknown bot {bot_id[:40]!r}; known bots: {', '.join(sorted(self._bots))}")
        return bot

    def collection_audience(self, collection: str) -> str | None:
        """'internal' or 'external' for a known collection, else None."""
        return self._audiences.get(collection)

    def collections(self) -> dict[str, str]:
        """Every collection and its audience."""
        return dict(self._audiences)

    def __iter__(self) -> Iterator[BotDefinition]:
        return iter(self._bots.values())

    def __len__(self) -> int:
        return len(self._bots)


def _check_declared(bot: BotDefinition, collection: str, audiences: Mapping[str, str]) -> None:
    audience = audiences.get(collection)
    if audience is None:
        raise ConfigurationError(f"bot {bot.id!r} reads unknown collection {collection!r}")
    if bot.external and audience != "external":
        raise ConfigurationError(f"external bot {bot.id!r} may not read internal collection {collection!r}")
