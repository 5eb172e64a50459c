"""Surface edits for training the escalation heads: the same request as people actually type it.

Every corpus text is written with care (capitals, accents, punctuation, no reference numbers), so the heads learnt
that surface: measured on 400 training conversations with the round-7 heads, appending "It was 123.45 EUR."
changed one decision in five (an explicit request for a person among them), and writing the message in lower case
without punctuation turned 35 rows that stay with the bot into handoffs. `keel escalation train` adds copies of
every example (the corpus builder's opening questions too, so that no edit goes with one reason more than another)
with one or two of the edits below, with the example's labels and in its family (so a copy never sits in the other
half of a cross-validation fold from its original); the thresholds are still chosen on the original rows only.

The edits leave the meaning alone: a typo, lower case without punctuation, no accents, a reference number, an
amount. Other edits (`PROBES`: a date, a greeting, thanks, a dropped letter, an amount in a sentence, a ticket
number) are kept out of training to measure whether the heads learnt the invariance or only these edits
(`keel escalation report FILE --robustness`).
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata
from collections.abc import Callable

_WORD = re.compile(r"[^\W\d_]{5,}")
_PUNCTUATION = re.compile(r"[^\w\s']")


def _rng(text: str, salt: str) -> random.Random:
    """Seeded by the text, so training is reproducible and one text always gets the same copies."""
    return random.Random(int.from_bytes(hashlib.sha256(f"{salt}\x00{text}".encode()).digest()[:8], "big"))


def swap_letters(text: str, rng: random.Random) -> str:
    """Two neighbouring letters of one longer word swapped ("acount" typed as "acocunt")."""
    words = list(_WORD.finditer(text))
    if not words:
        return text
    word = rng.choice(words)
    at = rng.randrange(word.start(), word.end() - 1)
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def casual(text: str, rng: random.Random) -> str:
    """Lower case without punctuation, as typed on a phone."""
    del rng
    return " ".join(_PUNCTUATION.sub(" ", text.lower()).split())


def without_accents(text: str, rng: random.Random) -> str:
    """Accents left out ("resilier", "Kundigung"), as typed on a keyboard of another language."""
    del rng
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


_REFERENCES = ("#{n}", "(ref {n})", "ref. {n}", "nr {n}", "REF-{n}", "({n})", "no. {n}")
_AMOUNTS = ("{a} EUR", "€{a}", "£{a}", "${a}", "{a} zł", "CHF {a}", "{a}€")


def reference(text: str, rng: random.Random) -> str:
    """A short reference number (an order, a ticket) at the end or after the first word."""
    mark = rng.choice(_REFERENCES).format(n=rng.randint(100, 99_999))
    return _placed(text, mark, rng)


def amount(text: str, rng: random.Random) -> str:
    """A bare amount of money at the end or after the first word."""
    value = f"{rng.randint(5, 2_500)}" if rng.random() < 0.5 else f"{rng.randint(5, 999)}.{rng.randint(0, 99):02d}"
    return _placed(text, f"({rng.choice(_AMOUNTS).format(a=value)})", rng)


def _placed(text: str, mark: str, rng: random.Random) -> str:
    head, _, tail = text.partition(" ")
    if tail and rng.random() < 0.3:
        return f"{head} {mark} {tail}"
    return f"{text.rstrip()} {mark}"


EDITS: dict[str, Callable[[str, random.Random], str]] = {
    "swap_letters": swap_letters,
    "casual": casual,
    "without_accents": without_accents,
    "reference": reference,
    "amount": amount,
}


def variants(text: str, copies: int) -> list[tuple[str, str]]:
    """Up to `copies` edited forms of the text, each with one or two edits (named in the first item), different
    from the text and from each other."""
    rng = _rng(text, "variants")
    names = list(EDITS)
    out: list[tuple[str, str]] = []
    seen = {text}
    for _ in range(copies * 3):
        if len(out) == copies:
            break
        chosen = rng.sample(names, 2 if rng.random() < 0.4 else 1)
        edited = text
        for name in chosen:
            edited = EDITS[name](edited, rng)
        if edited.strip() and edited not in seen:
            seen.add(edited)
            out.append(("+".join(chosen), edited))
    return out


def _drop_letter(text: str, rng: random.Random) -> str:
    words = list(_WORD.finditer(text))
    if not words:
        return text
    word = rng.choice(words)
    at = rng.randrange(word.start() + 1, word.end())
    return text[:at] + text[at + 1 :]


# Edits never applied in training, to measure whether the heads hold on a surface they did not see:
# (name, whether a training edit is close to it, the edit).
PROBES: tuple[tuple[str, bool, Callable[[str, random.Random], str]], ...] = (
    ("date in front", False, lambda t, r: f"{r.randint(1, 28)}/{r.randint(1, 12)}/2026: {t}"),
    ("greeting in front", False, lambda t, r: f"Hi, {t[:1].lower()}{t[1:]}"),
    ("thanks after", False, lambda t, r: f"{t.rstrip()} Thanks."),
    ("dropped letter", False, _drop_letter),
    ("amount in a sentence", True, lambda t, r: f"{t.rstrip()} It was {r.randint(10, 999)}.{r.randint(10, 99)} EUR."),
    ("ticket number", True, lambda t, r: f"{t.rstrip()} (ticket {r.randint(1000, 9999)})"),
)


def probe(name: str, text: str) -> str:
    """The text with the named probe edit, seeded by the text."""
    edit = next(e for n, _, e in PROBES if n == name)
    return edit(text, _rng(text, name))
