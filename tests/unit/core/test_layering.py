"""The layering holds: capabilities never import a channel, production code never imports the local
stand-ins, and the CDK stacks take names and constants only from keel.contract (no runtime module)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
KEEL = ROOT / "layers" / "core" / "src" / "keel"
CAPABILITIES = (
    "identity", "access", "guardrails", "privacy", "knowledge", "models", "conversations",
    "escalation", "actions", "audit", "analytics", "integrations", "tenant",
)  # fmt: skip
# Tooling that may drive the local stand-ins: the local stack itself, the CLI and the launch checks.
LOCAL_USERS = ("local", "cli", "launch")


def imports(path: Path) -> set[str]:
    """Every module path.py imports (absolute names), at any depth (lazy imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def package_of(path: Path) -> str:
    return path.relative_to(KEEL).parts[0].removesuffix(".py")


def modules(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", [p for p in modules(KEEL) if package_of(p) in CAPABILITIES], ids=str)
def test_capabilities_never_import_a_channel(path: Path) -> None:
    assert not {m for m in imports(path) if m == "keel.channels" or m.startswith("keel.channels.")}


@pytest.mark.parametrize("path", [p for p in modules(KEEL) if package_of(p) not in LOCAL_USERS], ids=str)
def test_production_code_never_imports_the_local_stand_ins(path: Path) -> None:
    assert not {m for m in imports(path) if m == "keel.local" or m.startswith("keel.local.")}


# What the stacks may import from keel: modules of names and data that import the standard library only.
STACK_IMPORTABLE = {"keel.contract": KEEL / "contract.py", "keel.models.catalogue": KEEL / "models" / "catalogue.py"}


@pytest.mark.parametrize("path", [*modules(ROOT / "stacks")], ids=str)
def test_stacks_take_names_only_from_dependency_free_modules(path: Path) -> None:
    keel = {m for m in imports(path) if m == "keel" or m.startswith("keel.")}
    assert {m for m in keel if not any(m == a or m.startswith(a + ".") for a in STACK_IMPORTABLE)} == set()


@pytest.mark.parametrize("module", sorted(STACK_IMPORTABLE))
def test_what_the_stacks_import_depends_on_the_standard_library_only(module: str) -> None:
    roots = {name.split(".")[0] for name in imports(STACK_IMPORTABLE[module])}
    assert roots <= set(sys.stdlib_module_names) | {"__future__"}, roots
