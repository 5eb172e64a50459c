"""A local stand-in for Bedrock Runtime: Converse and ConverseStream on 127.0.0.1, with scriptable faults.

It answers deterministically and extractively from the <source> blocks in the last user message
(keel.models.extractive), so it can never invent a fact. boto3's bedrock-runtime client and
langchain-aws ChatBedrockConverse talk to it unchanged through ``endpoint_url``.

Control endpoints for tests: ``POST /_faults``, ``GET|DELETE /_faults``, ``GET|DELETE /_requests``,
``GET /healthz``. Run standalone with ``python -m keel.local.model_server --port N``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from keel.local.model_faults import FAULT_MODES
from keel.models import extractive
from keel.models.tokens import estimate_tokens

LOOPBACK = "127.0.0.1"
_MAX_APPEND = 2000
_ROUTE = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream)$")
_MAX_BODY = 4 * 1024 * 1024
_ERROR_SHAPES = {
    "throttle": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "error": (500, "InternalServerException", "The server encountered an internal error."),
    "model_error": (424, "ModelErrorException", "The model returned an error."),
}


# ---------------------------------------------------------------- AWS event-stream framing


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    # Header value type 7 is a UTF-8 string with a 2-byte length.
    return struct.pack("!B", len(raw_name)) + raw_name + struct.pack("!BH", 7, len(raw_value)) + raw_value


def encode_event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One AWS event-stream message: prelude, prelude CRC32, headers, JSON payload, message CRC32."""
    headers = (
        _header(":event-type", event_type)
        + _header(":content-type", "application/json")
        + _header(":message-type", "event")
    )
    body = json.dumps(payload, separators=(",", ":")).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack("!I", zlib.crc32(message) & 0xFFFFFFFF)


def decode_events(data: bytes) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """Decode a buffer of event-stream messages, checking both CRCs (used by tests of the framing)."""
    events = []
    offset = 0
    while offset < len(data):
        total, headers_len, prelude_crc = struct.unpack_from("!III", data, offset)
        if zlib.crc32(data[offset : offset + 8]) & 0xFFFFFFFF != prelude_crc:
            raise ValueError("prelude CRC mismatch")
        end = offset + total
        (message_crc,) = struct.unpack_from("!I", data, end - 4)
        if zlib.crc32(data[offset : end - 4]) & 0xFFFFFFFF != message_crc:
            raise ValueError("message CRC mismatch")
        headers: dict[str, str] = {}
        pos = offset + 12
        while pos < offset + 12 + headers_len:
            name_len = data[pos]
            name = data[pos + 1 : pos + 1 + name_len].decode()
            pos += 1 + name_len
            _kind, value_len = struct.unpack_from("!BH", data, pos)
            pos += 3
            headers[name] = data[pos : pos + value_len].decode()
            pos += value_len
        events.append((headers, json.loads(data[pos : end - 4] or b"{}")))
        offset = end
    return events


# ---------------------------------------------------------------- faults and recorded requests


@dataclass
class FaultRule:
    """What to do with requests for one model (or every model when model is None)."""

    mode: str = "ok"
    remaining: int | None = None
    rate_limit_per_second: float | None = None
    stall_seconds: float = 30.0
    recent: deque[float] = field(default_factory=deque)
    append_text: str = ""


