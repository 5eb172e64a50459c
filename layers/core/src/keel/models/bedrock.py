"""ChatModel over the Bedrock Runtime Converse API through boto3 (no langchain on the handler's path)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import InvalidRequest, ModelUnavailable, RateLimited
from keel.models.ports import ChatMessage, Completion, ToolCall, ToolSpec

# Bedrock error codes that mean "slow down", and those that mean the request itself was wrong.
THROTTLING_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "ServiceQuotaExceededException"})
REQUEST_CODES = frozenset({"ValidationException", "AccessDeniedException", "ResourceNotFoundException"})


def client_config(
    *, read_timeout: float, connect_timeout: float = 2.0, max_attempts: int = 2, max_pool: int = 32
) -> Config:
    """botocore Config for bedrock-runtime: bounded timeouts, few SDK retries (the router retries)."""
    # Standard mode retries transient connection errors and 5xx with its own jitter; throttling is
    # retried by keel.models.resilience so the fallback chain and the budget see every attempt.
    return Config(
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        max_pool_connections=max_pool,
        tcp_keepalive=True,
    )


def translate(exc: Exception, model_id: str) -> Exception:
    """The keel error for a botocore error raised while calling model_id."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        if code in THROTTLING_CODES or status == 429:
            retry_after = _retry_after(exc.response)
            return RateLimited(
                f"model {model_id} is throttling requests; retry after {retry_after} s",
                retry_after=retry_after,
                details={"model_id": model_id, "code": code},
            )
        if code in REQUEST_CODES:
            # Wrong model id, no access, bad request: no other attempt can succeed, but to the user it
            # is still "the model is unavailable", while operators see the code.
            return ModelUnavailable(
                f"model {model_id} refused the request ({code})",
                details={"model_id": model_id, "code": code, "permanent": True},
            )
        return ModelUnavailable(
            f"model {model_id} failed ({code or status})", details={"model_id": model_id, "code": code}
        )
    if isinstance(exc, BotoCoreError):
        return ModelUnavailable(
            f"model {model_id} could not be reached ({type(exc).__name__})",
            details={"model_id": model_id, "code": type(exc).__name__},
        )
    return exc


def _retry_after(response: Any) -> int:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {}) or {}
    value = headers.get("retry-after")
    try:
        return max(1, int(float(value))) if value is not None else 1
    except ValueError:
        return 1


def from_first_user(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """The messages from the first user message on: Converse rejects a conversation that starts with the assistant,
    and cutting a history to a window can start it there."""
    if not messages:
        raise InvalidRequest("a model call needs at least one message")
    start = next((i for i, m in enumerate(messages) if m.role == "user"), None)
    if start is None:
        raise InvalidRequest("a model call needs a user message")
    return list(messages[start:])


def to_converse_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Converse messages from the first user message on; consecutive messages of one role are merged because
    Converse requires turns."""
    converted: list[dict[str, Any]] = []
    for message in from_first_user(messages):
        if converted and converted[-1]["role"] == message.role:
            converted[-1]["content"].append({"text": message.text})
        else:
            converted.append({"role": message.role, "content": [{"text": message.text}]})
    return converted


def tool_config(tools: Sequence[ToolSpec]) -> dict[str, Any]:
    """The Converse toolConfig for tools."""
    return {
        "tools": [
            {"toolSpec": {"name": t.name, "description": t.description, "inputSchema": {"json": t.input_schema}}}
            for t in tools
        ]
    }


class BedrockConverseModel:
    """ChatModel through boto3's bedrock-runtime client (Converse and ConverseStream)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def converse(
        self,
        model_id: str,
        system: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """One Converse call; raise RateLimited on throttling and ModelUnavailable on any other failure."""
        request = self._request(model_id, system, messages, max_tokens, tools)
        started = time.perf_counter()
        try:
            response = self._client.converse(**request)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, model_id) from exc
        latency_ms = (time.perf_counter() - started) * 1000
        content = response.get("output", {}).get("message", {}).get("content", []) or []
        text = "".join(block.get("text", "") for block in content)
        calls = tuple(
            ToolCall(b["toolUse"]["toolUseId"], b["toolUse"]["name"], dict(b["toolUse"].get("input") or {}))
            for b in content
            if "toolUse" in b
        )
        usage = response.get("usage", {}) or {}
        return Completion(
            text=text,
            model_id=model_id,
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
            latency_ms=latency_ms,
            stop_reason=str(response.get("stopReason", "end_turn")),
            tool_calls=calls,
        )

    def converse_stream(
        self, model_id: str, system: str, messages: list[ChatMessage], *, max_tokens: int
    ) -> ConverseStream:
        """Start a ConverseStream call; iterate the result for text deltas, then read `.completion`."""
        request = self._request(model_id, system, messages, max_tokens, ())
        started = time.perf_counter()
        try:
            response = self._client.converse_stream(**request)
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, model_id) from exc
        return ConverseStream(model_id, response["stream"], started)

    @staticmethod
    def _request(
        model_id: str, system: str, messages: list[ChatMessage], max_tokens: int, tools: Sequence[ToolSpec]
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "modelId": model_id,
            "messages": to_converse_messages(messages),
            "inferenceConfig": {"maxTokens": max_tokens, "temperature": 0.0},
        }
        if system:
            request["system"] = [{"text": system}]
        if tools:
            request["toolConfig"] = tool_config(tools)
        return request


class ConverseStream:
    """Text deltas of a ConverseStream response; `.completion` holds usage once it is exhausted."""

    def __init__(self, model_id: str, events: Any, started: float) -> None:
        self._model_id = model_id
        self._events = events
        self._started = started
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[str]:
        """Yield each text delta; raise RateLimited or ModelUnavailable if the stream breaks."""
        parts: list[str] = []
        tool_inputs: dict[int, list[str]] = {}
        tool_heads: dict[int, dict[str, Any]] = {}
        usage: dict[str, Any] = {}
        stop_reason = "end_turn"
        try:
            for event in self._events:
                if "contentBlockStart" in event:
                    start = event["contentBlockStart"]
                    if "toolUse" in start.get("start", {}):
                        tool_heads[start["contentBlockIndex"]] = start["start"]["toolUse"]
                elif "contentBlockDelta" in event:
                    block = event["contentBlockDelta"]
                    delta = block.get("delta", {})
                    if "text" in delta:
                        parts.append(delta["text"])
                        yield delta["text"]
                    elif "toolUse" in delta:
                        tool_inputs.setdefault(block["contentBlockIndex"], []).append(delta["toolUse"]["input"])
                elif "messageStop" in event:
                    stop_reason = event["messageStop"].get("stopReason", stop_reason)
                elif "metadata" in event:
                    usage = event["metadata"].get("usage", {}) or {}
        except (ClientError, BotoCoreError) as exc:
            raise translate(exc, self._model_id) from exc
        calls = tuple(
            ToolCall(head["toolUseId"], head["name"], json.loads("".join(tool_inputs.get(index, [])) or "{}"))
            for index, head in sorted(tool_heads.items())
        )
        self.completion = Completion(
            text="".join(parts),
            model_id=self._model_id,
            input_tokens=int(usage.get("inputTokens", 0)),
            output_tokens=int(usage.get("outputTokens", 0)),
            latency_ms=(time.perf_counter() - self._started) * 1000,
            stop_reason=str(stop_reason),
            tool_calls=calls,
        )
