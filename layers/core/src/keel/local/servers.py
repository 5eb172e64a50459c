"""Start and stop the local stand-ins for AWS on 127.0.0.1 (used by `keel dev` and the test fixtures)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
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
    """moto in server mode: local DynamoDB, S3, Cognito, SQS, Step Functions, Secrets Manager and more.

    It runs as its own process, not as a thread of the caller: moto does real work per request (DynamoDB
    queries deep-copy items), and in the API's process it competed with the turn for one interpreter lock
    (under 50 load-test users it took 40 % of that process's samples and left the second core idle).
    """

    url: str
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, port: int | None = None) -> MotoStack:
        """Start `python -m moto.server` with Step Functions execution switched on, and wait until it answers."""
        port = port or free_port()
        # Step Functions service integrations call back into moto on MOTO_PORT (default 5000).
        os.environ["MOTO_PORT"] = str(port)
        # A pool's and app client's id derive from their names, so a restart that restores a snapshot
        # serves the same issuer and audience as before.
        os.environ["MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY"] = "HASH"
        os.environ["MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY"] = "HASH"
        url = f"http://{LOOPBACK}:{port}"
        process = spawn_server(
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(port)],
            f"{url}/moto-api/",
            timeout=60,
            quiet_stderr=True,  # werkzeug logs every request line
        )
        try:
            _post_json(f"{url}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        except OSError:
            terminate(process)
            raise
        return cls(url=url, port=port, process=process)

    def reset(self) -> None:
        """Forget every resource (tests use this between modules)."""
        _post_json(f"{self.url}/moto-api/reset", {})
        _post_json(f"{self.url}/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})

    def stop(self) -> None:
        """Terminate the server process.

        moto holds nothing on disk and `keel dev` saves its data first; on SIGTERM it tears its interpreter
        down for seconds, so it is killed after a short grace.
        """
        terminate(self.process, grace=0.5)


def spawn_server(
    command: list[str],
    ready_url: str,
    *,
    timeout: float = 20.0,
    quiet_stderr: bool = False,
    stdin_pipe: bool = False,
) -> subprocess.Popen[bytes]:
    """Start a local server process and wait until ready_url answers; a server that never does is stopped.

    The child runs in its own process group: Ctrl-C in a terminal signals the whole foreground group, and a
    child that died with it would take its data along before the parent could save a snapshot. The parent
    stops it (terminate()) once it no longer needs it.
    """
    process = subprocess.Popen(  # noqa: S603 - our own or moto's server module, arguments built by the caller
        command,
        stdin=subprocess.PIPE if stdin_pipe else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet_stderr else None,
        process_group=0,
    )
    try:
        wait_for_http(ready_url, timeout=timeout)
    except TimeoutError:
        terminate(process)
        raise
    return process


def terminate(process: subprocess.Popen[bytes], *, grace: float = 5.0) -> None:
    """Stop a child server: terminate, then kill if it has not exited after grace seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@dataclass
class OpenSearchStack:
    """osmem-server: the OpenSearch protocol over loopback (BM25 and filters, no k-NN)."""

    url: str
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, port: int | None = None) -> OpenSearchStack:
        """Start the osmem-server binary on a loopback port, in its own process group, and wait until it answers.

        osmem_server.OsmemServer.start cannot start its child in a new process group, so the binary it
        ships is started here; it exits by itself when this process does (--parent-pid).
        """
        from osmem_server import resolve_binary

        port = port or free_port()
        url = f"http://{LOOPBACK}:{port}"
        command = [resolve_binary(), "--parent-pid", str(os.getpid()), "--no-ja", "--addr", f"{LOOPBACK}:{port}"]
        # It also exits when its stdin closes: hand it a pipe that stays open until stop().
        return cls(url=url, process=spawn_server(command, f"{url}/", stdin_pipe=True))

    def stop(self) -> None:
        """Stop the server process."""
        terminate(self.process)


def _post_json(url: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass
