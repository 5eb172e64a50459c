"""A local helpdesk that speaks Zendesk's Tickets API on 127.0.0.1, with a fault switch for tests.

Create, show, list (optionally by external_id), update and search tickets, with Basic auth "email/token:token".
Like Zendesk, it does not enforce unique external ids: callers check before they create.
`POST /_control/fault {"mode": "ok|down|error|slow", "seconds": 2}` and `GET /_control/tickets` need no auth.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import re
import secrets
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger("keel.local.helpdesk")
LOOPBACK = "127.0.0.1"
FAULT_MODES = ("ok", "down", "error", "slow")
_TICKET = re.compile(r"^/api/v2/tickets/(\d+)\.json$")


class HelpdeskState:
    """Tickets and the fault mode, shared by the request threads."""

    def __init__(self, email: str, token: str) -> None:
        self.email = email
        self.token = token
        self.tickets: dict[int, dict[str, Any]] = {}
        self.mode = "ok"
        self.slow_seconds = 2.0
        self.requests = 0
        self.lock = threading.Lock()

    def authorised(self, header: str | None) -> bool:
        """Basic auth with "email/token" and the API token."""
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return user == f"{self.email}/token" and password == self.token

    def create(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Store a new ticket; returns it."""
        with self.lock:
            ticket_id = max(self.tickets, default=0) + 1
            now = datetime.now(UTC).isoformat()
            comment = fields.get("comment") or {}
            ticket = {
                "id": ticket_id,
                "subject": fields.get("subject", ""),
                "description": comment.get("body", ""),
                "external_id": fields.get("external_id"),
                "tags": list(fields.get("tags") or []),
                "priority": fields.get("priority"),
                "status": "new",
                "metadata": fields.get("metadata") or {},
                "comments": [comment] if comment else [],
                "created_at": now,
                "updated_at": now,
            }
            self.tickets[ticket_id] = ticket
            return ticket

    def update(self, ticket_id: int, fields: dict[str, Any]) -> dict[str, Any] | None:
        """Change status, priority, subject or tags, or add a comment; None if unknown."""
        with self.lock:
            ticket = self.tickets.get(ticket_id)
            if ticket is None:
                return None
            for key in ("status", "priority", "subject", "tags"):
                if key in fields:
                    ticket[key] = fields[key]
            if fields.get("comment"):
                ticket["comments"].append(fields["comment"])
            ticket["updated_at"] = datetime.now(UTC).isoformat()
            return ticket

    def matching(self, external_id: str | None) -> list[dict[str, Any]]:
        """Every ticket, or those with this external_id, oldest first."""
        with self.lock:
            tickets = [self.tickets[k] for k in sorted(self.tickets)]
        return [t for t in tickets if external_id is None or t["external_id"] == external_id]


class RunningHelpdesk:
    """A started helpdesk server: its URL, credentials, state, and stop()."""

    def __init__(self, server: ThreadingHTTPServer, state: HelpdeskState, thread: threading.Thread) -> None:
        self._server = server
        self.state = state
        self._thread = thread

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8123."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def fault(self, mode: str, *, seconds: float = 2.0) -> None:
        """Switch the fault mode: ok, down (drop connections), error (500), slow (sleep, then serve)."""
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; accepted: {', '.join(FAULT_MODES)}")
        self.state.mode, self.state.slow_seconds = mode, seconds

    def tickets(self, external_id: str | None = None) -> list[dict[str, Any]]:
        """Stored tickets (all, or those with this external_id)."""
        return self.state.matching(external_id)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


def start(
    port: int = 0, *, email: str = "keel@example.test", token: str | None = None, host: str = LOOPBACK
) -> RunningHelpdesk:
    """Serve the helpdesk in a background thread on host:port (0 = a free port); a random token by default."""
    state = HelpdeskState(email, token or secrets.token_urlsafe(24))
    server = ThreadingHTTPServer((host, port), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="keel-local-helpdesk", daemon=True)
    thread.start()
    return RunningHelpdesk(server, state, thread)


