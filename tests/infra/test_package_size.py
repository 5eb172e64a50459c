"""The deployable's unzipped size, measured: every function's code plus its layers, printed, under its limit.

The layer is built for real here (pip from the lock file's pins for the Lambda platform, about 45 s),
once per session; the figures are printed, and each function must stay under Lambda's 250 MB quota
(code and layers together, unzipped).
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
def core_layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("core-layer")
    CoreLayerBundler(REPO_ROOT / "layers" / "core", REPO_ROOT / "requirements.lock").try_bundle(str(out))
    yield out / "python"


def test_every_function_and_layer_is_measured_and_under_the_lambda_quota(core_layer_dir: Path) -> None:
    layer = tree_size(core_layer_dir)
    largest = sorted(
        ((tree_size(p) if p.is_dir() else p.stat().st_size, p.name) for p in core_layer_dir.iterdir()),
        reverse=True,
    )[:8]
    print(f"\ncore layer: {layer / MB:.1f} MB unzipped; largest: " + ", ".join(f"{n} {s / MB:.1f}" for s, n in largest))
    over_target = []
    for name in FUNCTION_NAMES:
        code = function_code_size(name)
        total = code + layer
        flag = "" if total < TARGET_BYTES else "  (over the 200 MB target)"
        print(f"  {name:<18} code {code / 1024:7.1f} KB + layer = {total / MB:6.1f} MB of 250 MB{flag}")
        assert total < LAMBDA_UNZIPPED_LIMIT_BYTES, name
        if total >= TARGET_BYTES:
            over_target.append(name)
    print(f"  over the 200 MB target: {', '.join(over_target) or 'none'}")