class ModelServerState:
    """Fault rules, the rate-limit window and the requests received; shared by the handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[str | None, FaultRule] = {}
        self._requests: list[dict[str, Any]] = []
        self.wake = threading.Event()

    def set_fault(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Install a fault rule from a /_faults body, or raise ValueError saying what is accepted."""
        mode = spec.get("mode", "ok")
        if mode not in FAULT_MODES:
            raise ValueError(f"mode {mode!r} is not accepted; accepted: {', '.join(FAULT_MODES)}")
        model = spec.get("model")
        count = spec.get("count")
        rate = spec.get("rate_limit_per_second")
        stall = spec.get("stall_seconds", 30.0)
        if model is not None and not isinstance(model, str):
            raise ValueError("model must be a model id string")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise ValueError("count must be a positive integer")
        if rate is not None and (not isinstance(rate, int | float) or rate <= 0):
            raise ValueError("rate_limit_per_second must be a positive number")
        if not isinstance(stall, int | float) or stall <= 0:
            raise ValueError("stall_seconds must be a positive number")
        text = spec.get("text", "")
        if mode == "append" and (not isinstance(text, str) or not text.strip() or len(text) > _MAX_APPEND):
            raise ValueError(f"mode append needs text: a non-empty string of at most {_MAX_APPEND} characters")
        with self._lock:
            if mode == "ok" and model is None and rate is None:
                self._rules.clear()
            else:
                appended = text if mode == "append" else ""
                self._rules[model] = FaultRule(mode, count, rate, float(stall), append_text=appended)
            # Requests stalled under the old rule return now instead of holding threads.
            self.wake.set()
            self.wake = threading.Event()
        return self.describe()

    def describe(self) -> dict[str, Any]:
        """The installed rules as JSON."""
        with self._lock:
            return {
                "rules": [
                    {
                        "model": model,
                        "mode": rule.mode,
                        "count": rule.remaining,
                        "rate_limit_per_second": rule.rate_limit_per_second,
                        **({"text": rule.append_text} if rule.mode == "append" else {}),
                    }
                    for model, rule in self._rules.items()
                ]
            }

    def decide(self, model_id: str) -> tuple[str, float, threading.Event, str]:
        """The fault mode that applies to this request (consuming a count), stall time, wake event, text to append."""
        with self._lock:
            rule = self._rules.get(model_id) or self._rules.get(None)
            if rule is None:
                return "ok", 0.0, self.wake, ""
            mode = rule.mode
            if rule.rate_limit_per_second is not None and mode == "ok":
                mode = self._rate_check(rule)
            if rule.remaining is not None and mode != "ok":
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules = {k: v for k, v in self._rules.items() if v is not rule}
            return mode, rule.stall_seconds, self.wake, rule.append_text

    @staticmethod
    def _rate_check(rule: FaultRule) -> str:
        now = time.monotonic()
        while rule.recent and now - rule.recent[0] >= 1.0:
            rule.recent.popleft()
        assert rule.rate_limit_per_second is not None
        if len(rule.recent) >= rule.rate_limit_per_second:
            return "throttle"
        rule.recent.append(now)
        return "ok"

    def record(self, entry: dict[str, Any]) -> None:
        """Keep a received request for /_requests."""
        with self._lock:
            self._requests.append(entry)

    def requests(self) -> list[dict[str, Any]]:
        """Every request received since the last clear."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        """Forget the received requests."""
        with self._lock:
            self._requests.clear()


# ---------------------------------------------------------------- the answering "model"


def respond(body: dict[str, Any]) -> dict[str, Any]:
    """A Converse response for a Converse request body: a toolUse block, or an extractive answer."""
    messages = body.get("messages") or []
    last_user: dict[str, Any] = next((m for m in reversed(messages) if m.get("role") == "user"), {"content": []})
    blocks = last_user.get("content") or []
    prompt = "\n".join(b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str))
    tool_results = [b["toolResult"] for b in blocks if isinstance(b, dict) and "toolResult" in b]
    content: list[dict[str, Any]]
    stop_reason = "end_turn"
    if tool_results:
        content = [{"text": _tool_result_text(tool_results)}]
    else:
        tools = ((body.get("toolConfig") or {}).get("tools")) or []
        _, question = extractive.parse_prompt(prompt)
        call = choose_tool(question, tools)
        if call is not None:
            content = [{"toolUse": call}]
            stop_reason = "tool_use"
        else:
            system = " ".join(s.get("text", "") for s in body.get("system") or [] if isinstance(s, dict))
            content = [{"text": extractive.answer_prompt(prompt, system)}]
    max_tokens = (body.get("inferenceConfig") or {}).get("maxTokens")
    content, truncated = _limit(content, max_tokens)
    input_text = " ".join(
        [s.get("text", "") for s in body.get("system") or [] if isinstance(s, dict)]
        + [json.dumps(m.get("content")) for m in messages]
    )
    output_text = json.dumps(content) if stop_reason == "tool_use" else content[0]["text"]
    usage = {"inputTokens": estimate_tokens(input_text), "outputTokens": estimate_tokens(output_text)}
    usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": "max_tokens" if truncated else stop_reason,
        "usage": usage,
        "metrics": {"latencyMs": 1},
    }


def _limit(content: list[dict[str, Any]], max_tokens: Any) -> tuple[list[dict[str, Any]], bool]:
    if not isinstance(max_tokens, int) or "text" not in content[0]:
        return content, False
    words = content[0]["text"].split(" ")
    allowed = max(1, int(max_tokens / 1.3))
    if len(words) <= allowed:
        return content, False
    return [{"text": " ".join(words[:allowed])}], True


def _tool_result_text(results: list[dict[str, Any]]) -> str:
    # The tool's own output, quoted: the local model has nothing else to say about it.
    parts = []
    for result in results:
        for block in result.get("content") or []:
            if "text" in block:
                parts.append(str(block["text"]))
            elif "json" in block:
                parts.append(json.dumps(block["json"], sort_keys=True))
    return " ".join(parts) or extractive.NO_ANSWER


_ASKING = re.compile(r"^\s*(how|what|why|when|where|who|whom|which|is|are|was|were|does|do|did)\b", re.I)
_REQUESTING = re.compile(
    r"^\s*(please\b|can you\b|could you\b|would you\b|will you\b|kindly\b|go ahead\b|"
    r"i (?:want|would like|'d like|need) (?:you )?to\b|i'd like to\b|let's\b)",
    re.I,
)
_NAME_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_IDENTIFIER = re.compile(r"\b(?=[A-Za-z0-9._:/-]*\d)[A-Za-z][A-Za-z0-9._:/-]*[A-Za-z0-9]\b")
_NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.-])")
_FREE_TEXT = ("summary", "description", "subject", "text", "query", "details", "reason", "message", "title")


def choose_tool(question: str, tools: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A toolUse block when the user's question is a request whose words match one tool, else None.

    Deterministic and small: a question (how/what/why...) is never an action; a request is an
    imperative or a "please/can you/I want to" sentence that shares a word with the tool's name.
    """
    if not tools or not question:
        return None
    # Judge each sentence on its own: a request buried after a greeting still counts, a question never does.
    requests = [
        sentence
        for sentence in extractive.split_sentences(question)
        if _REQUESTING.match(sentence) or not (_ASKING.match(sentence) or sentence.rstrip().endswith("?"))
    ]
    if not requests:
        return None
    words = set(extractive.terms(" ".join(requests)))
    best: tuple[int, dict[str, Any]] | None = None
    for entry in tools:
        spec = entry.get("toolSpec") if isinstance(entry, dict) else None
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            continue
        name_terms = {extractive.stem(p) for p in _NAME_PART.findall(spec["name"])} - {"", "tool"}
        described = set(extractive.terms(str(spec.get("description", ""))))
        hits = len(words & name_terms)
        if hits == 0:
            continue
        score = hits * 3 + len(words & described)
        if best is None or score > best[0]:
            best = (score, spec)
    if best is None:
        return None
    spec = best[1]
    schema = ((spec.get("inputSchema") or {}).get("json")) or {}
    tool_input = _extract_inputs(question, schema)
    digest = uuid.uuid5(uuid.NAMESPACE_URL, f"{spec['name']}|{question}").hex[:16]
    return {"toolUseId": f"tooluse_{digest}", "name": spec["name"], "input": tool_input}


