"""Bedrock Guardrails (ApplyGuardrail) as an extra input layer, used only when a guardrail is configured."""

from __future__ import annotations

from typing import Any

from keel.errors import ServiceUnavailable
from keel.guardrails.verdict import Verdict


class BedrockGuardrail:
    """Calls ApplyGuardrail through an injected bedrock-runtime client."""

    def __init__(self, client: Any, guardrail_id: str, version: str = "DRAFT") -> None:
        self.client = client
        self.guardrail_id = guardrail_id
        self.version = version

    def screen(self, text: str, source: str = "INPUT") -> Verdict:
        """Block when Bedrock intervenes; categories name the policies that fired."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self.client.apply_guardrail(
                guardrailIdentifier=self.guardrail_id,
                guardrailVersion=self.version,
                source=source,
                content=[{"text": {"text": text}}],
            )
        except (ClientError, BotoCoreError) as exc:
            raise ServiceUnavailable("the content safety service is unavailable") from exc
        if response.get("action") != "GUARDRAIL_INTERVENED":
            return Verdict("allow", 0.0)
        categories: list[str] = []
        for assessment in response.get("assessments", []):
            categories.extend(f"bedrock_{key}" for key in assessment)
        return Verdict("block", 1.0, tuple(dict.fromkeys(categories)) or ("bedrock",), ("bedrock intervened",))
