"""Ownership (R23): every bot, knowledge source, prompt version and model has a named owner."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_FRONT_MATTER = re.compile(r"\A---\s*\n(?P<body>.*?)\n---", re.DOTALL)
_OWNER = re.compile(r"^owner:\s*(?P<owner>.*?)\s*$", re.MULTILINE)


def audit_owners(bots: list[dict[str, Any]], docs_dir: Path | None) -> tuple[bool, dict[str, Any]]:
    """Owners per kind of asset (the tenant's bots, its documents, prompts, models), and every asset without one."""
    from keel.models.prompt_library import PromptLibrary
    from keel.models.registry import load_registry_data

    missing: dict[str, list[str]] = {"bots": [], "documents": [], "prompts": [], "models": []}
    owners: dict[str, dict[str, str]] = {"bots": {}, "prompts": {}, "models": {}}
    _named(owners["bots"], missing["bots"], bots, "id")
    documents = 0
    doc_owners: set[str] = set()
    for path in sorted(docs_dir.rglob("*.md")) if docs_dir else []:
        documents += 1
        header = _FRONT_MATTER.match(path.read_text(encoding="utf-8"))
        found = _OWNER.search(header["body"]) if header else None
        if found and found["owner"].strip() not in ("", "null", "~"):
            doc_owners.add(found["owner"].strip())
        else:
            missing["documents"].append(str(path.relative_to(docs_dir or path.parent)))
    library = PromptLibrary()
    for bot in library.bots:
        for version in library.versions(bot):
            if version.owner.strip():
                owners["prompts"][version.label] = version.owner
            else:
                missing["prompts"].append(version.label)
    _named(owners["models"], missing["models"], load_registry_data()["models"], "id")
    evidence = {
        "bots": owners["bots"],
        "documents": {"count": documents, "owners": sorted(doc_owners)},
        "prompts": owners["prompts"],
        "models": owners["models"],
        "missing": {k: v for k, v in missing.items() if v},
    }
    return not any(missing.values()), evidence


def _named(owners: dict[str, str], missing: list[str], rows: list[dict[str, Any]], key: str) -> None:
    for row in rows:
        owner = str(row.get("owner") or "").strip()
        if owner:
            owners[str(row[key])] = owner
        else:
            missing.append(str(row.get(key)))