def _extract_inputs(question: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Fill the schema's properties from the question alone: enums, ids, numbers, free text."""
    values: dict[str, Any] = {}
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    lowered = question.lower()
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        kind = prop.get("type")
        if isinstance(prop.get("enum"), list):
            found = [v for v in prop["enum"] if isinstance(v, str) and v.lower() in lowered]
            if found:
                values[name] = found[0]
        elif kind in ("integer", "number"):
            number = _NUMBER.search(question)
            if number:
                values[name] = int(float(number.group())) if kind == "integer" else float(number.group())
        elif kind == "boolean":
            continue
        elif name.lower().endswith(("id", "_id", "arn", "name")) and not name.lower().endswith("_name"):
            identifier = _IDENTIFIER.search(question)
            if identifier:
                values[name] = identifier.group()
        elif any(word in name.lower() for word in _FREE_TEXT) or name in required:
            values[name] = question
    return values


# ---------------------------------------------------------------- HTTP


class ModelServer(ThreadingHTTPServer):
    """The threaded HTTP server; holds the shared state."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int = 0) -> None:
        super().__init__((LOOPBACK, port), _Handler)
        self.state = ModelServerState()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client went away (timeouts in tests do that on purpose); report the rest."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        """The base URL to pass as endpoint_url."""
        return f"http://{LOOPBACK}:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, delayed ACKs add 40 ms to every call.
    disable_nagle_algorithm = True
    server: ModelServer

    def log_message(self, format: str, *args: Any) -> None:
        return

    # ---- control plane

    def do_GET(self) -> None:
        """Health, the recorded requests and the fault rules."""
        if self.path == "/healthz":
            self._json(200, {"status": "ok"})
        elif self.path == "/_requests":
            self._json(200, {"requests": self.server.state.requests()})
        elif self.path == "/_faults":
            self._json(200, self.server.state.describe())
        else:
            self._json(404, {"message": f"no route GET {self.path}"})

    def do_DELETE(self) -> None:
        """Clear recorded requests, or every fault rule."""
        if self.path == "/_requests":
            self.server.state.clear_requests()
            self._json(200, {"requests": []})
        elif self.path == "/_faults":
            self._json(200, self.server.state.set_fault({"mode": "ok"}))
        else:
            self._json(404, {"message": f"no route DELETE {self.path}"})

    def do_POST(self) -> None:
        """Converse, ConverseStream, or a fault rule."""
        raw = self._body()
        if raw is None:
            return
        try:
            body = json.loads(raw or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
        except ValueError as exc:
            self._aws_error(400, "ValidationException", f"malformed JSON body: {exc}")
            return
        if self.path == "/_faults":
            try:
                self._json(200, self.server.state.set_fault(body))
            except ValueError as exc:
                self._json(400, {"message": str(exc)})
            return
        route = _ROUTE.match(urllib.parse.urlsplit(self.path).path)
        if route is None:
            self._aws_error(404, "UnknownOperationException", f"no route POST {self.path}")
            return
        model_id = urllib.parse.unquote(route["model"])
        self.server.state.record(
            {"model_id": model_id, "operation": route["op"], "body": body, "received_at": time.time()}
        )
        appended = self._apply_fault(model_id)
        if appended is None:
            return
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            self._aws_error(400, "ValidationException", "messages: a non-empty list of messages is required")
            return
        shape = _conversation_shape_error(messages)
        if shape is not None:
            self._aws_error(400, "ValidationException", shape)
            return
        result = respond(body)
        content = result["output"]["message"]["content"]
        if appended and "text" in content[0]:
            content[0]["text"] = f"{content[0]['text']}\n\n{appended}"
        if route["op"] == "converse":
            self._json(200, result)
        else:
            self._stream(result)

    def _apply_fault(self, model_id: str) -> str | None:
        """None when the fault answered the request; else the text to append to the answer ("" for none)."""
        mode, stall_seconds, wake, append_text = self.server.state.decide(model_id)
        if mode in ("ok", "append"):
            return append_text
        if mode == "down":
            self._reset_connection()
        elif mode == "stall":
            wake.wait(stall_seconds)
            self._aws_error(503, "ServiceUnavailableException", "The model stalled.")
        else:
            status, code, message = _ERROR_SHAPES[mode]
            self._aws_error(status, code, message)
        return None

    def _reset_connection(self) -> None:
        # SO_LINGER 0 makes close() send a TCP RST: the client sees the connection reset, which botocore
        # reports as a connection error (the same family as an endpoint that refuses connections).
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            self._aws_error(413, "ValidationException", f"the body is over {_MAX_BODY} bytes")
            return None
        return self.rfile.read(length) if length else b""

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _aws_error(self, status: int, code: str, message: str) -> None:
        # The restJson error shape of Bedrock: the code in x-amzn-ErrorType, the message in the body.
        self._json(status, {"message": message}, {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"})

    def _stream(self, result: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/vnd.amazon.eventstream")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        for event in stream_events(result):
            self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


def stream_events(result: dict[str, Any]) -> Iterator[bytes]:
    """The ConverseStream events for a Converse result, text split into word-sized deltas."""
    yield encode_event("messageStart", {"role": "assistant"})
    for index, block in enumerate(result["output"]["message"]["content"]):
        if "toolUse" in block:
            tool = block["toolUse"]
            start = {"toolUse": {"toolUseId": tool["toolUseId"], "name": tool["name"]}}
            yield encode_event("contentBlockStart", {"contentBlockIndex": index, "start": start})
            delta = {"toolUse": {"input": json.dumps(tool["input"])}}
            yield encode_event("contentBlockDelta", {"contentBlockIndex": index, "delta": delta})
        else:
            for piece in re.findall(r"\S+\s*", block["text"]) or [block["text"]]:
                yield encode_event("contentBlockDelta", {"contentBlockIndex": index, "delta": {"text": piece}})
        yield encode_event("contentBlockStop", {"contentBlockIndex": index})
    yield encode_event("messageStop", {"stopReason": result["stopReason"]})
    yield encode_event("metadata", {"usage": result["usage"], "metrics": result["metrics"]})


@dataclass
class RunningModelServer:
    """A model server running on a background thread (fixtures and `keel dev` use this)."""

    server: ModelServer
    thread: threading.Thread

    @property
    def url(self) -> str:
        """The endpoint_url for boto3 and langchain-aws."""
        return self.server.url

    @property
    def state(self) -> ModelServerState:
        """Faults and recorded requests, for in-process callers."""
        return self.server.state

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.server.state.set_fault({"mode": "ok"})
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _conversation_shape_error(messages: list[Any]) -> str | None:
    """Bedrock's Converse rules on a conversation's shape (its own error texts): it starts with the user, and the
    roles alternate."""
    roles = [m.get("role") if isinstance(m, dict) else None for m in messages]
    if roles[0] != "user":
        return (
            "A conversation must start with a user message. Try again with a conversation that starts with a user "
            "message."
        )
    if any(a == b for a, b in itertools.pairwise(roles)):
        return (
            "A conversation must alternate between user and assistant roles. Make sure the conversation alternates "
            "between user and assistant roles and try again."
        )
    return None


class ModelEndpointControl:
    """Drives a running model server's control endpoints over HTTP (tests and `keel dev`)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout = timeout

    def fault(
        self,
        mode: str,
        *,
        model: str | None = None,
        count: int | None = None,
        rate_limit_per_second: float | None = None,
        stall_seconds: float | None = None,
        text: object = None,
    ) -> dict[str, Any]:
        """Install a fault rule (mode ok with no model clears every rule; mode append adds text to each answer)."""
        spec: dict[str, Any] = {"mode": mode}
        for key, value in (
            ("model", model),
            ("count", count),
            ("rate_limit_per_second", rate_limit_per_second),
            ("stall_seconds", stall_seconds),
            ("text", text),
        ):
            if value is not None:
                spec[key] = value
        return self._call("POST", "/_faults", spec)

    def requests(self) -> list[dict[str, Any]]:
        """The Converse request bodies received (with model_id and operation)."""
        received: list[dict[str, Any]] = self._call("GET", "/_requests")["requests"]
        return received

    def clear_requests(self) -> None:
        """Forget the received requests."""
        self._call("DELETE", "/_requests")

    def reset(self) -> None:
        """No faults and no recorded requests."""
        self._call("DELETE", "/_faults")
        self.clear_requests()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - a loopback URL given by the caller
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
            result: dict[str, Any] = json.loads(response.read())
            return result


def start(port: int = 0) -> RunningModelServer:
    """Start a model server on 127.0.0.1 (port 0 picks a free one) on a daemon thread."""
    server = ModelServer(port)
    thread = threading.Thread(target=server.serve_forever, name="keel-model-server", daemon=True)
    thread.start()
    return RunningModelServer(server, thread)


def main(argv: list[str] | None = None) -> int:
    """Run the model server in the foreground until Ctrl-C."""
    parser = argparse.ArgumentParser(
        prog="python -m keel.local.model_server",
        description="Local Bedrock Runtime stand-in (Converse, ConverseStream) answering from passages.",
    )
    parser.add_argument(
        "--host", default=LOOPBACK, help="interface to bind; only the loopback address is accepted (127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    if args.host not in (LOOPBACK, "localhost"):
        parser.error(f"--host {args.host}: accepted is 127.0.0.1 (the model server binds loopback only)")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: accepted is 0 to 65535")
    try:
        server = ModelServer(args.port)
    except OSError as exc:
        print(f"model server: cannot listen on {LOOPBACK}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"model server listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
