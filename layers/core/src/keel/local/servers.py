"""Start and stop the local stand-ins for AWS on 127.0.0.1 (used by `keel dev` and the test fixtures)."""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_http(url: str, *, timeout: float = 20.0) -> None:
    """Poll url until it answers (any status), or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - loopback URL built here
                return
        except urllib.error.HTTPError:
            return
        except OSError as exc:
            last = exc
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last}")


@dataclass
class MotoStack:
    """moto in server mode: local DynamoDB, S3, Cognito, SQS, Step Functions, Secrets Manager and more."""

    url: str
    port: int
    _server: Any

    @classmethod
    def start(cls, port: int | None = None) -> MotoStack:
        """Start a threaded moto server with Step Functions execution switched on."""
        from moto.server import ThreadedMotoServer

        # moto serves through werkzeug, which logs every request line at INFO.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        port = port or free_port()
        # Step Functions service integrations call back into moto on MOTO_PORT (default 5000).
        os.environ["MOTO_PORT"] = str(port)
        server = ThreadedMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
        server.start()
        url = f"http://{LOOPBACK}:{port}"
        wait_for_http(f"{url}/moto-api/")
        _post_json(f"{url}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        return cls(url=url, port=port, _server=server)

    def reset(self) -> None:
        """Forget every resource (tests use this between modules)."""
        _post_json(f"{self.url}/moto-api/reset", {})
        _post_json(f"{self.url}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})

    def stop(self) -> None:
        """Stop the server thread."""
        self._server.stop()


@dataclass
class OpenSearchStack:
    """osmem-server: the OpenSearch protocol over loopback (BM25 and filters, no k-NN)."""

    url: str
    _server: Any

    @classmethod
    def start(cls, port: int | None = None) -> OpenSearchStack:
        """Start osmem-server on a loopback port."""
        from osmem_server import OsmemServer

        addr = f"{LOOPBACK}:{port or free_port()}"
        server = OsmemServer.start(addr=addr, japanese=False)
        return cls(url=server.url, _server=server)

    def stop(self) -> None:
        """Stop the server process."""
        self._server.close()


def _post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass
