"""A local stand-in for the Slack Web API parts Keel uses, on 127.0.0.1, recording what the app posts.

Methods: auth.test, users.info, chat.postMessage, chat.update (form or JSON bodies, bearer bot token).
Test hooks: GET /_messages, DELETE /_messages, POST /_users {"U123": "email@example.com"}.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from keel.local.servers import LOOPBACK

DEFAULT_BOT_TOKEN = "xoxb-local-keel"  # noqa: S105 - the local stand-in's fixed token, not a secret
TEAM_ID = "TLOCAL"
BOT_USER_ID = "UKEELBOT"


@dataclass
class SlackState:
    """Users the server knows and messages the app posted."""

    bot_token: str = DEFAULT_BOT_TOKEN
    users: dict[str, str] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_ts(self) -> str:
        """A unique message timestamp in Slack's seconds.micros form."""
        return f"{int(time.time())}.{next(self._ts):06d}"


class LocalSlackApi:
    """The server; `.url` is the base URL to give slack_sdk (`<url>/api/`)."""

    def __init__(self, *, users: dict[str, str] | None = None, bot_token: str = DEFAULT_BOT_TOKEN, port: int = 0):
        self.state = SlackState(bot_token=bot_token, users=dict(users or {}))
        self._server = ThreadingHTTPServer((LOOPBACK, port), _handler(self.state))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What slack_sdk takes as base_url."""
        return f"{self.url}/api/"

    def start(self) -> LocalSlackApi:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="keel-local-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def add_user(self, user_id: str, email: str) -> None:
        """Make users.info know a user."""
        with self.state.lock:
            self.state.users[user_id] = email

    def messages(self) -> list[dict[str, Any]]:
        """Every chat.postMessage and chat.update received, in order."""
        with self.state.lock:
            return [dict(m) for m in self.state.messages]

    def clear(self) -> None:
        """Forget recorded messages."""
        with self.state.lock:
            self.state.messages.clear()


def _flag(args: dict[str, Any], name: str) -> bool:
    """A boolean argument that defaults to true; form bodies carry it as a string."""
    return str(args.get(name, "true")).lower() not in ("false", "0")


def _call(state: SlackState, method: str, args: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        if method == "auth.test":
            return {"ok": True, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "BKEEL", "url": "local"}
        if method == "users.info":
            email = state.users.get(str(args.get("user")))
            if email is None:
                return {"ok": False, "error": "user_not_found"}
            name = email.split("@")[0]
            return {"ok": True, "user": {"id": args["user"], "name": name, "profile": {"email": email}}}
        if method in ("chat.postMessage", "chat.update"):
            if not args.get("channel") or not (args.get("text") or args.get("blocks")):
                return {"ok": False, "error": "no_text" if args.get("channel") else "channel_not_found"}
            blocks = args.get("blocks")
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            ts = str(args.get("ts")) if method == "chat.update" else state.next_ts()
            record = {
                "method": method,
                "channel": args["channel"],
                "text": args.get("text", ""),
                "thread_ts": args.get("thread_ts"),
                "ts": ts,
                "blocks": blocks or [],
                # chat.postMessage previews links unless told not to.
                "unfurl_links": _flag(args, "unfurl_links"),
                "unfurl_media": _flag(args, "unfurl_media"),
            }
            state.messages.append(record)
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": record}
    return {"ok": False, "error": "unknown_method"}


def _post(state: SlackState, path: str, token: str, args: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if path == "/_users":
        with state.lock:
            state.users.update({str(k): str(v) for k, v in args.items()})
        return 200, {"ok": True}
    if not path.startswith("/api/"):
        return 404, {"ok": False, "error": "not_found"}
    if token != state.bot_token:
        return 200, {"ok": False, "error": "invalid_auth"}
    return 200, _call(state, path[len("/api/") :].split("?", maxsplit=1)[0], args)


def _handler(state: SlackState) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _send(self, status: int, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _body(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            if "json" in (self.headers.get("Content-Type") or ""):
                data = json.loads(raw or "{}")
                return data if isinstance(data, dict) else {}
            return dict(parse_qsl(raw, keep_blank_values=True))

        def do_GET(self) -> None:
            if self.path == "/_messages":
                with state.lock:
                    self._send(200, list(state.messages))
                return
            self._send(404, {"ok": False, "error": "not_found"})

        def do_DELETE(self) -> None:
            if self.path == "/_messages":
                with state.lock:
                    state.messages.clear()
                self._send(200, {"ok": True})
                return
            self._send(404, {"ok": False, "error": "not_found"})

        def do_POST(self) -> None:
            try:
                args = self._body()
            except ValueError:
                self._send(200, {"ok": False, "error": "invalid_json"})
                return
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or args.get("token")
            status, body = _post(state, self.path, str(token or ""), args)
            self._send(status, body)

    return _Handler


def start_local_slack_api(users: dict[str, str] | None = None, *, port: int = 0) -> LocalSlackApi:
    """Start the stand-in on a loopback port."""
    return LocalSlackApi(users=users, port=port).start()
