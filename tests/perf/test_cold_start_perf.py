"""Cold starts of the Lambda handlers (issue 19): what stacks/README.md quotes for the zip-versus-image choice.

Printed, never asserted on time (the machine is shared). Each figure comes from a fresh interpreter, as a
Lambda cold start does: the handler module's import (median of 3), its peak memory, and for the two
functions that carry the heaviest work (chat: the turn; ingest: parsing, deduplication, embeddings) the
first invocation against the local stack, then a second one in the same process (warm).
This machine is not Lambda: Lambda adds its own init (runtime start, layer extraction) and an arm64 core
of another speed, so the figures compare handlers with each other, not with a Lambda bill. The first
invocations run the local stack's path, which loads local-only models (the MiniLM ONNX embedder, spaCy
and Presidio) where AWS calls Titan and Comprehend; the test prints which were loaded, and the figures
are an upper bound of the AWS path's first invocation, not a measurement of it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.local import provision
from stacks.config import FUNCTION_NAMES
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration

# The process's own peak resident memory (ru_maxrss would carry over the parent's from fork).
_PEAK = """
def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
"""

_IMPORT = (
    _PEAK
    + """
import runpy, sys, time
started = time.perf_counter()
runpy.run_path(sys.argv[1])
millis = (time.perf_counter() - started) * 1000
print(f"{millis:.1f} {peak_mb():.1f}")
"""
)

_INVOKE = (
    _PEAK
    + """
import json, runpy, sys, time
started = time.perf_counter()
handler = runpy.run_path(sys.argv[1])["lambda_handler"]
imported = time.perf_counter()
event = json.loads(sys.argv[2])
first = handler(event, None)
invoked = time.perf_counter()
handler(event, None)
again = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - started) * 1000,
    "first_ms": (invoked - imported) * 1000,
    "warm_ms": (again - invoked) * 1000,
    "peak_mb": peak_mb(),
    "local_only": sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[3].split(","))),
    "result": first,
}, default=str))
"""
)


# Loaded on the local stack only: AWS embeds with Titan (Bedrock) and detects PII with Comprehend.
LOCAL_ONLY = "onnxruntime,tokenizers,spacy,presidio_analyzer,sklearn,profanity_check"


def _run(code: str, *args: str, environment: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=REPO_ROOT,
        env={**os.environ, **(environment or {})},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_every_handler_cold_import(local_stack: Any) -> None:
    # The local stack's settings stand in for the function's environment (some handlers read it at import).
    print("\ncold import of each handler in a fresh interpreter (median of 3; peak RSS of the process):")
    for name in FUNCTION_NAMES:
        handler = REPO_ROOT / "functions" / name / "handler.py"
        samples = [_run(_IMPORT, str(handler), environment=local_stack.environment).split() for _ in range(3)]
        millis = statistics.median(float(s[0]) for s in samples)
        peak = max(float(s[1]) for s in samples)
        print(f"  {name:<18} {millis:7.0f} ms   {peak:6.0f} MB")
        assert millis > 0


def _demo_documents() -> list[Path]:
    root = REPO_ROOT / "layers/core/src/keel/local/demo/docs"
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_first_invocation_of_chat_and_ingest(local_stack: Any) -> None:
    aws = AwsClients(region="us-east-1", endpoint_url=local_stack.moto.url)
    # Ingest: the demo documents in a bucket of their own, into indices of their own (the stack's stay as they are).
    bucket = "perf-cold-start-kb"
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=bucket)
    documents = _demo_documents()
    root = REPO_ROOT / "layers/core/src/keel/local/demo/docs"
    for path in documents:
        s3.put_object(Bucket=bucket, Key=str(path.relative_to(root)), Body=path.read_bytes())
    ingest_env = {
        **local_stack.environment,
        "KEEL_INDEX_INTERNAL": "perf-cold-internal",
        "KEEL_INDEX_EXTERNAL": "perf-cold-external",
    }
    ingest = json.loads(
        _run(
            _INVOKE,
            str(REPO_ROOT / "functions/ingest/handler.py"),
            json.dumps({"refresh": {"bucket": bucket}}),
            LOCAL_ONLY,
            environment=ingest_env,
        )
    )
    added = sum(r["added"] for r in ingest["result"]["reports"])
    # Chat: one signed-in employee's question through the API Gateway proxy event.
    password = provision.ensure_user(aws.cognito, local_stack.pool, "perf-cold", groups=["all-staff"])
    token = provision.sign_in(aws.cognito, local_stack.pool, "perf-cold", password)["IdToken"]
    event = {
        "headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        "body": json.dumps({"bot": "auto", "message": "How many days of annual leave do I get?"}),
    }
    chat = json.loads(
        _run(
            _INVOKE,
            str(REPO_ROOT / "functions/chat/handler.py"),
            json.dumps(event),
            LOCAL_ONLY,
            environment=local_stack.environment,
        )
    )
    print("\nfirst invocation in a fresh interpreter (then a second, warm, in the same process):")
    for name, figures, note in (
        ("ingest", ingest, f"refresh of {len(documents)} demo files, {added} documents added"),
        ("chat", chat, f"one 'auto' turn, status {chat['result']['statusCode']}"),
    ):
        print(
            f"  {name:<7} import {figures['import_ms']:6.0f} ms, first invocation {figures['first_ms']:6.0f} ms, "
            f"warm {figures['warm_ms']:6.0f} ms, peak {figures['peak_mb']:5.0f} MB ({note}); local-only "
            f"packages loaded: {', '.join(figures['local_only']) or 'none'}"
        )
    assert added > 0 and chat["result"]["statusCode"] == 200
