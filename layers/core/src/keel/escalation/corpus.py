"""The escalation corpus: hand-written families of paraphrases, expanded into labelled conversations and split.

A family file (evals/escalation/corpus/families/<lang>.txt) holds blocks headed
``@ family reason intent [context]`` followed by one user text a line. A family is one way of saying one
thing; the split keeps whole families on one side (train or test), so the test split measures paraphrases
and phrasings the heads never saw, not the rows of a family they learnt from.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest
from keel.escalation.decision import REASONS

CONTEXTS = ("plain", "deflected", "hedging", "event", "dialogue")
# A dialogue row spells out every turn: "U: text", "A: text" (an assistant reply), "A0.1: text" (with its
# confidence) or "E: text" (a system event), separated by "||"; its hedges and events are the author's own.
_SPEAKERS = {"U": "user", "A": "assistant", "E": "event"}
TEST_SHARE = 0.35
# An opening exchange per language: a routine question the bot answered well (with a citation).
OPENERS: dict[str, tuple[str, str]] = {
    "en": ("How do I update my address?", "You can change it under Profile > Address [help-010]."),
    "fr": ("Comment changer mon adresse ?", "Vous pouvez la modifier dans Profil > Adresse [help-010]."),
    "de": ("Wie ändere ich meine Adresse?", "Sie können sie unter Profil > Adresse ändern [help-010]."),
    "es": ("¿Cómo cambio mi dirección?", "Puede cambiarla en Perfil > Dirección [help-010]."),
    "it": ("Come cambio il mio indirizzo?", "Puoi cambiarlo in Profilo > Indirizzo [help-010]."),
    "nl": ("Hoe wijzig ik mijn adres?", "U kunt het wijzigen onder Profiel > Adres [help-010]."),
    "pl": ("Jak zmienić mój adres?", "Możesz go zmienić w Profil > Adres [help-010]."),
    "pt": ("Como altero a minha morada?", "Pode alterá-la em Perfil > Morada [help-010]."),
}
# The bot sending the user back to self-service instead of to a person.
DEFLECTIONS: dict[str, tuple[str, str]] = {
    "en": ("I need help with my case.", "You can find answers in our help centre [help-001]. Anything else?"),
    "fr": ("J'ai besoin d'aide pour mon dossier.", "Vous trouverez des réponses dans notre centre d'aide [help-001]."),
    "de": ("Ich brauche Hilfe mit meinem Fall.", "Antworten finden Sie in unserem Hilfe-Center [help-001]."),
    "es": ("Necesito ayuda con mi caso.", "Puede encontrar respuestas en nuestro centro de ayuda [help-001]."),
    "it": ("Ho bisogno di aiuto con la mia pratica.", "Trovi le risposte nel nostro centro assistenza [help-001]."),
    "nl": ("Ik heb hulp nodig met mijn zaak.", "U vindt antwoorden in ons helpcentrum [help-001]."),
    "pl": ("Potrzebuję pomocy w mojej sprawie.", "Odpowiedzi znajdziesz w naszym centrum pomocy [help-001]."),
    "pt": ("Preciso de ajuda com o meu caso.", "Encontra respostas no nosso centro de ajuda [help-001]."),
}
# What a bot says when it has no answer, per language (transcripts without confidence scores).
HEDGES: dict[str, str] = {
    "en": "I'm not sure, I could not find this in the sources available to me.",
    "fr": "Je ne suis pas sûr, je n'ai pas trouvé cela dans les sources dont je dispose.",
    "de": "Ich bin nicht sicher, ich konnte das in meinen Quellen nicht finden.",
    "es": "No estoy seguro, no encontré esto en las fuentes de las que dispongo.",
    "it": "Non sono sicuro, non ho trovato questa informazione nelle mie fonti.",
    "nl": "Ik weet het niet zeker, ik kon dit niet vinden in mijn bronnen.",
    "pl": "Nie jestem pewien, nie znalazłem tego w dostępnych źródłach.",
    "pt": "Não tenho a certeza, não encontrei isto nas fontes disponíveis.",
}


@dataclass(frozen=True)
class Family:
    """One way of saying one thing, in one language, with its label."""

    family: str
    language: str
    reason: str
    intent: str
    context: str
    texts: tuple[str, ...]


def read_families(directory: Path) -> list[Family]:
    """Every family of every <lang>.txt file in a directory; a malformed block raises InvalidRequest."""
    if not directory.is_dir():
        raise InvalidRequest(f"{directory} is not a directory of <lang>.txt family files")
    families: list[Family] = []
    for path in sorted(directory.glob("*.txt")):
        families.extend(_parse(path))
    seen: set[str] = set()
    for family in families:
        if family.family in seen:
            raise InvalidRequest(f"family {family.family} is defined twice")
        seen.add(family.family)
    return families


def _parse(path: Path) -> Iterator[Family]:
    language = path.stem
    header: list[str] | None = None
    texts: list[str] = []
    for number, raw in enumerate([*path.read_text(encoding="utf-8").splitlines(), "@"], start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            if header is None:
                raise InvalidRequest(f"{path}:{number}: text before the first '@ family reason intent' header")
            texts.append(line)
            continue
        if header is not None:
            yield _family(path, number, language, header, texts)
        header, texts = line[1:].split(), []
        if line != "@" and not 3 <= len(header) <= 5:
            raise InvalidRequest(f"{path}:{number}: a header is '@ family reason intent [subkind] [context]'")


def _family(path: Path, number: int, language: str, header: list[str], texts: list[str]) -> Family:
    family, reason, intent, *rest = header
    context = rest[-1] if rest and rest[-1] in CONTEXTS else "plain"
    if reason not in REASONS:
        raise InvalidRequest(f"{path}:{number}: reason {reason!r} is not one of {', '.join(REASONS)}")
    if not texts:
        raise InvalidRequest(f"{path}:{number}: family {family} has no text")
    return Family(family, language, reason, intent, context, tuple(texts))


def is_test_family(family: Family, group_size: int, rank: int) -> bool:
    """Whether a family belongs to the frozen test split (decided by its id's hash, never by its rows)."""
    if group_size == 1:
        return _digest(family.family)[0] % 3 == 0
    return rank < max(1, math.floor(group_size * TEST_SHARE + 0.5))


def split(families: Iterable[Family]) -> tuple[list[Family], list[Family]]:
    """Train and test families: about a third of each (reason, intent group, language) goes to test."""
    groups: dict[tuple[str, str, str], list[Family]] = defaultdict(list)
    for family in families:
        intent_group = "vulnerable" if family.reason == "vulnerable_customer" else family.intent
        groups[(family.reason, intent_group, family.language)].append(family)
    train: list[Family] = []
    test: list[Family] = []
    for members in groups.values():
        ordered = sorted(members, key=lambda f: _digest(f.family))
        for rank, family in enumerate(ordered):
            (test if is_test_family(family, len(ordered), rank) else train).append(family)
    return sorted(train, key=lambda f: f.family), sorted(test, key=lambda f: f.family)


def rows(families: Iterable[Family]) -> Iterator[dict[str, Any]]:
    """Labelled conversations: each text of a family becomes one conversation in the family's context."""
    for family in families:
        for index, text in enumerate(family.texts):
            yield {
                "id": f"{family.family}-{index + 1:02d}",
                "turns": _turns(family, index, text),
                "expected": {"escalate": family.reason != "none", "reason": family.reason},
                "language": family.language,
                "intent": family.intent,
                "family": family.family,
            }


def _turns(family: Family, index: int, text: str) -> list[dict[str, Any]]:
    lang = family.language
    parts = [p.strip() for p in text.split("||")]
    if family.context == "hedging":
        turns: list[dict[str, Any]] = []
        for position, question in enumerate(parts):
            turns.append({"role": "user", "text": question})
            if position < len(parts) - 1:
                hedge: dict[str, Any] = {"role": "assistant", "text": HEDGES[lang]}
                if index % 2:
                    hedge["confidence"] = 0.1
                turns.append(hedge)
        return turns
    if family.context == "dialogue":
        return [_spoken(family, part) for part in parts]
    if family.context == "event":
        return [{"role": "user", "text": parts[0]}, {"role": "event", "text": parts[1]}]
    if family.context == "deflected":
        ask, deflection = DEFLECTIONS[lang]
        return [{"role": "user", "text": ask}, {"role": "assistant", "text": deflection}, _user(text)]
    if index % 2:
        question, answer = OPENERS[lang]
        return [{"role": "user", "text": question}, {"role": "assistant", "text": answer}, _user(text)]
    return [_user(text)]


def _spoken(family: Family, part: str) -> dict[str, Any]:
    speaker, separator, text = part.partition(":")
    role = _SPEAKERS.get(speaker[:1])
    if not separator or role is None or not text.strip():
        raise InvalidRequest(
            f"family {family.family}: a dialogue turn is 'U: text', 'A: text', 'A0.3: text' or 'E: text', got {part!r}"
        )
    turn: dict[str, Any] = {"role": role, "text": text.strip()}
    if role == "assistant" and speaker[1:]:
        try:
            turn["confidence"] = float(speaker[1:])
        except ValueError:
            raise InvalidRequest(f"family {family.family}: {speaker!r} is not 'A' followed by a confidence") from None
    return turn


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "text": text}


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> str:
    """Write rows as JSONL (stable key order); returns the file's sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    path.write_text(body, encoding="utf-8")
    return hashlib.sha256(body.encode()).hexdigest()


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


# Ordinary work asked of an enterprise assistant (round 11): the input screen's own authors' look-alikes (training
# families only; the guardrails' frozen test families and holdouts are never read). On them the heads escalated
# 10 to 35% by category (a translation of a complaint read as a legal threat, "make a quiz of this" as a request
# for a person), since the corpus's routine rows are support questions. Owners acting on their own resources
# ("delete my account") and multi-turn rows are left out: closing an account is a high-risk intent here.
WORK_INTENT = "work"
WORK_CATEGORIES = frozenset(
    {
        "everyday_trigger_words",
        "pasted_document",
        "security_education",
        "everyday_markdown",
        "translation_work",
        "creative",
    }
)


def assistant_work_families() -> list[Family]:
    """One text per (guardrail training family, language) of the WORK_CATEGORIES, labelled none / work, as
    one-text families; texts a high-precision phrase pattern escalates are left out (a pattern match is either a
    real request or the pattern's own look-alike problem, not something to teach the heads)."""
    from keel.escalation.decision import EscalationPolicy, Turn, decide
    from keel.guardrails.dataset import train_rows

    rules_only = EscalationPolicy(semantic=False)
    seen: set[tuple[str, str]] = set()
    out = []
    for row in train_rows(None, development=False):  # Keel's own case files only
        if row.label != "benign" or row.category not in WORK_CATEGORIES or row.turns or not row.text:
            continue
        if (row.family, row.lang) in seen:
            continue
        seen.add((row.family, row.lang))
        if decide([Turn(role="user", text=row.text)], rules_only).escalate:
            continue
        out.append(Family(f"work-{row.family}-{row.lang}", row.lang, "none", WORK_INTENT, "plain", (row.text,)))
    return out


FROZEN_TEST_SHA256 = "41dcc2037e796798935122060a1b0201d71443136d64836504e7d0fa73046aae"


def build(directory: Path) -> list[str]:
    """Rewrite train.jsonl from the families; check that test.jsonl would come out byte for byte the same."""
    families = read_families(directory / "families")
    frozen = directory / "test-families.txt"
    if frozen.is_file():
        names = {line.strip() for line in frozen.read_text(encoding="utf-8").splitlines() if line.strip()}
        test = sorted((f for f in families if f.family in names), key=lambda f: f.family)
        train = sorted((f for f in families if f.family not in names), key=lambda f: f.family)
        if len(test) != len(names):
            known = {f.family for f in test}
            raise InvalidRequest(f"frozen test families are missing from the sources: {sorted(names - known)[:5]}")
    else:
        train, test = split(families)
    work = assistant_work_families()
    clash = {f.family for f in families} & {f.family for f in work}
    if clash:
        raise InvalidRequest(f"family ids {sorted(clash)[:3]} are taken by the assistant-work families (work-*)")
    train = sorted([*train, *work], key=lambda f: f.family)
    body = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows(test))
    digest = hashlib.sha256(body.encode()).hexdigest()
    if digest != FROZEN_TEST_SHA256:
        raise InvalidRequest(
            f"the test split would change (sha256 {digest}, frozen {FROZEN_TEST_SHA256}); test families are "
            "frozen: add new phrasings as new families (they go to train) instead of editing test families"
        )
    train_digest = write_jsonl(directory / "train.jsonl", rows(train))
    return [
        f"train.jsonl: {sum(len(f.texts) for f in train)} rows from {len(train)} families, sha256 {train_digest}",
        f"test.jsonl: unchanged (frozen), {sum(len(f.texts) for f in test)} rows from {len(test)} families",
    ]
