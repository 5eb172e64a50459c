"""How the agent console orders its queue (R18): urgency, then age; and the language the user wrote in, so an
agent who reads it can pick the conversation up.

The escalation decision records an urgency (urgent for self-harm and fear for safety, high for fraud, legal
threats and other vulnerability) and the user's language on the escalation (issue 18); the queue takes the
more urgent of that and the reason's own rank, and the recorded language unless it is unknown."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from keel.escalation.records import EscalationRecord

# Ranked by what waiting costs the user: a risky or angry conversation before one the bot was unsure about.
URGENCY_BY_REASON = {
    "high_risk_intent": "high",
    "negative_sentiment": "high",
    "explicit_request": "normal",
    "system_failure": "normal",
    "low_confidence": "low",
}
URGENCY_RANK = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
# Below this many letters a language guess is noise ("ok", "help!"): the queue says it is unknown.
MIN_LETTERS = 12
UNKNOWN = "und"
# PII placeholders (<EMAIL_1>) are Keel's words, not the user's: they must not vote for English.
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*_\d+>")
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "hi": "Hindi",
    "hu": "Hungarian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}


@dataclass(frozen=True)
class Triage:
    """What the queue shows beside each escalation."""

    urgency: str
    language: str

    @property
    def language_name(self) -> str:
        """The language's English name, its code when unnamed, or 'unknown language'."""
        if self.language == UNKNOWN:
            return "unknown language"
        return LANGUAGE_NAMES.get(self.language, self.language)

    def fields(self) -> dict[str, Any]:
        """The queue item's triage fields."""
        return {"urgency": self.urgency, "language": self.language, "language_name": self.language_name}


def urgency(reason: str) -> str:
    """high, normal or low; a reason the table does not know is normal."""
    return URGENCY_BY_REASON.get(reason, "normal")


_lock = threading.Lock()


@functools.cache
def _identifier() -> Any:
    # Imported and loaded on first use (about 0.5 s once per warm container), never at import time.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def language(text: str) -> str:
    """The ISO 639-1 code of the text's language, or 'und' when the text is too short or the guess is weak."""
    text = _PLACEHOLDER.sub(" ", text)
    letters = sum(ch.isalpha() for ch in text)
    if letters < MIN_LETTERS:
        return UNKNOWN
    with _lock:  # the identifier keeps per-call state in numpy buffers: one classification at a time
        code, probability = _identifier().classify(text)
    return str(code) if probability >= 0.5 else UNKNOWN


def triage(record: EscalationRecord) -> Triage:
    """The urgency and language of one escalation: as the decision recorded them, else from reason and text."""
    level = urgency(record.reason)
    # "normal" is also what a decision without a particular urgency records: only a raise counts.
    if record.urgency in ("urgent", "high") and URGENCY_RANK[record.urgency] < URGENCY_RANK[level]:
        level = record.urgency
    recorded = record.language if record.language != UNKNOWN else ""
    return Triage(level, recorded or language(record.summary))


def ordered(records: Iterable[EscalationRecord]) -> list[tuple[EscalationRecord, Triage]]:
    """Most urgent first; within one urgency the longest waiting first."""
    rows = [(record, triage(record)) for record in records]
    return sorted(rows, key=lambda row: (URGENCY_RANK[row[1].urgency], row[0].created_at))
