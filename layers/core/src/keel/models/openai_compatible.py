"""A ChatModel over the OpenAI-compatible chat completions protocol (Ollama, vLLM, llama.cpp server).

Optional, for the local stack only: a developer who runs a real model on the laptop points Keel at it
through settings (``KEEL_MODEL_PROVIDER=openai-compatible``). It sits behind the same router, budgets,
masking and output checks as Bedrock: it only receives what the router sends, already masked.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

from keel.errors import ModelUnavailable, RateLimited
from keel.models.ports import ChatMessage, Completion, ToolCall, ToolSpec

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "function_call": "tool_use"}


class OpenAICompatibleChatModel:
    """ChatModel through ``POST {base_url}/chat/completions``; every role's model id maps to ``model``."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout: float = 60.0) -> None:
        """``base_url`` ends with the API version, e.g. http://127.0.0.1:11434/v1 for Ollama."""
        self._url = base_url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key = api_key
        self._timeout = timeout

    def converse(
        self,
        model_id: str,
        system: str,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        tools: Sequence[ToolSpec] = (),
    ) -> Completion:
        """One chat completion; RateLimited on 429, ModelUnavailable on any other failure."""
        body: dict[str, Any] = {
            "model": self._model,
            "messages": ([{"role": "system", "content": system}] if system else [])
            + [{"role": m.role, "content": m.text} for m in messages],
            "max_tokens": max_tokens,
            "temperature": 0.0,
            "stream": False,
        }
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
                }
                for t in tools
            ]
        started = time.perf_counter()
        payload = self._post(body, model_id)
        latency_ms = (time.perf_counter() - started) * 1000
        try:
            choice = payload["choices"][0]
            message = choice.get("message") or {}
            calls = tuple(
                ToolCall(
                    str(call.get("id") or f"call-{n}"),
                    str(call["function"]["name"]),
                    _arguments(call["function"].get("arguments")),
                )
                for n, call in enumerate(message.get("tool_calls") or [])
            )
            usage = payload.get("usage") or {}
            return Completion(
                text=str(message.get("content") or ""),
                model_id=model_id,
                input_tokens=int(usage.get("prompt_tokens", 0)),
                output_tokens=int(usage.get("completion_tokens", 0)),
                latency_ms=latency_ms,
                stop_reason=_STOP_REASONS.get(str(choice.get("finish_reason")), "end_turn"),
                tool_calls=calls,
            )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ModelUnavailable(
                f"the OpenAI-compatible server at {self._url} answered {model_id} with no usable choice ({exc})"
            ) from exc

    def _post(self, body: dict[str, Any], model_id: str) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(  # noqa: S310 - the configured local server
            self._url, data=json.dumps(body).encode(), method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                data: dict[str, Any] = json.loads(response.read())
                return data
        except urllib.error.HTTPError as exc:
            if exc.code == 429:
                retry = exc.headers.get("Retry-After", "1")
                raise RateLimited(
                    f"{model_id} is throttled by the local model server",
                    retry_after=int(retry) if retry.isdigit() else 1,
                ) from exc
            raise ModelUnavailable(f"the OpenAI-compatible server at {self._url} answered HTTP {exc.code}") from exc
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"the OpenAI-compatible server at {self._url} is not answering ({type(exc).__name__})"
            ) from exc


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    parsed = json.loads(raw or "{}")
    if not isinstance(parsed, dict):
        raise ValueError("tool arguments are not a JSON object")
    return parsed
