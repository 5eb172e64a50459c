"""Masking by offsets: detected spans become typed placeholders; text outside spans is untouched."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from keel.privacy.recognizers import Entity, find_structured, resolve
from keel.privacy.vault import Vault

Mode = Literal["full", "fast"]


class NameFinder(Protocol):
    """Finds PERSON/LOCATION spans (Presidio + spaCy in production, a fake in tests)."""

    def find(self, text: str) -> list[Entity]:
        """Entities found in text."""
        ...


@dataclass(frozen=True)
class MaskedEntity:
    """One replaced span: its type, offsets in the original text, and its placeholder."""

    type: str
    start: int
    end: int
    placeholder: str


@dataclass(frozen=True)
class Masked:
    """The masked text and what was replaced."""

    text: str
    entities: tuple[MaskedEntity, ...]


class PiiMasker:
    """Detects PII and replaces it with placeholders from the conversation's vault.

    mode="fast" uses only the regex recognizers (no spaCy import); "full" adds names. Bare places (a city, a
    country, an office location with no street) are not among the kinds R9 asks to mask, and masking them hurts
    answers ("the holiday calendar of the Berlin office"): the name finder's LOCATION spans are dropped unless
    `places=True`. Street addresses are always masked (the ADDRESS recognizers, in both modes).
    """

    def __init__(self, mode: Mode = "full", ner: NameFinder | None = None, *, places: bool = False) -> None:
        if mode not in ("full", "fast"):
            raise ValueError("PiiMasker mode must be 'full' or 'fast'")
        self.mode = mode
        self.places = places
        self._ner = ner

    def _names(self, text: str) -> list[Entity]:
        if self.mode == "fast":
            return []
        if self._ner is None:
            from keel.privacy.ner import PresidioNer

            self._ner = PresidioNer()
        return [e for e in self._ner.find(text) if self.places or e.type != "LOCATION"]

    def detect(self, text: str) -> list[Entity]:
        """Non-overlapping entities in text, by offsets."""
        return resolve(find_structured(text) + self._names(text), text)

    def mask(self, text: str, vault: Vault, origin: str = "user") -> Masked:
        """Replace every detected span with its placeholder (offsets only, never a regex of the value)."""
        entities = self.detect(text)
        parts: list[str] = []
        masked: list[MaskedEntity] = []
        cursor = 0
        for entity in entities:
            placeholder = vault.placeholder_for(entity.type, text[entity.start : entity.end], origin)
            parts.append(text[cursor : entity.start])
            parts.append(placeholder)
            masked.append(MaskedEntity(entity.type, entity.start, entity.end, placeholder))
            cursor = entity.end
        parts.append(text[cursor:])
        return Masked("".join(parts), tuple(masked))
