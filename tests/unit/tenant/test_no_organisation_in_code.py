"""No organisation lives in code: the runtime, the base policies and the stacks name none of the example
tenants' groups, bots, collections, users or domains. Each tenant's names live only in its folder."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from keel.tenant.loader import Tenant, default_tenant_dir, load_tenant

ROOT = Path(__file__).resolve().parents[3]
KEEL = ROOT / "layers" / "core" / "src" / "keel"
# What serves requests (the runtime), what decides access (base policies), what deploys it (stacks) and the launch
# checks (keel.launch reads the bots, users and documents it drives from the tenant: keel.launch.plan). keel.local (the
# laptop stand-ins and the packaged example tenant) is tooling, not the runtime.
SCANNED = [
    *(p for p in KEEL.rglob("*.py") if not p.is_relative_to(KEEL / "local")),
    *(KEEL / "access" / "policies").glob("*.cedar"),
    *(KEEL / "models").glob("*.json"),
    *(ROOT / "stacks").rglob("*.py"),
    ROOT / "app.py",
    *(ROOT / "functions").rglob("*.py"),
    *(ROOT / "web").rglob("*.js"),
    *(ROOT / "web").rglob("*.html"),
]
# English words and integration kinds that happen to equal an example id, where they mean that word.
WORDS: dict[str, set[str]] = {
    "keel/guardrails/output.py": {"it"},  # a stop-word list
    "keel/privacy/recognizers.py": {"it", "customer", "sales"},  # words that are never a person's name
    "keel/escalation/decision.py": {"it"},  # a stop-word list
    "keel/escalation/triage.py": {"it"},  # the language code of Italian
    "keel/escalation/config.py": {"it"},  # the language code of Italian
    "keel/escalation/corpus.py": {"it"},  # the language code of Italian
    "keel/guardrails/dataset.py": {"it"},  # the language code of Italian
    "keel/privacy/dataset.py": {"it"},  # the language code of Italian
    "keel/privacy/ner.py": {"it"},  # the language code of Italian (spaCy's stop-word lists)
    "keel/privacy/names.py": {"it"},  # the language code of Italian (given names by language)
    "keel/integrations/hr.py": {"hr"},  # the HR-system integration's kind
    "keel/tenant/model.py": {"hr"},  # the action families (cloud, crm, hr, helpdesk) a tenant assigns bots to
    "stacks/secrets.py": {"hr"},  # the HR-system integration's secret
    "stacks/stage.py": {"hr"},  # the HR-system integration's secret
    "stacks/constructs/settings_env.py": {"hr"},  # the HR-system integration's secret
    "stacks/api.py": {"ops"},  # the /v1/ops/kpis path
}


def names_of(tenant: Tenant) -> set[str]:
    spec = tenant.spec
    found = {c.id for c in spec.collections} | {b.id for b in spec.bots}
    found |= {g for b in spec.bots for g in b.allowed_groups} | {g for a in spec.access for g in a.groups}
    found |= {q.group for q in spec.escalation.agent_queues} | set(spec.operators)
    found |= {m.group for m in spec.groups} | {m.idp for m in spec.groups}
    users = tenant.users_file()
    for user in json.loads(users.read_text(encoding="utf-8")) if users else []:
        found |= {user["username"], *user["groups"]}
    found |= {b.owner.split("@", 1)[1] for b in spec.bots if "@" in b.owner}
    # Keel's own names, the same in every tenant: "public" (everyone) and "customers" (the group of the
    # self-service customer pool the identity stack creates).
    return found - {"public", "customers"}


TENANTS = [default_tenant_dir(), ROOT / "examples" / "lakeside-health"]
NAMES = sorted(set().union(*(names_of(load_tenant(t)) for t in TENANTS)))


def hits(path: Path, text: str) -> list[str]:
    relative = (
        path.relative_to(KEEL.parent).as_posix() if path.is_relative_to(KEEL) else path.relative_to(ROOT).as_posix()
    )
    allowed = WORDS.get(relative, set())
    found = []
    for name in NAMES:
        if name in allowed:
            continue
        quoted = re.search(rf"""["'`]{re.escape(name)}["'`]""", text)
        # Names that cannot be an English word are refused anywhere, comments and help texts included.
        distinctive = any(c in name for c in "-.@") and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text)
        if quoted or distinctive:
            found.append(f"{relative}: {name}")
    return found


def test_the_examples_have_names_to_look_for() -> None:
    assert {"hr-admins", "payroll-admins", "emma.engineer", "pharmacists", "ward-assistant"} <= set(NAMES)


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_runtime_base_policies_and_stacks_name_no_organisation(path: Path) -> None:
    assert hits(path, path.read_text(encoding="utf-8")) == []


def test_the_check_finds_a_planted_name(tmp_path: Path) -> None:
    planted = KEEL / "access" / "planted.py"
    assert hits(planted, 'GROUP = "payroll-admins"\n') == ["keel/access/planted.py: payroll-admins"]
    assert hits(planted, "# only members of hr-admins\n") == ["keel/access/planted.py: hr-admins"]
    assert hits(planted, 'bot = "customer"\n') == ["keel/access/planted.py: customer"]
