"""A local stand-in for API Gateway: turns HTTP requests into proxy events for the same Lambda handlers."""

from __future__ import annotations

import importlib.util
import json
import logging
import mimetypes
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

logger = logging.getLogger("keel.local.api")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
# A local-only service served on the API's origin (the managed login stand-in, the page configuration).
Mounted = Callable[[str, str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]
MAX_REQUEST_BYTES = 1024 * 1024
LISTEN_BACKLOG = 256


@dataclass(frozen=True)
class Route:
    """A path prefix served by one Lambda function folder (functions/<name>/handler.py)."""

    prefix: str
    function: str
    methods: tuple[str, ...] = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class LambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:keel-local"

    def get_remaining_time_in_millis(self) -> int:
        """Lambda's remaining-time call; the local server allows 30 s."""
        return 30_000


def load_handler(functions_dir: Path, name: str) -> Handler:
    """Import functions/<name>/handler.py the way Lambda does and return its lambda_handler."""
    path = functions_dir / name / "handler.py"
    spec = importlib.util.spec_from_file_location(f"keel_function_{name}", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no Lambda handler at {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.lambda_handler
    return handler


def to_proxy_event(method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str) -> dict[str, Any]:
    """An API Gateway REST proxy event for one HTTP request."""
    parts = urlsplit(raw_path)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    text: str | None
    is_base64 = False
    try:
        text = body.decode("utf-8") if body else None
    except UnicodeDecodeError:
        import base64

        text, is_base64 = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": parts.path,
        "path": parts.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "pathParameters": None,
        "body": text,
        "isBase64Encoded": is_base64,
        "requestContext": {
            "requestId": request_id,
            "stage": "local",
            "httpMethod": method,
            "path": parts.path,
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": source_ip},
        },
    }


class _ApiServer(ThreadingHTTPServer):
    """A thread per connection, with a listen backlog for a burst of connections.

    socketserver's default backlog of 5 reset connections under 20 concurrent requests on a laptop; the
    kernel caps this figure at net.core.somaxconn.
    """

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


class LocalApi:
    """Serves the API routes through Lambda handlers, /healthz, and the static web/ folder."""

    def __init__(
        self,
        routes: list[Route],
        functions_dir: Path,
        web_dir: Path | None,
        health: Callable[[], dict[str, Any]],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._routes = sorted(routes, key=lambda r: len(r.prefix), reverse=True)
        self._functions_dir = functions_dir
        self._web_dir = web_dir.resolve() if web_dir else None
        self._health = health
        self._handlers: dict[str, Handler] = {}
        self._mounts: dict[str, Mounted] = {}
        self._lock = threading.Lock()
        self._server = _ApiServer((host, port), self._request_handler())
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL the server listens on."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalApi:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="keel-local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def set_health(self, health: Callable[[], dict[str, Any]]) -> None:
        """Replace the health report (the stack sets it once every component is known)."""
        self._health = health

    def mount(self, paths: tuple[str, ...], service: Mounted) -> None:
        """Serve these exact paths with service, ahead of the routes and the static pages."""
        for path in paths:
            self._mounts[path] = service

    def handler_for(self, name: str) -> Handler:
        """The Lambda handler of a function, imported once (like a warm Lambda)."""
        with self._lock:
            if name not in self._handlers:
                self._handlers[name] = load_handler(self._functions_dir, name)
            return self._handlers[name]

    def dispatch(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        """Route one request; returns status, headers and body."""
        path = urlsplit(raw_path).path
        if path == "/healthz":
            if method != "GET":
                return _json_error(405, "method_not_allowed", f"{method} is not accepted on /healthz; use GET")
            report = self._health()
            status = 200 if report.get("status") == "up" else 503
            return status, {"Content-Type": "application/json"}, json.dumps(report).encode()
        mounted = self._mounts.get(path)
        if mounted is not None:
            return mounted(method, raw_path, headers, body)
        for route in self._routes:
            if path == route.prefix or path.startswith(route.prefix.rstrip("/") + "/"):
                if method not in route.methods:
                    return _json_error(405, "method_not_allowed", f"{method} is not accepted on {path}")
                return self._invoke(route.function, to_proxy_event(method, raw_path, headers, body, ip))
        if method == "GET" and self._web_dir is not None:
            return self._static(path)
        return _json_error(404, "not_found", f"no route for {method} {path}")

    def _invoke(self, function: str, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        try:
            response = self.handler_for(function)(event, LambdaContext(function_name=function))
        except Exception:
            # A handler that raises is a bug: API Gateway would answer 502 with no details.
            logger.exception("handler %s raised", function)
            return _json_error(502, "bad_gateway", "the function failed; see the server log")
        body = response.get("body") or ""
        if response.get("isBase64Encoded"):
            import base64

            payload = base64.b64decode(body)
        else:
            payload = body.encode() if isinstance(body, str) else bytes(body)
        return int(response.get("statusCode", 200)), dict(response.get("headers") or {}), payload

    def _static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        assert self._web_dir is not None
        relative = path.lstrip("/") or "index.html"
        target = (self._web_dir / relative).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_relative_to(self._web_dir) or not target.is_file():
            return _json_error(404, "not_found", f"no page at {path}")
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": content_type, "Cache-Control": "no-cache"}, target.read_bytes()

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        return request_handler(self.dispatch)


PAGE_CONFIG_PATH = "/keel-config.js"


def page_config_script(config: dict[str, Any]) -> bytes:
    """window.KeelConfig from the stack's configuration; what the embedding page set itself wins."""
    # json.dumps escapes quotes; '<' is escaped too so no value can close a <script> element.
    data = json.dumps(config, sort_keys=True).replace("<", "\\u003c")
    return f"window.KeelConfig = Object.assign({data}, window.KeelConfig || {{}});\n".encode()


def page_config_service(config: dict[str, Any]) -> Mounted:
    """The mounted /keel-config.js: GET only, the configuration as a script the hosted page loads."""
    script = page_config_script(config)

    def serve(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != "GET":
            return _json_error(405, "method_not_allowed", f"{method} is not accepted on {PAGE_CONFIG_PATH}; use GET")
        return 200, {"Content-Type": "text/javascript", "Cache-Control": "no-cache"}, script

    return serve


Dispatch = Callable[[str, str, dict[str, str], bytes, str], tuple[int, dict[str, str], bytes]]
SERVED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def request_handler(dispatch: Dispatch) -> type[BaseHTTPRequestHandler]:
    """The http.server handler class: the served methods go to dispatch, every other method gets 405."""

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s " + format, self.address_string(), *args)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_REQUEST_BYTES:
                status, headers, payload = _too_large(length, dict(self.headers.items()))
                self.close_connection = True  # the unread body must not be taken for the next request
            else:
                body = self.rfile.read(length) if length else b""
                status, headers, payload = dispatch(
                    self.command, self.path, dict(self.headers.items()), body, self.client_address[0]
                )
            self._send(status, headers, payload)

        def _refuse(self) -> None:
            # API Gateway refuses methods a resource does not declare; http.server alone would answer 501.
            accepted = ", ".join(SERVED_METHODS)
            status, headers, payload = _json_error(
                405, "method_not_allowed", f"{self.command} is not accepted; accepted methods: {accepted}"
            )
            # An unread request body would be taken for the next request: close instead of reading it.
            self.close_connection = True
            self._send(status, {**headers, "Allow": accepted, "Connection": "close"}, payload)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def __getattr__(self, name: str) -> Any:
            # http.server looks up do_<METHOD>; any method not served above (TRACE, OPTIONS, HEAD, ...) is refused.
            if name.startswith("do_"):
                return self._refuse
            raise AttributeError(name)

    return _Handler


def _too_large(length: int, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """413 with the error body every endpoint uses (code, message naming the limit, correlation id)."""
    from keel.channels.http import correlation_id, error_response
    from keel.errors import PayloadTooLarge

    error = PayloadTooLarge(f"request body is {length} bytes; the limit is {MAX_REQUEST_BYTES} bytes")
    response = error_response(error, correlation=correlation_id({"headers": headers}))
    return int(response["statusCode"]), {**response["headers"], "Connection": "close"}, response["body"].encode()


def _json_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = {"error": {"code": code, "message": message or HTTPStatus(status).phrase}}
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
