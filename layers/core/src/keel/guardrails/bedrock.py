"""Bedrock Guardrails (ApplyGuardrail) as an extra input layer, used only when a guardrail is configured."""

from __future__ import annotations

from typing import Any

from keel.errors import ServiceUnavailable
from keel.guardrails.verdict import Verdict

# A content filter's confidence when it reports without blocking (below the configured strength).
_CONFIDENCE = {"NONE": 0.0, "LOW": 0.3, "MEDIUM": 0.6, "HIGH": 0.9}


class BedrockGuardrail:
    """Calls ApplyGuardrail through an injected bedrock-runtime client."""

    def __init__(self, client: Any, guardrail_id: str, version: str = "DRAFT") -> None:
        self.client = client
        self.guardrail_id = guardrail_id
        self.version = version

    def screen(self, text: str, source: str = "INPUT") -> Verdict:
        """Block when Bedrock intervenes; categories name the policies that fired."""
        response = self._apply(text, source)
        if response.get("action") != "GUARDRAIL_INTERVENED":
            return Verdict("allow", 0.0)
        categories: list[str] = []
        for assessment in response.get("assessments", []):
            categories.extend(f"bedrock_{key}" for key in assessment)
        return Verdict("block", 1.0, tuple(dict.fromkeys(categories)) or ("bedrock",), ("bedrock intervened",))

    def toxicity(self, text: str) -> float:
        """The answer's toxicity in [0, 1] from the content filters alone (source OUTPUT).

        1.0 when a content filter blocked it (at the guardrail's configured strength), else the highest
        confidence a filter reported. Other policies (sensitive information, denied topics) are not
        toxicity: Keel's own output check judges leaks, so an intervention for them scores 0 here.
        """
        response = self._apply(text, "OUTPUT")
        score = 0.0
        for assessment in response.get("assessments", []):
            for found in assessment.get("contentPolicy", {}).get("filters", []):
                if found.get("type") == "PROMPT_ATTACK":
                    continue  # an input filter; it says nothing about an answer's toxicity
                if found.get("action") == "BLOCKED":
                    return 1.0
                score = max(score, _CONFIDENCE.get(str(found.get("confidence", "NONE")), 0.0))
        return score

    def _apply(self, text: str, source: str) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = self.client.apply_guardrail(
                guardrailIdentifier=self.guardrail_id,
                guardrailVersion=self.version,
                source=source,
                content=[{"text": {"text": text}}],
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the content safety service is unavailable") from exc
        return response
