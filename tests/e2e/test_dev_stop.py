"""`keel dev` as a person runs it in a terminal: Ctrl-C reaches the whole foreground process group.

The stack must survive that: its child servers live in their own process groups, the parent drains the
audit queue and writes the snapshot before stopping them, and a restart has the users (with their subjects),
the conversations, the audit records, the escalation and its ticket, and the ingested documents.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from keel.local.servers import free_port
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
# A traceback printed to the console (structured log lines carry theirs inside a JSON string).
RAW_TRACEBACK = re.compile(r"^Traceback \(most recent call last\)", re.MULTILINE)
KEEL = str(Path(sys.executable).parent / "keel")
START_TIMEOUT = 180.0
STOP_WITHIN = 10.0  # seconds from SIGINT to every process gone (issue 22)
USER = "dana-restart"
DOCUMENT = """---
title: Bicycle storage
acl_groups: [all-staff]
classification: internal
collection: hr
updated_at: 2026-11-01
---
# Bicycle storage

Bicycles are stored in the blue cage beside the loading bay; the cage code changes on the first Monday.
"""


@dataclass
class Dev:
    """One `keel dev` process, leader of its own process group (as a shell makes a foreground job)."""

    process: subprocess.Popen[str]
    state: Path
    log: Path

    def stack(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads((self.state / "stack.json").read_text())
        return info

    def children(self) -> list[int]:
        """Every process whose parent is keel dev."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                found.append(int(entry.name))
        return found

    def interrupt(self) -> tuple[int, float]:
        """Send SIGINT to the whole process group, as Ctrl-C does; returns the exit code and seconds taken."""
        started = time.monotonic()
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(timeout=60)
        return code, time.monotonic() - started

    def output(self) -> str:
        return self.log.read_text()


def _environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEEL_", "AWS_", "MOTO_"))}
    env.update({"KEEL_STATE_DIR": str(state), "KEEL_REPO_ROOT": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"})
    return env


def _start(state: Path, port: int, log: Path) -> Dev:
    (state / "stack.json").unlink(missing_ok=True)
    with log.open("a") as sink:
        process = subprocess.Popen(
            [KEEL, "dev", "--no-seed", "--port", str(port)],
            cwd=state.parent,
            env=_environment(state),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    dev = Dev(process, state, log)
    deadline = time.monotonic() + START_TIMEOUT
    while not (state / "stack.json").is_file():
        if process.poll() is not None:
            pytest.fail(f"keel dev exited with {process.returncode} while starting:\n{dev.output()[-3000:]}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"keel dev did not start within {START_TIMEOUT} s:\n{dev.output()[-3000:]}")
        time.sleep(0.2)
    return dev


def _keel(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KEEL, *args],
        check=False,
        cwd=state.parent,
        env=_environment(state),
        capture_output=True,
        text=True,
        timeout=120,
    )


def _ask(state: Path, question: str, conversation: str | None = None) -> dict[str, Any]:
    args = ["ask", question, "--user", USER, "--groups", "all-staff", "--json"]
    if conversation:
        args += ["--conversation", conversation]
    result = _keel(state, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    reply: dict[str, Any] = json.loads(result.stdout)
    return reply


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _post(url: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / "state"
    state.mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "bicycles.md").write_text(DOCUMENT)
    yield state


def test_ctrl_c_to_the_process_group_saves_everything_and_a_restart_continues(workspace: Path) -> None:
    state = workspace
    port = free_port()
    dev = _start(state, port, state.parent / "dev.log")
    try:
        ingest = _keel(state, "kb", "ingest", str(state.parent / "docs"), "--quiet")
        assert ingest.returncode == 0, ingest.stdout + ingest.stderr
        first = _ask(state, "Where are bicycles stored?")
        conversation = first["conversation_id"]
        handoff = _ask(state, "My laptop screen is cracked, please let me talk to a human agent", conversation)
        assert handoff["outcome"] == "escalated", handoff
        ticket = handoff["escalation"]["ticket_id"]
        children = dev.children()
        assert len(children) >= 3, "moto, osmem-server and the model endpoint run as child processes"
    except BaseException:
        os.killpg(dev.process.pid, signal.SIGKILL)
        raise

    code, seconds = dev.interrupt()
    print(f"\nSIGINT to the process group: exit {code} after {seconds:.1f} s")
    output = dev.output()
    assert code == 0, output[-3000:]
    assert not RAW_TRACEBACK.search(output)
    assert "keel: stopped; data saved" in output
    assert seconds < STOP_WITHIN
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()], "a child server outlived keel dev"

    dev = _start(state, port, state.parent / "dev.log")
    try:
        stack = dev.stack()
        # The same person keeps their subject, so their conversation answers instead of 404.
        again = _ask(state, "Thanks. Where are bicycles stored again?", conversation)
        assert again["conversation_id"] == conversation
        # The ingested document is searchable again, the escalation and its ticket are still there.
        hits = _post(
            f"{stack['opensearch_url']}/_search",
            {"query": {"match": {"text": "blue cage loading bay"}}, "size": 5},
        )["hits"]["hits"]
        assert any("cage" in hit["_source"].get("text", "") for hit in hits)
        tickets = _get(f"{stack['environment']['HELPDESK_URL']}/_control/tickets")
        ids = {str(t["id"]) for t in tickets["tickets"]}
        assert ticket in ids
        assert _keel(state, "audit", "drain").returncode == 0
        verify = _keel(state, "audit", "verify", "--expect", "3")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert _keel(state, "audit", "verify", "--expect", "2").returncode == 1
    except BaseException:
        os.killpg(dev.process.pid, signal.SIGKILL)
        raise

    # A save that cannot happen (moto is gone) is an error with a non-zero exit, not a quiet success.
    moto = next(pid for pid in dev.children() if "moto.server" in Path(f"/proc/{pid}/cmdline").read_text())
    os.kill(moto, signal.SIGKILL)
    code, seconds = dev.interrupt()
    output = dev.output()
    print(f"SIGINT with moto gone: exit {code} after {seconds:.1f} s")
    assert code == 1
    assert "keel: ERROR: could not" in output
    assert "keel: stopped; data saved" not in output.split("SIGINT received")[-1]
    assert not RAW_TRACEBACK.search(output)


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    import socket

    state = tmp_path / "state"
    state.mkdir()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = _keel(state, "dev", "--no-seed", "--port", str(port))
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is not available" in result.stderr and "--port" in result.stderr
    assert not RAW_TRACEBACK.search(result.stdout + result.stderr)
    assert "starting the local stack" not in result.stdout, "nothing may start before the port check"
