"""Names and addresses through Amazon Comprehend (DetectPiiEntities): the NameFinder used in AWS, where the
spaCy model does not fit the Lambda package. Structured PII stays with the checksum-validated recognizers."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import ServiceUnavailable
from keel.privacy.recognizers import Entity

# Comprehend's types that the regex recognizers do not already cover, mapped to Keel's placeholder types.
TYPES = {"NAME": "PERSON", "ADDRESS": "ADDRESS", "DATE_TIME": "DATE_OF_BIRTH"}
MAX_BYTES = 100_000  # DetectPiiEntities accepts at most 100 KB of UTF-8 per call


class ComprehendNameFinder:
    """Finds PERSON and ADDRESS spans with Comprehend; a failure refuses the turn rather than leak names."""

    def __init__(self, client: Any, *, min_score: float = 0.6, language: str = "en") -> None:
        self._client = client
        self._min_score = min_score
        self._language = language

    def find(self, text: str) -> list[Entity]:
        """Entities by character offsets into text."""
        if not text.strip():
            return []
        if len(text.encode("utf-8")) > MAX_BYTES:
            raise ServiceUnavailable("the message is too long to screen for personal data; shorten it")
        try:
            response = self._client.detect_pii_entities(Text=text, LanguageCode=self._language)
        except (ClientError, BotoCoreError) as exc:
            # Masking is a precondition of every model call: without it the turn must not go on.
            raise ServiceUnavailable("personal data cannot be screened right now; try again shortly") from exc
        found = []
        for item in response.get("Entities", []):
            kind = TYPES.get(str(item.get("Type")))
            if kind is None or float(item.get("Score", 0.0)) < self._min_score:
                continue
            if kind == "DATE_OF_BIRTH":
                continue  # dates are masked only as dates of birth, which the recognizers detect by context
            found.append(Entity(kind, int(item["BeginOffset"]), int(item["EndOffset"]), float(item["Score"])))
        return found
