"""Local stand-ins on loopback: a CRM (HubSpot v3 shape), an HR leave service and a webhook receiver.

The CRM and HR servers check API keys against a key ring that can be rotated over their own API
(POST /api/keys, GET /api/keys/self, DELETE /api/keys/{fingerprint}), so a Secrets Manager rotation can be
shown end to end: after it, the old key gets 401. The webhook receiver verifies signatures and has a down
switch (connections are dropped without an answer) and an error switch (500).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from keel.integrations.rotation import key_fingerprint
from keel.integrations.webhooks import SIGNATURE_HEADER, verify_signature

LOOPBACK = "127.0.0.1"
_log = logging.getLogger("keel.local.integrations")
Reply = tuple[int, Any]


class KeyRing:
    """The API keys a service accepts; thread-safe."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._keys = set(keys)
        self._lock = threading.Lock()

    def valid(self, key: str | None) -> bool:
        """Whether key is accepted now."""
        with self._lock:
            return key is not None and key in self._keys

    def add(self, key: str) -> bool:
        """Accept key too; False if it was known already."""
        with self._lock:
            known = key in self._keys
            self._keys.add(key)
            return not known

    def revoke(self, fingerprint: str) -> bool:
        """Stop accepting the key with this fingerprint; False if none."""
        with self._lock:
            found = [k for k in self._keys if key_fingerprint(k) == fingerprint]
            self._keys.difference_update(found)
            return bool(found)

    def fingerprints(self) -> list[str]:
        """Fingerprints of the accepted keys."""
        with self._lock:
            return sorted(key_fingerprint(k) for k in self._keys)


@dataclass
class ServiceState:
    """What a running stand-in holds: its keys, data and counters."""

    keys: KeyRing
    data: dict[str, Any] = field(default_factory=dict)
    requests: int = 0
    unauthorised: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class RunningService:
    """A started stand-in: url, state, stop()."""

    def __init__(self, server: ThreadingHTTPServer, state: Any) -> None:
        self._server = server
        self.state = state
        thread = threading.Thread(target=server.serve_forever, name="keel-local-integration", daemon=True)
        thread.start()

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8123."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


# ---------------------------------------------------------------- CRM and HR

_CONTACT = re.compile(r"^/crm/v3/objects/contacts/([A-Za-z0-9-]+)$")
_LEAVE = re.compile(r"^/api/v1/employees/([A-Za-z0-9._@-]+)/leave-balance$")
_KEY = re.compile(r"^/api/keys/([0-9a-f]{16})$")


def demo_contacts() -> dict[str, dict[str, str]]:
    """A few invented contacts (example.test addresses)."""
    return {
        "101": {
            "firstname": "Ada",
            "lastname": "Lind",
            "email": "ada.lind@example.test",
            "company": "Northwind",
            "lifecyclestage": "customer",
        },
        "102": {
            "firstname": "Ben",
            "lastname": "Okoro",
            "email": "ben.okoro@example.test",
            "company": "Contoso",
            "lifecyclestage": "opportunity",
        },
    }


