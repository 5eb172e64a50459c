"""Figures for the whole turn (issue 2): the chat handler's cold import and a turn's p50/p95 on the local stack.

Printed, never asserted on time: the machine is shared and timings move.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.local import provision
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration
QUESTIONS = [
    "How many days of annual leave do I get?",
    "How do I connect to the VPN from home?",
    "What is the limit for expense claims without a receipt?",
    "How do I report a security incident?",
]


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def test_chat_handler_cold_import() -> None:
    handler = REPO_ROOT / "functions" / "chat" / "handler.py"
    code = (
        "import time, runpy, sys; t = time.perf_counter(); "
        f"runpy.run_path({str(handler)!r}); print((time.perf_counter() - t) * 1000, 'langchain_aws' in sys.modules)"
    )
    samples = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        millis, langchain = out.stdout.split()
        samples.append(float(millis))
    print(
        f"\nchat handler cold import over 5 fresh interpreters: median {statistics.median(samples):.0f} ms, "
        f"min {min(samples):.0f} ms, max {max(samples):.0f} ms; langchain_aws imported: {langchain}"
    )
    assert langchain == "False"


def test_turn_latency_on_the_local_stack(local_stack: Any) -> None:
    aws = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    password = provision.ensure_user(aws.cognito, local_stack.pool, "perf-user", groups=["all-staff"])
    token = provision.sign_in(aws.cognito, local_stack.pool, "perf-user", password)["IdToken"]

    def turn(question: str) -> float:
        body = json.dumps({"bot": "auto", "message": question}).encode()
        request = urllib.request.Request(
            f"{local_stack.api.url}/v1/chat",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 200
            response.read()
        return (time.perf_counter() - started) * 1000

    for question in QUESTIONS:  # warm: the first turn loads the embedder, spaCy and the classifier
        turn(question)
    samples = [turn(QUESTIONS[i % len(QUESTIONS)]) for i in range(40)]
    print(
        f"\nturn over HTTP on the local stack (40 turns, bot auto): p50 {_percentile(samples, 0.5):.0f} ms, "
        f"p95 {_percentile(samples, 0.95):.0f} ms, max {max(samples):.0f} ms"
    )
