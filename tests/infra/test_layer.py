"""The core layer bundler: pins come from the lock file, failures are loud and say which step broke."""

from __future__ import annotations

from pathlib import Path

import pytest

from stacks.constructs.layer import CoreLayerBundler, LayerBuildError, runtime_requirements
from tests.infra.conftest import REPO_ROOT


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
