"""Guardrails capability: input, context and output screening, hardened prompts (R10, R11, R12).

Importing this package is cheap: the classifier JSON loads on first screen, profanity-check on first
output check.
"""

from __future__ import annotations

from dataclasses import dataclass

from keel.guardrails.context import ContextScreen, ContextVerdict, wrap_passages
from keel.guardrails.input import InputScreen
from keel.guardrails.output import OutputCheck, OutputVerdict
from keel.guardrails.prompt import SystemPrompt, build_system_prompt, leaked_canary, new_canary
from keel.guardrails.verdict import BotPolicy, Verdict


@dataclass(frozen=True)
class Guardrails:
    """The three screens one bot uses, built from its policy."""

    input: InputScreen
    context: ContextScreen
    output: OutputCheck


def build_default(bot_policy: BotPolicy | None = None) -> Guardrails:
    """Default guardrails for a bot policy."""
    return Guardrails(InputScreen(bot_policy), ContextScreen(), OutputCheck())


__all__ = [
    "BotPolicy",
    "ContextScreen",
    "ContextVerdict",
    "Guardrails",
    "InputScreen",
    "OutputCheck",
    "OutputVerdict",
    "SystemPrompt",
    "Verdict",
    "build_default",
    "build_system_prompt",
    "leaked_canary",
    "new_canary",
    "wrap_passages",
]