def _handler(state: HelpdeskState) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s " + format, self.address_string(), *args)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if parts.path.startswith("/_control/"):
                self._send(*_control(state, self.command, parts.path, raw))
                return
            state.requests += 1
            if state.mode == "down":
                # A helpdesk that is down drops the connection without an answer.
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if state.mode == "error":
                self._send(500, {"error": "InternalError", "description": "local helpdesk fault: error"})
                return
            if state.mode == "slow":
                time.sleep(state.slow_seconds)
            if not state.authorised(self.headers.get("Authorization")):
                self._send(401, {"error": "Couldn't authenticate you"})
                return
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                self._send(400, {"error": "InvalidJSON", "description": "request body is not valid JSON"})
                return
            self._send(*_api(state, self.command, parts.path, parse_qs(parts.query), body))

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _serve

    return _Handler


def _api(state: HelpdeskState, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
    if path == "/api/v2/tickets.json" and method == "POST":
        fields = body.get("ticket") if isinstance(body, dict) else None
        if not isinstance(fields, dict) or not (fields.get("comment") or {}).get("body"):
            return 422, {"error": "RecordInvalid", "description": "ticket.comment.body is required"}
        return 201, {"ticket": state.create(fields)}
    if path == "/api/v2/tickets.json" and method == "GET":
        external_ids = query.get("external_id")
        external_id = external_ids[0] if external_ids else None
        tickets = state.matching(external_id)
        return 200, {"tickets": tickets, "count": len(tickets), "next_page": None}
    if path == "/api/v2/search.json" and method == "GET":
        return _search(state, (query.get("query") or [""])[0])
    match = _TICKET.match(path)
    if match and method == "GET":
        found = state.matching(None)
        ticket = next((t for t in found if t["id"] == int(match.group(1))), None)
        return (200, {"ticket": ticket}) if ticket else (404, {"error": "RecordNotFound"})
    if match and method == "PUT":
        fields = body.get("ticket") if isinstance(body, dict) else None
        updated = state.update(int(match.group(1)), fields or {})
        return (200, {"ticket": updated}) if updated else (404, {"error": "RecordNotFound"})
    return 404, {"error": "InvalidEndpoint", "description": f"no route for {method} {path}"}


def _search(state: HelpdeskState, query: str) -> tuple[int, Any]:
    terms = dict(t.split(":", 1) for t in query.split() if ":" in t)
    if terms.get("type", "ticket") != "ticket":
        return 200, {"results": [], "count": 0}
    results = [
        {**t, "result_type": "ticket"}
        for t in state.matching(terms.get("external_id"))
        if "status" not in terms or t["status"] == terms["status"]
    ]
    return 200, {"results": results, "count": len(results)}


def _control(state: HelpdeskState, method: str, path: str, raw: bytes) -> tuple[int, Any]:
    if path == "/_control/tickets":
        return 200, {"tickets": state.matching(None), "requests": state.requests}
    if path == "/_control/fault" and method == "POST":
        try:
            body = json.loads(raw or b"{}")
            mode = body["mode"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": f'expected {{"mode": one of {", ".join(FAULT_MODES)}}}'}
        if mode not in FAULT_MODES:
            return 400, {"error": f"unknown mode {mode!r}; accepted: {', '.join(FAULT_MODES)}"}
        state.mode, state.slow_seconds = mode, float(body.get("seconds", 2.0))
        return 200, {"mode": mode}
    return 404, {"error": f"no control route {path}"}


def main(argv: list[str] | None = None) -> None:
    """`python -m keel.local.helpdesk --port N`: serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m keel.local.helpdesk",
        description="A local helpdesk speaking Zendesk's Tickets API on 127.0.0.1 (for the local stack and tests).",
    )
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free port)")
    parser.add_argument("--email", default="keel@example.test", help="the API user's email")
    parser.add_argument("--token", help="the API token (default: a random one, printed at start)")
    args = parser.parse_args(argv)
    running = start(args.port, email=args.email, token=args.token)
    print(json.dumps({"url": running.url, "email": args.email, "token": running.state.token}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        running.stop()


if __name__ == "__main__":
    main()
