"""The local API Gateway stand-in's HTTP layer: served methods reach dispatch, every other method gets 405.

Driven through the real http.server handler class over an in-memory connection (no sockets in unit tests).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from keel.local.api import SERVED_METHODS, request_handler


class MemoryConnection:
    """What socketserver's StreamRequestHandler needs of a socket: makefile for reading, sendall for writing."""

    def __init__(self, request: bytes) -> None:
        self._request = request
        self.sent = bytearray()

    def makefile(self, mode: str, buffering: int = -1) -> io.BytesIO:
        return io.BytesIO(self._request)

    def sendall(self, data: bytes) -> None:
        self.sent += data


def exchange(raw: bytes) -> tuple[int, dict[str, str], bytes, list[str]]:
    """Send one raw HTTP request through the handler; returns status, headers, body and what dispatch saw."""
    seen: list[str] = []

    def dispatch(method: str, path: str, headers: dict[str, str], body: bytes, ip: str) -> Any:
        seen.append(f"{method} {path} {body.decode()}")
        return 200, {"Content-Type": "application/json"}, b'{"ok": true}'

    connection = MemoryConnection(raw)
    request_handler(dispatch)(connection, ("127.0.0.1", 50000), None)  # type: ignore[arg-type]
    head, _, body = bytes(connection.sent).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body, seen


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS", "CONNECT", "PROPFIND", "FOO"])
def test_unknown_methods_get_405_naming_the_accepted_ones(method: str) -> None:
    status, headers, body, seen = exchange(f"{method} /v1/chat HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 405
    assert seen == []
    assert headers["Allow"] == ", ".join(SERVED_METHODS)
    error = json.loads(body)["error"]
    assert error["code"] == "method_not_allowed"
    assert method in error["message"] and "GET" in error["message"]


def test_head_gets_405_with_no_body() -> None:
    status, headers, body, seen = exchange(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (status, body, seen) == (405, b"", [])
    assert int(headers["Content-Length"]) > 0  # the length of the body a GET-like answer would carry


def test_a_refused_request_closes_the_connection_so_its_body_is_never_read_as_a_request() -> None:
    smuggled = b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n"
    raw = b"OPTIONS / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled) + smuggled
    status, headers, _, seen = exchange(raw)
    assert status == 405 and headers["Connection"] == "close"
    assert seen == []


@pytest.mark.parametrize("method", SERVED_METHODS)
def test_served_methods_reach_dispatch_with_their_body(method: str) -> None:
    status, _, body, seen = exchange(f"{method} /v1/chat HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi".encode())
    assert status == 200 and json.loads(body) == {"ok": True}
    assert seen == [f"{method} /v1/chat hi"]


def test_oversized_body_is_refused_with_413_before_dispatch() -> None:
    raw = b"POST /v1/chat HTTP/1.1\r\nHost: x\r\nX-Correlation-Id: corr-413\r\nContent-Length: 99999999\r\n\r\n"
    status, _, body, seen = exchange(raw)
    assert status == 413 and seen == []
    # The same error body as every other error: code, a message naming the limit, the correlation id.
    assert json.loads(body)["error"] == {
        "code": "payload_too_large",
        "message": "request body is 99999999 bytes; the limit is 1048576 bytes",
        "correlation_id": "corr-413",
    }
