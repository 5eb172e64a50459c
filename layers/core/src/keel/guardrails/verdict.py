"""Verdicts and per-bot policy shared by the screening layers."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from keel.errors import ConfigurationError

Decision = Literal["block", "flag", "allow"]
DECISIONS: tuple[Decision, ...] = ("block", "flag", "allow")
CATEGORIES: tuple[str, ...] = (
    "instruction_override",
    "jailbreak",
    "system_prompt_extraction",
    "privilege_escalation",
    "exfiltration",
    "obfuscation",
    "injection",
    "indirect_injection",
)
_RANK = {"allow": 0, "flag": 1, "block": 2}
MAX_HISTORY_TURNS = 20


@dataclass(frozen=True)
class Verdict:
    """What a screen decided, how sure it is (0..1), which categories and why."""

    decision: Decision
    score: float
    categories: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    message: str | None = None
    cost_usd: float = 0.0

    @property
    def allowed(self) -> bool:
        """True when the text may go on to the model (allow or flag)."""
        return self.decision != "block"


def stricter(a: Decision, b: Decision) -> Decision:
    """The stronger of two decisions."""
    return a if _RANK[a] >= _RANK[b] else b


@dataclass(frozen=True)
class BotPolicy:
    """Per bot: what to do per category, the score thresholds, and what the user is told."""

    actions: dict[str, Decision] = field(default_factory=dict)
    default_action: Decision = "block"
    flag_threshold: float = 0.5
    block_threshold: float = 0.8
    block_message: str = (
        "I can't help with that request. I'm happy to help with questions about our services and documents."
    )
    flag_message: str | None = None
    history_turns: int = 4

    def __post_init__(self) -> None:
        bad = {k: v for k, v in self.actions.items() if v not in DECISIONS}
        if bad or self.default_action not in DECISIONS:
            raise ValueError(f"policy actions must be one of {DECISIONS}; got {bad or self.default_action}")
        if not 0.0 < self.flag_threshold <= self.block_threshold <= 1.0:
            raise ValueError("policy thresholds must satisfy 0 < flag_threshold <= block_threshold <= 1")

    def decide(self, score: float, categories: tuple[str, ...]) -> Decision:
        """Turn a score and categories into block, flag or allow under this policy."""
        if score < self.flag_threshold:
            return "allow"
        wanted: Decision = "allow"
        for category in categories or ("injection",):
            wanted = stricter(wanted, self.actions.get(category, self.default_action))
        if wanted == "block" and score < self.block_threshold:
            return "flag"
        return wanted

    def message_for(self, decision: Decision) -> str | None:
        """The user-facing text: a helpful refusal for a block, nothing accusatory for a flag."""
        if decision == "block":
            return self.block_message
        if decision == "flag":
            return self.flag_message
        return None


def parse_bot_policy(bot: object, raw: Mapping[str, Any]) -> BotPolicy:
    """One bot's input-screen policy from tenant.yaml `bots[].guardrails`; a mistake names the bot, the field and
    what is accepted (the defaults hold for every field left out)."""
    fields = {f.name for f in dataclasses.fields(BotPolicy)}
    unknown = sorted(set(raw) - fields)
    if unknown:
        raise ConfigurationError(
            f"bot {bot!r}: unknown guardrails setting(s) {', '.join(unknown)}; accepted: {', '.join(sorted(fields))}"
        )
    try:
        values = dict(raw)
        if "actions" in values:
            if not isinstance(values["actions"], Mapping):
                raise ValueError("actions must map attack categories to block, flag or allow")
            values["actions"] = dict(values["actions"])
            wrong = sorted(set(values["actions"]) - set(CATEGORIES))
            if wrong:
                raise ValueError(f"actions name unknown categories {', '.join(wrong)} (known: {', '.join(CATEGORIES)})")
        for key in ("block_message", "flag_message"):
            if key in values and values[key] is not None and not isinstance(values[key], str):
                raise ValueError(f"{key} must be text")
        for key in ("flag_threshold", "block_threshold"):
            if key in values and (isinstance(values[key], bool) or not isinstance(values[key], int | float)):
                raise ValueError(f"{key} must be a number between 0 and 1")
        if "history_turns" in values and (
            isinstance(values["history_turns"], bool) or not isinstance(values["history_turns"], int)
        ):
            raise ValueError("history_turns must be a whole number")
        if not 0 <= values.get("history_turns", 0) <= MAX_HISTORY_TURNS:
            raise ValueError(f"history_turns must be between 0 and {MAX_HISTORY_TURNS}")
        return BotPolicy(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"bot {bot!r}: invalid guardrails settings ({exc}); accepted: flag_threshold and block_threshold "
            f"(0 < flag <= block <= 1), actions {{category: {'|'.join(DECISIONS)}}}, default_action, block_message, "
            "flag_message, history_turns"
        ) from None


def tenant_bot_policies(bots: Iterable[Any]) -> dict[str, BotPolicy]:
    """The input-screen policy of every bot of a tenant that sets one (tenant.yaml `bots[].guardrails`)."""
    return {str(bot.id): parse_bot_policy(bot.id, bot.guardrails) for bot in bots if bot.guardrails}
