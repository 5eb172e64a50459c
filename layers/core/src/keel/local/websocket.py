"""A local stand-in for an API Gateway WebSocket API, on 127.0.0.1.

It turns a WebSocket handshake, each text frame and the close into API Gateway WebSocket events for the
same functions/websocket/handler.py, and serves the Management API (POST/DELETE /<stage>/@connections/<id>)
on a second loopback port, so the handler's boto3 `apigatewaymanagementapi` client pushes frames exactly
as it does in AWS. Route selection is `$request.body.action`, as the CDK stack configures it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from keel.local.api import LambdaContext, load_handler
from keel.local.servers import LOOPBACK

logger = logging.getLogger("keel.local.websocket")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
STAGE = "local"
ROUTES = ("sendMessage", "talkToPerson", "feedback", "authenticate")
_CONNECTION_PATH = re.compile(r"^/[^/]+/@connections/([^/]+)$")


class LocalWebSocketApi:
    """The WebSocket endpoint (`.url`) and its Management API (`.management_url`)."""

    def __init__(self, handler: Handler, *, port: int = 0) -> None:
        self._handler = handler
        self._port = port
        self._loop = asyncio.new_event_loop()
        self._connections: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="keel-ws-lambda")
        self._management = ThreadingHTTPServer((LOOPBACK, 0), self._management_handler())
        self._management.daemon_threads = True
        self._server: Any = None
        self._ready = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        """ws:// URL clients connect to."""
        return f"ws://{LOOPBACK}:{self._port}"

    @property
    def management_url(self) -> str:
        """The Management API endpoint (what the handler's boto3 client is pointed at)."""
        return f"http://{LOOPBACK}:{self._management.server_address[1]}/{STAGE}"

    def start(self) -> LocalWebSocketApi:
        """Serve both ports in background threads; returns when the WebSocket port listens."""
        management = threading.Thread(target=self._management.serve_forever, name="keel-ws-mgmt", daemon=True)
        management.start()
        loop_thread = threading.Thread(target=self._run_loop, name="keel-ws", daemon=True)
        loop_thread.start()
        self._threads = [management, loop_thread]
        if not self._ready.wait(10):
            raise TimeoutError("the local WebSocket server did not start")
        return self

    def stop(self) -> None:
        """Close every connection and both servers."""
        if self._server is not None:
            server = self._server

            async def close() -> None:
                server.close()
                await server.wait_closed()

            try:
                asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
            except Exception:  # stopping must go on even if a connection refuses to close in time
                logger.debug("WebSocket server did not close cleanly")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._management.shutdown()
        self._management.server_close()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run_loop(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self) -> None:
        from websockets.asyncio.server import serve

        self._server = await serve(
            self._session,
            LOOPBACK,
            self._port,
            process_request=self._handshake,
            select_subprotocol=_select_subprotocol,
            compression=None,
        )
        self._port = self._server.sockets[0].getsockname()[1]

    def _event(self, route: str, connection_id: str, **extra: Any) -> dict[str, Any]:
        event_type = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        return {
            "requestContext": {
                "routeKey": route,
                "eventType": event_type,
                "connectionId": connection_id,
                "domainName": f"{LOOPBACK}:{self._management.server_address[1]}",
                "stage": STAGE,
                "apiId": "local",
                "requestId": str(uuid.uuid4()),
                "connectedAt": int(time.time() * 1000),
                "requestTimeEpoch": int(time.time() * 1000),
            },
            "isBase64Encoded": False,
            **extra,
        }

    async def _invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        def call() -> dict[str, Any]:
            try:
                return self._handler(event, LambdaContext(function_name="websocket"))
            except Exception:
                logger.exception("the websocket handler raised")
                return {"statusCode": 502}

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def _handshake(self, connection: Any, request: Any) -> Any:
        connection_id = secrets.token_urlsafe(12) + "="
        connection.keel_id = connection_id
        headers = {k: v for k, v in request.headers.raw_items()}
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True))
        response = await self._invoke(
            self._event("$connect", connection_id, headers=headers, queryStringParameters=query or None)
        )
        status = int(response.get("statusCode", 200))
        if status != 200:
            body = str(response.get("body") or HTTPStatus(status).phrase)
            return connection.respond(HTTPStatus(status), body + "\n")
        return None

    async def _session(self, connection: Any) -> None:
        connection_id: str = connection.keel_id
        with self._lock:
            self._connections[connection_id] = connection
        try:
            async for message in connection:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                await self._invoke(self._event(_route(text), connection_id, body=text))
        except Exception:  # a dropped socket ends the session like a close
            logger.debug("connection %s ended abruptly", connection_id)
        finally:
            with self._lock:
                self._connections.pop(connection_id, None)
            await self._invoke(self._event("$disconnect", connection_id))

    def post(self, connection_id: str, data: bytes) -> bool:
        """Send data to a connection from any thread; False when it is gone."""
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None:
            return False
        future = asyncio.run_coroutine_threadsafe(connection.send(data.decode("utf-8", "replace")), self._loop)
        try:
            future.result(timeout=5)
        except Exception:
            return False
        return True

    def disconnect(self, connection_id: str) -> bool:
        """Close a connection from any thread (DeleteConnection)."""
        with self._lock:
            connection = self._connections.get(connection_id)
        if connection is None:
            return False
        asyncio.run_coroutine_threadsafe(connection.close(1000, "closed by the server"), self._loop)
        return True

    def _management_handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class _Management(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _answer(self, status: int, error_type: str | None = None) -> None:
                body = json.dumps({"message": error_type or "ok"}).encode() if error_type else b""
                self.send_response(status)
                if error_type:
                    self.send_header("x-amzn-ErrorType", error_type)
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                match = _CONNECTION_PATH.match(urlsplit(self.path).path)
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if match is None:
                    self._answer(404, "NotFoundException")
                elif api.post(_unquote(match.group(1)), data):
                    self._answer(200)
                else:
                    self._answer(410, "GoneException")

            def do_DELETE(self) -> None:
                match = _CONNECTION_PATH.match(urlsplit(self.path).path)
                if match is not None and api.disconnect(_unquote(match.group(1))):
                    self._answer(204)
                else:
                    self._answer(410, "GoneException")

        return _Management


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _route(text: str) -> str:
    try:
        action = json.loads(text).get("action")
    except (ValueError, AttributeError):
        return "$default"
    return action if action in ROUTES else "$default"


def _select_subprotocol(connection: Any, offered: Any) -> Any:
    return "keel.v1" if "keel.v1" in offered else None


def start_local_websocket(functions_dir: Path, *, port: int = 0) -> LocalWebSocketApi:
    """Serve functions/websocket/handler.py as a WebSocket API on a loopback port; `.url`, `.stop()`."""
    return LocalWebSocketApi(load_handler(functions_dir, "websocket"), port=port).start()
