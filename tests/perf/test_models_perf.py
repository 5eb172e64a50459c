"""Model path figures: converse round trips on the local endpoint, router overhead, import costs.

Printed, never asserted on time (run with -s to see them).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keel.knowledge.ports import Passage
from keel.local.model_server import RunningModelServer, start
from keel.models.bedrock import BedrockConverseModel, client_config
from keel.models.ports import ChatMessage
from keel.models.prompt_library import PromptLibrary
from keel.models.registry import ModelRegistry, ModelSpec, load_registry_data
from keel.models.router import ModelRouter

REPO_ROOT = Path(__file__).resolve().parents[2]
PRIMARY = "anthropic.claude-3-5-sonnet-20240620-v1:0"
PASSAGES = [
    Passage(f"hr-doc-{n}", f"c{n}", f"Policy {n}", f"Employees get {20 + n} days of annual leave. " * 8, 1.0)
    for n in range(5)
]


@pytest.fixture(scope="module")
def server() -> Iterator[RunningModelServer]:
    running = start()
    yield running
    running.stop()


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def _time(fn: Callable[[], object], runs: int) -> list[float]:
    fn()  # warm the connection pool
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def test_converse_round_trip_and_router_overhead(server: RunningModelServer) -> None:
    import boto3

    client = boto3.session.Session().client(
        "bedrock-runtime", endpoint_url=server.url, region_name="us-east-1", config=client_config(read_timeout=5)
    )
    library = PromptLibrary()
    system, _ = library.system_prompt("hr")
    messages = [ChatMessage("user", library.user_message("How many days of annual leave do I get?", PASSAGES))]
    model = BedrockConverseModel(client)
    specs = {m["id"]: ModelSpec(**m) for m in load_registry_data()["models"]}
    router = ModelRouter(model, ModelRegistry(specs, primary=PRIMARY, secondary=PRIMARY, small=PRIMARY))

    raw = _time(lambda: model.converse(PRIMARY, system, messages, max_tokens=400), 300)
    routed = _time(lambda: router.generate("hr", system, messages, PASSAGES), 300)
    streamed = _time(lambda: list(model.converse_stream(PRIMARY, system, messages, max_tokens=400)), 100)
    for label, samples in (("converse", raw), ("router.generate", routed), ("converse_stream", streamed)):
        p50, p95 = _percentiles(samples)
        print(f"\n{label:>16} round trip on the local endpoint: p50 {p50:.2f} ms, p95 {p95:.2f} ms (n={len(samples)})")


def _cold_import_ms(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT
        ).stdout
        runs.append(float(out.strip().splitlines()[-1]))
    return statistics.median(runs)


def test_import_costs() -> None:
    for module in ("keel.models.router", "keel.models.bedrock", "langchain_aws"):
        print(f"\ncold import of {module:<20}: {_cold_import_ms(module):7.1f} ms (median of 3 fresh interpreters)")
    handler = REPO_ROOT / "functions" / "chat" / "handler.py"
    if handler.is_file():
        code = (
            "import runpy, time; t = time.perf_counter(); "
            f"runpy.run_path({str(handler)!r}); print((time.perf_counter() - t) * 1000)"
        )
        out = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, cwd=REPO_ROOT)
        figure = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else "failed"
        print(f"\ncold import of functions/chat/handler.py: {figure} ms")
        lazy = subprocess.run(
            [
                sys.executable,
                "-c",
                f"import runpy, sys; runpy.run_path({str(handler)!r}); print('langchain_aws' in sys.modules)",
            ],
            check=False,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        print(f"langchain_aws imported by the chat handler: {lazy.stdout.strip() or lazy.stderr.strip()[-200:]}")
