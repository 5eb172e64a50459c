"""A loopback server speaking the OpenAI chat completions protocol, as Ollama, vLLM and llama.cpp serve it.

It records every request body (so a test can assert what left Keel) and answers from the first
``<source doc_id=...>`` block of the last user message, citing it, or with a scripted status or tool call.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_SOURCE = re.compile(r'<source [^>]*doc_id="([^"]+)"[^>]*>\s*(.+?)</source>', re.DOTALL)


@dataclass
class OpenAICompatibleServer:
    """Answers POST /v1/chat/completions; ``status`` and ``tool_call`` script the next answers."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    tool_call: dict[str, Any] | None = None
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        """Serve on a free loopback port; the base URL (with /v1)."""
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                state.requests.append(body)
                if state.status != 200:
                    self._send(state.status, {"error": {"message": "scripted failure"}}, retry_after="3")
                    return
                self._send(200, state.answer(body))

            def _send(self, status: int, payload: dict[str, Any], retry_after: str | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if retry_after and status == 429:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        """A completion in the protocol's shape."""
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        finish = "stop"
        if self.tool_call is not None and body.get("tools"):
            message["tool_calls"] = [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": self.tool_call["name"], "arguments": json.dumps(self.tool_call["input"])},
                }
            ]
            finish = "tool_calls"
        else:
            found = _SOURCE.search(last)
            if found:
                sentence = found.group(2).strip().split(". ")[0].rstrip(".")
                message["content"] = f"{sentence}. [{found.group(1)}]"
            else:
                message["content"] = "I could not find this in the sources available to me."
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        completion = len(str(message["content"]).split())
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }
