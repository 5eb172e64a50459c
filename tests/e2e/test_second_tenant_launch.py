"""The launch checks work for an organisation other than the example one: `keel dev --tenant` serves the Lakeside
Health folder, and the injection and privilege-escalation suites of `keel preflight` run against it with the bots,
users and documents its plan reads from that folder (keel.launch.plan), over the real HTTP API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from keel.launch import probes
from keel.launch.local import token_for
from keel.launch.plan import launch_plan
from keel.local.servers import free_port
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
KEEL = str(Path(sys.executable).parent / "keel")
LAKESIDE = REPO_ROOT / "examples" / "lakeside-health"
START_TIMEOUT = 180.0


@pytest.fixture
def lakeside_stack(tmp_path: Path) -> Iterator[dict[str, Any]]:
    state = tmp_path / "state"
    state.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEEL_", "AWS_", "MOTO_"))}
    env.update({"KEEL_STATE_DIR": str(state), "KEEL_REPO_ROOT": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "dev.log"
    with log.open("w") as sink:
        process = subprocess.Popen(
            [KEEL, "dev", "--tenant", str(LAKESIDE), "--port", str(free_port())],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (state / "stack.json").is_file():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"keel dev --tenant did not start (exit {process.poll()}):\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        info: dict[str, Any] = json.loads((state / "stack.json").read_text())
        # The test process talks to the stack's moto (token_for signs users in there), as `keel preflight` does.
        saved = {k: os.environ.get(k) for k in ("KEEL_STATE_DIR", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        os.environ.update(
            {"KEEL_STATE_DIR": str(state), "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}
        )
        try:
            yield info
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def test_preflights_live_suites_run_against_a_second_organisation(lakeside_stack: dict[str, Any]) -> None:
    plan = launch_plan(LAKESIDE)
    assert plan.bot not in {"hr", "it", "finance", "sales"}  # not the example company's bots
    users = {u["username"]: u for u in json.loads((LAKESIDE / "users.json").read_text(encoding="utf-8"))}
    cache: dict[str, str] = {}

    def token(user: str) -> str:
        if user not in cache:
            cache[user] = token_for(lakeside_stack, user, list(users[user]["groups"]))
        return cache[user]

    api = lakeside_stack["api_url"]
    ok, evidence = probes.injection_suite(api, token(plan.user), plan)
    # The control: the plan's question is answered for its user from a document they may read.
    assert evidence["control"]["answered"], evidence["control"]
    assert ok, [r for r in evidence["rows"] if not r["contained"]]
    ok, evidence = probes.escalation_suite(api, token, plan)
    crossings = evidence["external_to_internal_bots"]
    print(f"\nLakeside: {evidence['forbidden_questions']} forbidden questions, {crossings}")
    assert ok, evidence
    assert {c["status"] for c in crossings} == {403} and len(crossings) == len(plan.internal_bots)
    # The patient asked the patient-facing bot for internal documents too.
    assert any(c.user == plan.customer for c in plan.forbidden)
