"""Shared fixtures: the local stand-ins for AWS, started once per session on free loopback ports."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Properties are about correctness, not speed: on a busy 2-core machine a per-example deadline only adds flakes.
settings.register_profile("keel", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("keel")

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLIC_EVAL_DIR = Path(os.environ.get("KEEL_PUBLIC_EVAL_DIR", REPO_ROOT.parent / "shared" / "eval" / "public"))

# Fake credentials so no SDK ever looks for real ones; every endpoint in tests is on 127.0.0.1.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def public_eval_file(name: str) -> Path:
    """A file of the public eval sets, or skip the test when the folder is absent (a user's machine)."""
    path = PUBLIC_EVAL_DIR / name
    if not path.is_file():
        pytest.skip(f"public eval set {path} is absent (it lives in ../shared/eval/public beside the repo)")
    return path


@pytest.fixture(scope="session")
def moto_stack() -> Iterator[object]:
    """moto server on a loopback port, Step Functions execution switched on."""
    from keel.local.servers import MotoStack

    stack = MotoStack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def opensearch_stack() -> Iterator[object]:
    """osmem-server on a loopback port."""
    from keel.local.servers import OpenSearchStack

    stack = OpenSearchStack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The whole local stack (what `make dev` runs), seeded with the demo tenant, on free ports."""
    from keel.local.stack import start_stack

    os.environ["KEEL_STATE_DIR"] = str(tmp_path_factory.mktemp("keel-state"))
    os.environ["KEEL_REPO_ROOT"] = str(REPO_ROOT)
    stack = start_stack(reset=True, seed=True)
    yield stack
    stack.stop()
