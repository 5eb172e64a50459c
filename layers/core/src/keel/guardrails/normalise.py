"""Normalisation against obfuscation: what the detectors see is the intent, not the disguise."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass, field

# Invisible characters used to split trigger words ("ig\u200bnore") and bidi controls that reorder text.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)

# Letters from other scripts that look like Latin ones; NFKC does not fold these.
_HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
        "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
        "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C",
        "Т": "T", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "χ": "x",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        "ı": "i", "ℓ": "l", "ß": "ss",
    }
)  # fmt: skip

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
# A word that mixes letters with leet digits/symbols ("1gn0r3", "pr0mpt"), not plain numbers.
_LEET_WORD = re.compile(r"(?=\S*[a-zA-Z])(?=\S*[013457@$!])[a-zA-Z0134579@$!]{3,}")
_EMAIL_AT = re.compile(r"[A-Za-z0-9]@[A-Za-z]")
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{16,}={0,2}(?![A-Za-z0-9+/=])")
_HEX = re.compile(r"(?<![0-9a-fA-F])(?:[0-9a-fA-F]{2}[\s:]?){8,}(?![0-9a-fA-F])")
_SPACED = re.compile(r"\b(?:[A-Za-z][ .\-_*]){3,}[A-Za-z]\b")
_ROT13_HINT = re.compile(r"\brot[\s-]?13\b|\bcaesar\b", re.IGNORECASE)
_COMMON = frozenset(
    [
        "the",
        "you",
        "your",
        "and",
        "ignore",
        "all",
        "previous",
        "instructions",
        "system",
        "prompt",
        "reveal",
        "tell",
        "me",
        "what",
        "are",
        "is",
        "to",
        "of",
        "now",
        "act",
        "as",
        "print",
        "say",
        "password",
        "admin",
        "secret",
        "rules",
        "forget",
        "disregard",
    ]
)


# Frequent function words of the eight screened languages: reversed or rot13 text that suddenly contains
# many of them was written to hide its meaning.
_FUNCTION_WORD_LINES = (
    "the and you your to of is are all me what now from this that with for",
    "le la les de des et tu ton tes vous est une un pour que qui pas dans ta moi toi je il elle nous on ce ces mes",
    "mon ma sur au aux en ne plus tout toute",
    "der die das und du dein ist nicht mit ein eine zu von den ich mir mich dich dir deine meine alle jetzt sie es",
    "wir auf im in an dem dass",
    "el los las y es por para una con del me mi te ti tus mis lo se al no todo todas ahora",
    "il lo gli e di che per non sono tuo tua ora tutto tutte",
    "het een en je jouw van niet met voor dat zijn ik mij jij op te nu wat",
    "i w na nie jest z do się to że ja ty ci mnie ciebie twoje od po jak co teraz wszystkie",
    "o os e que do da um uma não para com eu teu tuas as no em agora todos",
)
_FUNCTION_WORDS = frozenset(word for line in _FUNCTION_WORD_LINES for word in line.split())


@dataclass(frozen=True)
class Normalised:
    """The folded text plus any decoded hidden payloads; detectors screen all of `views`."""

    text: str
    decoded: tuple[str, ...] = ()
    obfuscation: tuple[str, ...] = field(default=())

    @property
    def views(self) -> tuple[str, ...]:
        """Every variant a detector should judge."""
        return (self.text, *self.decoded)


def fold(text: str) -> str:
    """NFKC, invisible-character stripping and homoglyph folding (keeps the text readable)."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    return text.translate(_HOMOGLYPHS)


def _printable_share(text: str) -> float:
    if not text:
        return 0.0
    good = sum(1 for ch in text if ch.isprintable() or ch in "\n\t")
    return good / len(text)


def _looks_like_language(text: str) -> bool:
    words = re.findall(r"[a-zA-Z]{2,}", text.lower())
    if len(words) < 2:
        return False
    return sum(1 for w in words if w in _COMMON) >= 1 and _printable_share(text) > 0.95


def _decode_base64(text: str) -> list[str]:
    out = []
    for match in _BASE64.finditer(text):
        blob = match.group(0)
        try:
            raw = base64.b64decode(blob + "=" * (-len(blob) % 4), validate=False)
            decoded = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
        if _looks_like_language(decoded):
            out.append(decoded)
    return out


def _decode_hex(text: str) -> list[str]:
    out = []
    for match in _HEX.finditer(text):
        digits = re.sub(r"[\s:]", "", match.group(0))
        try:
            decoded = bytes.fromhex(digits[: len(digits) // 2 * 2]).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if _looks_like_language(decoded):
            out.append(decoded)
    return out


def _function_word_hits(text: str) -> int:
    # Palindromes ("a", "ese") read the same both ways and say nothing about direction.
    words = (w for w in re.findall(r"\w+", text.lower()) if len(w) > 1 and w != w[::-1])
    return sum(1 for w in words if w in _FUNCTION_WORDS or w in _COMMON)


def _decode_rot13(text: str) -> list[str]:
    rotated = codecs.decode(text, "rot13")
    words = re.findall(r"[a-z]{2,}", text.lower())
    plain_hits = sum(1 for w in words if w in _COMMON)
    rot_hits = sum(1 for w in re.findall(r"[a-z]{2,}", rotated.lower()) if w in _COMMON)
    # Only when the rotated text reads far more like English than the original (or rot13 is named).
    if rot_hits >= 2 and (rot_hits > 2 * plain_hits or _ROT13_HINT.search(text)):
        return [rotated]
    # Other languages: rot13 is named and the rotated text reads like language where the original did not.
    if _ROT13_HINT.search(text) and _function_word_hits(rotated) >= 3 > _function_word_hits(text):
        return [rotated]
    return []


def _decode_reversed(text: str) -> list[str]:
    backwards = text[::-1]
    forward_hits, backward_hits = _function_word_hits(text), _function_word_hits(backwards)
    if (backward_hits >= 3 and backward_hits >= 2 * forward_hits) or (backward_hits >= 2 and forward_hits == 0):
        return [backwards]
    return []


def _decode_leet(text: str) -> list[str]:
    # An e-mail address ("marta@acme") mixes letters and "@" but is not leetspeak.
    words = [w for w in _LEET_WORD.findall(text) if not _EMAIL_AT.search(w)]
    if len(words) < 2:
        return []
    return [_LEET_WORD.sub(lambda m: m.group(0).translate(_LEET), text)]


def _despace(text: str) -> list[str]:
    found = _SPACED.findall(text)
    if not found:
        return []
    return [_SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), text)]


def normalise(text: str) -> Normalised:
    """Fold the text and decode base64, hex, rot13, reversed text, leetspeak and s-p-a-c-e-d words found in it."""
    folded = fold(text)
    tags = []
    if folded != unicodedata.normalize("NFKC", text):
        tags.append("invisible_or_homoglyph")
    decoded: list[str] = []
    for tag, decoder in (
        ("base64", _decode_base64),
        ("hex", _decode_hex),
        ("rot13", _decode_rot13),
        ("reversed", _decode_reversed),
        ("leetspeak", _decode_leet),
        ("spaced", _despace),
    ):
        found = [fold(d) for d in decoder(folded) if d and d != folded]
        if found:
            tags.append(tag)
            decoded.extend(found)
    return Normalised(text=folded, decoded=tuple(dict.fromkeys(decoded)), obfuscation=tuple(tags))
