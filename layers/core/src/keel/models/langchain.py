"""ChatModel through langchain-aws ChatBedrockConverse; imported lazily, kept off the chat handler's path.

`import langchain_aws` costs most of a second, so the Lambda handler uses keel.models.bedrock; this
adapter is for workers and notebooks that want LangChain's tooling around the same Converse API.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.models.bedrock import from_first_user, translate
from keel.models.ports import ChatMessage, Completion, ToolCall, ToolSpec


class LangChainConverseModel:
    """ChatModel over ChatBedrockConverse, given a boto3 bedrock-runtime client."""

    def __init__(self, client: Any, *, temperature: float = 0.0) -> None:
        self._client = client
        self._temperature = temperature

    def converse(
        self,
        model_id: str,
        system: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """One Converse call through LangChain; errors translated like the boto3 adapter's."""
        from langchain_aws import ChatBedrockConverse
        from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

        chat: Any = ChatBedrockConverse(
            model=model_id, client=self._client, max_tokens=max_tokens, temperature=self._temperature
        )
        if tools:
            chat = chat.bind_tools(
                [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools]
            )
        prompt: list[BaseMessage] = [SystemMessage(system)] if system else []
        # langchain-aws merges consecutive messages of one role; a history cut to a window may start with a reply.
        prompt += [HumanMessage(m.text) if m.role == "user" else AIMessage(m.text) for m in from_first_user(messages)]
        started = time.perf_counter()
        try:
            result = chat.invoke(prompt)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, model_id) from exc
        usage = result.usage_metadata or {}
        return Completion(
            text=result.text if isinstance(result.text, str) else str(result.content),
            model_id=model_id,
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            latency_ms=(time.perf_counter() - started) * 1000,
            stop_reason=str(result.response_metadata.get("stopReason", "end_turn")),
            tool_calls=tuple(ToolCall(str(c["id"]), c["name"], dict(c["args"])) for c in result.tool_calls),
        )
