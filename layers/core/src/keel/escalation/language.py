"""The language a user writes in, for the handoff (the agent who picks it up) and for the per-language report."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from keel.lazy import Lazy

# The languages of the shared encoder (USE multilingual v3); anything else is reported as "und".
LANGUAGES = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
UNDETERMINED = "und"
MIN_PROBABILITY = 0.5
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def detect(texts: Sequence[str]) -> str:
    """ISO 639-1 code of the latest user messages taken together (one word alone is too little to tell)."""
    sample = " ".join(t for t in texts[-3:] if t)[-600:]
    if len(_LETTER.findall(sample)) < 3:
        return UNDETERMINED
    language, probability = _identifier().classify(sample)
    return str(language) if probability >= MIN_PROBABILITY else UNDETERMINED


@Lazy
def _identifier() -> Any:
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier
