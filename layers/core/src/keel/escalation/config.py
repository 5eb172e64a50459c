"""Per-bot escalation configuration: thresholds, and the support resources a vulnerable customer is given.

It is read from the `escalation` object of each bot of the tenant (tenant.yaml `bots[].escalation`), so an
organisation's helplines never live in code:

    "escalation": {
      "support_resources": [{"name": "...", "contact": "...", "hours": "24/7"}],
      "support_message": {"en": "optional wording per language"},
      "policy": {"low_confidence_turns": 2}
    }
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from keel.errors import ConfigurationError
from keel.escalation.decision import EscalationPolicy

# The opening of the message given before an urgent handoff for self-harm, per language; a bot's
# support_message overrides it. Short and kind, and it never says the bot could not find anything.
SUPPORT_OPENINGS: dict[str, str] = {
    "en": "I'm really sorry you're going through this, and I'm glad you told me. You don't have to face it alone.",
    "fr": "Je suis vraiment désolé que vous traversiez cela, et merci de me l'avoir dit. Vous n'êtes pas seul.",
    "de": "Es tut mir sehr leid, dass es Ihnen so geht, und danke, dass Sie es mir sagen. Sie sind nicht allein.",
    "es": "Siento mucho que esté pasando por esto y gracias por contármelo. No tiene que afrontarlo solo.",
    "it": "Mi dispiace davvero che tu stia passando questo, e grazie di avermelo detto. Non sei solo.",
    "nl": "Wat naar dat u dit doormaakt, en fijn dat u het me vertelt. U hoeft dit niet alleen te doen.",
    "pl": "Bardzo mi przykro, że przez to przechodzisz, i dziękuję, że mi o tym mówisz. Nie jesteś z tym sam.",
    "pt": "Lamento muito que esteja a passar por isto, e obrigado por me dizer. Não está sozinho.",
}
RESOURCES_INTRO = {
    "en": "You can talk to someone right now:",
    "fr": "Vous pouvez parler à quelqu'un dès maintenant :",
    "de": "Sie können sofort mit jemandem sprechen:",
    "es": "Puede hablar con alguien ahora mismo:",
    "it": "Puoi parlare subito con qualcuno:",
    "nl": "U kunt nu meteen met iemand praten:",
    "pl": "Możesz porozmawiać z kimś od razu:",
    "pt": "Pode falar com alguém agora mesmo:",
}
EMERGENCY = {
    "en": "If you are in immediate danger, call your local emergency number.",
    "fr": "Si vous êtes en danger immédiat, appelez le numéro d'urgence local.",
    "de": "Wenn Sie in unmittelbarer Gefahr sind, rufen Sie den örtlichen Notruf an.",
    "es": "Si está en peligro inmediato, llame al número de emergencias local.",
    "it": "Se sei in pericolo immediato, chiama il numero di emergenza locale.",
    "nl": "Bent u in direct gevaar, bel dan het lokale alarmnummer.",
    "pl": "Jeśli grozi ci bezpośrednie niebezpieczeństwo, zadzwoń na lokalny numer alarmowy.",
    "pt": "Se estiver em perigo imediato, ligue para o número de emergência local.",
}


class SupportResource(BaseModel):
    """One place a person in crisis can turn to (a helpline, the employee assistance programme)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=120)
    contact: str = Field(min_length=1, max_length=200)
    hours: str = Field(default="", max_length=80)
    languages: tuple[str, ...] = ()


class BotEscalation(BaseModel):
    """One bot's escalation settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    support_resources: tuple[SupportResource, ...] = ()
    support_message: dict[str, str] = Field(default_factory=dict)
    policy: EscalationPolicy = Field(default_factory=EscalationPolicy)

    def support_text(self, language: str) -> str:
        """The short, kind message with this bot's resources, in the user's language where there is one."""
        lang = language if language in SUPPORT_OPENINGS else "en"
        lines = [self.support_message.get(lang) or self.support_message.get("en") or SUPPORT_OPENINGS[lang]]
        resources = [r for r in self.support_resources if not r.languages or lang in r.languages]
        if resources:
            lines.append(RESOURCES_INTRO[lang])
            lines.extend(f"- {r.name}: {r.contact}" + (f" ({r.hours})" if r.hours else "") for r in resources)
        lines.append(EMERGENCY[lang])
        return "\n".join(lines)


def load_bot_escalation(path: Path) -> dict[str, BotEscalation]:
    """The escalation settings of every bot in a bots JSON file (bots without any get the defaults)."""
    try:
        bots = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"bots file {path} is not readable JSON: {exc}") from exc
    if not isinstance(bots, list):
        raise ConfigurationError(f"bots file {path} must be a list of bot objects")
    return {str(bot.get("id")): parse_bot_escalation(bot.get("id"), bot.get("escalation") or {}) for bot in bots}


def tenant_bot_escalation(bots: Iterable[Any]) -> dict[str, BotEscalation]:
    """The escalation settings of a tenant's bots (tenant.yaml `bots[].escalation`)."""
    return {str(bot.id): parse_bot_escalation(bot.id, bot.escalation) for bot in bots}


def parse_bot_escalation(bot: Any, raw: Mapping[str, Any]) -> BotEscalation:
    """Validate one bot's `escalation` object; a mistake names the bot, the field and what is accepted."""
    try:
        return BotEscalation.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
        raise ConfigurationError(
            f"bot {bot!r}: invalid escalation settings ({problems}); accepted: support_resources "
            "[{name, contact, hours, languages}], support_message {lang: text}, policy {EscalationPolicy fields}"
        ) from None
