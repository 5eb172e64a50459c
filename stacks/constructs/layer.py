"""The core library layer: ``keel`` and its pinned runtime dependencies, built at synth without Docker."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

RUNTIME = lambda_.Runtime.PYTHON_3_11
ARCHITECTURE = lambda_.Architecture.ARM_64
# The python3.11 Lambda runtime runs on Amazon Linux 2 (glibc 2.26): manylinux2014 wheels only.
_PIP_PLATFORM = "manylinux2014_aarch64"
_PYTHON_VERSION = "3.11"
_NAME = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?P<extras>\[[^\]]*\])?")


class LayerBuildError(RuntimeError):
    """The layer could not be built; the message says which step failed and its output."""


def runtime_requirements(project_dir: Path, lock_file: Path) -> list[str]:
    """The layer's direct dependencies pinned to the lock file's versions (``name==version``)."""
    project = tomllib.loads((project_dir / "pyproject.toml").read_text(encoding="utf-8"))
    wanted: list[tuple[str, str]] = []
    for dep in project["project"]["dependencies"]:
        match = _NAME.match(dep)
        if match is None:
            raise LayerBuildError(f"cannot read the dependency {dep!r} in {project_dir / 'pyproject.toml'}")
        wanted.append((_normalise(match["name"]), match["extras"] or ""))
    pins: dict[str, str] = {}
    for line in lock_file.read_text(encoding="utf-8").splitlines():
        name, sep, version = line.strip().partition("==")
        if sep:
            pins[_normalise(name)] = version
    missing = [name for name, _ in wanted if name not in pins]
    if missing:
        raise LayerBuildError(f"{lock_file.name} has no pin for {', '.join(missing)}; add exact pins first")
    # Extras stay (python-jose[cryptography]); the constraint file pins what they pull in.
    return [f"{name}{extras}=={pins[name]}" for name, extras in wanted]


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@jsii.implements(cdk.ILocalBundling)
class CoreLayerBundler:
    """Builds the layer with pip on this machine: ``python/`` holds keel and its pinned dependencies."""

    def __init__(self, project_dir: Path, lock_file: Path, python: str = sys.executable) -> None:
        """Bundle ``project_dir`` (layers/core) using the pins in ``lock_file``."""
        self._project_dir = project_dir
        self._lock_file = lock_file
        self._python = python

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        """Install the layer into ``output_dir``; raises LayerBuildError instead of falling back."""
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        requirements = runtime_requirements(self._project_dir, self._lock_file)
        pip = [self._python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--target"]
        self._run(
            "installing pinned runtime dependencies",
            [
                *pip,
                str(target),
                "--platform",
                _PIP_PLATFORM,
                "--implementation",
                "cp",
                "--python-version",
                _PYTHON_VERSION,
                "--only-binary=:all:",
                "--constraint",
                str(self._lock_file),
                *requirements,
            ],
        )
        # keel is pure Python: copy the package itself (no wheel build, no build-tool dependency).
        source = self._project_dir / "src" / "keel"
        if not (source / "__init__.py").is_file():
            raise LayerBuildError(f"core layer: {source} is not the keel package")
        shutil.copytree(source, target / "keel", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        self._run("compiling to .pyc", [self._python, "-m", "compileall", "-q", str(target)])
        return True

    def _run(self, step: str, command: list[str]) -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LayerBuildError(f"core layer: {step} could not run: {exc}") from exc
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-4000:]
            raise LayerBuildError(f"core layer: {step} failed (exit {done.returncode}):\n{output}")


def core_layer(scope: Construct, repo_root: Path, stage_name: str) -> lambda_.LayerVersion:
    """The keel layer for one stack (one per stack, so no layer ARN is ever a cross-stack export)."""
    project_dir = repo_root / "layers" / "core"
    bundler = CoreLayerBundler(project_dir, repo_root / "requirements.lock")
    return lambda_.LayerVersion(
        scope,
        "CoreLayer",
        code=lambda_.Code.from_asset(
            str(project_dir),
            exclude=["**/__pycache__", "*.egg-info", "build", "dist"],
            bundling=cdk.BundlingOptions(
                # Never pulled: local bundling always succeeds or raises.
                image=cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.11"),
                # jsii calls try_bundle(output_dir, options) positionally; the Protocol spells it keyword-only.
                local=cast(cdk.ILocalBundling, bundler),
            ),
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description=f"keel core library and pinned runtime dependencies ({stage_name})",
    )
