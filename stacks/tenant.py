"""The tenant folder as the CDK app deploys it: tenant.yaml and policies/*.cedar, read as data (R16).

Dependency-free on purpose (PyYAML only): the stacks take the organisation from here, never from the
runtime's modules. ``app.py`` validates the folder with ``keel tenant validate``'s checks before it
builds any stage, so a broken tenant never reaches AWS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

TENANT_FILE = "tenant.yaml"


class TenantFolderError(ValueError):
    """The folder cannot be read as a tenant; the message says what is accepted."""


@dataclass(frozen=True)
class TenantBundle:
    """tenant.yaml as JSON data plus the extra Cedar policies, as AppConfig serves them to the functions."""

    document: Mapping[str, Any]
    policies: Mapping[str, str] = field(default_factory=dict)

    @property
    def bot_ids(self) -> tuple[str, ...]:
        """The bots the stage watches (a dashboard and alarms per bot)."""
        return tuple(str(b["id"]) for b in self.document.get("bots", []) if isinstance(b, Mapping) and "id" in b)

    def content(self) -> str:
        """The AppConfig configuration document: {"tenant": ..., "policies": {file: text}}."""
        return json.dumps({"tenant": self.document, "policies": dict(self.policies)}, sort_keys=True)


def read_tenant(folder: Path) -> TenantBundle:
    """Read tenant.yaml and policies/*.cedar from folder."""
    path = folder / TENANT_FILE
    if not path.is_file():
        raise TenantFolderError(f"no {TENANT_FILE} in {folder}; accepted: a tenant folder (see docs/tenant.md)")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TenantFolderError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(document, dict):
        raise TenantFolderError(f"{path} must be a mapping with name, collections and bots")
    policies = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "policies").glob("*.cedar"))}
    return TenantBundle(json.loads(json.dumps(document, default=str)), policies)