def demo_leave(usernames: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Leave balances for the given employees, different per employee but stable."""
    balances = {}
    for number, name in enumerate(sorted(usernames)):
        balances[name] = [
            {"type": "annual", "unit": "days", "available": 25 - (number * 3) % 17, "taken": (number * 3) % 17},
            {"type": "sick", "unit": "days", "available": 10, "taken": number % 3},
        ]
    return balances


def start_crm(
    *, key: str | None = None, contacts: dict[str, dict[str, str]] | None = None, port: int = 0
) -> RunningService:
    """A CRM in the HubSpot v3 shape (Bearer keys): contacts by id, contact search by email, notes."""
    state = ServiceState(
        KeyRing([key or secrets.token_urlsafe(24)]), {"contacts": contacts or demo_contacts(), "notes": []}
    )
    return _serve(state, port, _bearer, _crm_api)


def start_hr(
    *, key: str | None = None, employees: dict[str, list[dict[str, Any]]] | None = None, port: int = 0
) -> RunningService:
    """An internal HR service (X-Api-Key keys): GET /api/v1/employees/{id}/leave-balance."""
    state = ServiceState(KeyRing([key or secrets.token_urlsafe(24)]), {"employees": employees or {}})
    return _serve(state, port, _api_key, _hr_api)


def _bearer(headers: Any) -> str | None:
    value = headers.get("Authorization") or ""
    return value[7:] if value.startswith("Bearer ") else None


def _api_key(headers: Any) -> str | None:
    value = headers.get("X-Api-Key")
    return str(value) if value else None


def _keys_api(state: ServiceState, method: str, path: str, body: Any) -> Reply | None:
    if path == "/api/keys" and method == "POST":
        new = body.get("key") if isinstance(body, dict) else None
        if not isinstance(new, str) or len(new) < 16:
            return 400, {"message": 'body must be {"key": "<at least 16 characters>"}'}
        added = state.keys.add(new)
        return (201 if added else 200), {"key_id": key_fingerprint(new)}
    if path == "/api/keys/self" and method == "GET":
        return 200, {"keys": len(state.keys.fingerprints())}
    match = _KEY.match(path)
    if match and method == "DELETE":
        return (
            (200, {"revoked": match.group(1)})
            if state.keys.revoke(match.group(1))
            else (404, {"message": "no such key"})
        )
    return None


def _crm_api(state: ServiceState, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
    contacts: dict[str, dict[str, str]] = state.data["contacts"]
    match = _CONTACT.match(path)
    if match and method == "GET":
        found = contacts.get(match.group(1))
        if found is None:
            return 404, {"status": "error", "message": "resource not found", "category": "OBJECT_NOT_FOUND"}
        wanted = (query.get("properties") or [""])[0].split(",")
        props = {k: v for k, v in found.items() if k in wanted or wanted == [""]}
        return 200, {"id": match.group(1), "properties": props, "archived": False}
    if path == "/crm/v3/objects/contacts/search" and method == "POST":
        filters = [f for g in (body.get("filterGroups") or []) for f in g.get("filters") or []]
        results = [
            {"id": cid, "properties": props}
            for cid, props in sorted(contacts.items())
            if all(
                f.get("operator") == "EQ" and props.get(f.get("propertyName", "")) == f.get("value") for f in filters
            )
        ]
        return 200, {"total": len(results), "results": results[: int(body.get("limit") or 10)]}
    if path == "/crm/v3/objects/notes" and method == "POST":
        note = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(note, dict) or not note.get("hs_note_body"):
            return 400, {
                "status": "error",
                "message": "properties.hs_note_body is required",
                "category": "VALIDATION_ERROR",
            }
        targets = [a.get("to", {}).get("id") for a in body.get("associations") or []]
        if any(t not in contacts for t in targets):
            return 400, {
                "status": "error",
                "message": "association target does not exist",
                "category": "VALIDATION_ERROR",
            }
        with state.lock:
            note_id = str(len(state.data["notes"]) + 9001)
            state.data["notes"].append({"id": note_id, "properties": note, "contacts": targets})
        return 201, {"id": note_id, "properties": note}
    return 404, {"status": "error", "message": f"no route for {method} {path}", "category": "OBJECT_NOT_FOUND"}


def _hr_api(state: ServiceState, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
    match = _LEAVE.match(path)
    if match and method == "GET":
        balances = state.data["employees"].get(match.group(1))
        if balances is None:
            return 404, {"error": "employee not found"}
        return 200, {"employee_id": match.group(1), "as_of": date.today().isoformat(), "balances": balances}
    return 404, {"error": f"no route for {method} {path}"}


def _serve(
    state: ServiceState,
    port: int,
    credential: Callable[[Any], str | None],
    api: Callable[[ServiceState, str, str, dict[str, list[str]], Any], Reply],
) -> RunningService:
    class Handler(_JsonHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            raw = self._body()
            with state.lock:
                state.requests += 1
            if not state.keys.valid(credential(self.headers)):
                with state.lock:
                    state.unauthorised += 1
                self._send(
                    401,
                    {
                        "status": "error",
                        "message": "Authentication credentials not found or invalid",
                        "category": "INVALID_AUTHENTICATION",
                    },
                )
                return
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                self._send(400, {"message": "request body is not valid JSON"})
                return
            reply = _keys_api(state, self.command, parts.path, body)
            self._send(*(reply or api(state, self.command, parts.path, parse_qs(parts.query), body)))

    return RunningService(_server(port, Handler), state)


# ---------------------------------------------------------------- webhook receiver

WEBHOOK_MODES = ("ok", "down", "error")


@dataclass
class ReceiverState:
    """The receiver's secrets, switch, deliveries and attempt count."""

    secrets: list[str]
    mode: str = "ok"
    attempts: int = 0
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class RunningReceiver(RunningService):
    """A started webhook receiver with a down switch."""

    state: ReceiverState

    def switch(self, mode: str) -> None:
        """ok: accept signed events; down: drop connections unanswered; error: answer 500."""
        if mode not in WEBHOOK_MODES:
            raise ValueError(f"unknown receiver mode {mode!r}; accepted: {', '.join(WEBHOOK_MODES)}")
        self.state.mode = mode

    def deliveries(self) -> list[dict[str, Any]]:
        """Accepted events, oldest first."""
        with self.state.lock:
            return list(self.state.deliveries)


def start_webhook_receiver(*, secret: str | None = None, port: int = 0) -> RunningReceiver:
    """A receiver that accepts POST /hooks with a valid X-Keel-Signature (401 otherwise)."""
    state = ReceiverState([secret or secrets.token_urlsafe(24)])

    class Handler(_JsonHandler):
        def _serve(self) -> None:
            raw = self._body()
            with state.lock:
                state.attempts += 1
            if state.mode == "down":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if state.mode == "error":
                self._send(500, {"error": "receiver fault: error"})
                return
            if not verify_signature(self.headers.get(SIGNATURE_HEADER), raw, state.secrets):
                with state.lock:
                    state.rejected += 1
                self._send(401, {"error": "bad or stale signature"})
                return
            event = json.loads(raw)
            with state.lock:
                duplicate = any(d["event_id"] == event.get("event_id") for d in state.deliveries)
                if not duplicate:
                    state.deliveries.append({**event, "received_at": datetime.now(UTC).isoformat()})
            self._send(200, {"received": event.get("event_id"), "duplicate": duplicate})

    return RunningReceiver(_server(port, Handler), state)


# ---------------------------------------------------------------- plumbing


class _JsonHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("%s " + format, self.address_string(), *args)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        raise NotImplementedError

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        """Serve a GET."""
        self._serve()

    def do_POST(self) -> None:
        """Serve a POST."""
        self._serve()

    def do_PUT(self) -> None:
        """Serve a PUT."""
        self._serve()

    def do_DELETE(self) -> None:
        """Serve a DELETE."""
        self._serve()


def _server(port: int, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    server.daemon_threads = True
    return server
