"""Read a tenant folder, check it as a whole, and report every problem at once with what is accepted."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from keel.errors import ConfigurationError
from keel.tenant.model import ACTION_KINDS, GROUP, TenantSpec

TENANT_FILE = "tenant.yaml"
POLICIES_FOLDER = "policies"
PROMPTS_FOLDER = "prompts"
USERS_FILE = "users.json"
DOCS_FOLDER = "docs"
_GROUP = re.compile(GROUP)
_POLICY_ID = re.compile(r'@id\(\s*"([^"]*)"\s*\)')


def default_tenant_dir() -> Path:
    """The example tenant the local stack and the tests use when no tenant is named."""
    return Path(str(resources.files("keel.local") / "demo"))


class TenantInvalid(ConfigurationError):
    """A tenant that must not reach a running stack; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]) -> None:
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"tenant {source} is invalid ({len(problems)} problem(s)):\n{listed}")
        self.problems = problems
        self.details = {"problems": problems}


@dataclass(frozen=True)
class Tenant:
    """A validated tenant: its spec, its folder (None when read from AppConfig) and its extra policies."""

    spec: TenantSpec
    folder: Path | None = None
    extra_policies: str = ""
    policy_files: tuple[str, ...] = field(default=())

    @property
    def name(self) -> str:
        """The organisation's display name."""
        return self.spec.name

    @cached_property
    def collections(self) -> dict[str, str]:
        """Every collection id and its audience."""
        return {c.id: c.audience for c in self.spec.collections}

    def audience_of(self, collection: str) -> str | None:
        """'internal' or 'external' for a known collection id, else None."""
        return self.collections.get(collection)

    def collection_ids(self) -> tuple[str, ...]:
        """Every collection id, in the order tenant.yaml lists them."""
        return tuple(self.collections)

    def collection_for(self, value: str) -> str | None:
        """The collection a row's `collection` or `department` names (case-insensitive, aliases), or None."""
        wanted = value.strip().lower()
        for spec in self.spec.collections:
            if wanted == spec.id or wanted in (a.strip().lower() for a in spec.aliases):
                return spec.id
            if spec.name and wanted == spec.name.strip().lower():
                return spec.id
        return None

    def grant_policies(self) -> str:
        """The tenant's grants as Cedar permits, one per grant, named ``grant.<collection>.<classification>``."""
        blocks = []
        if self.spec.everyone_reads:
            listed = ", ".join(json.dumps(k) for k in self.spec.everyone_reads)
            blocks.append(
                '@id("tenant.everyone-reads")\n'
                'permit (principal, action == Keel::Action::"retrieve", resource)\n'
                f'when {{ resource.audience == "internal" && !principal.external && [{listed}].contains('
                "context.classification) };"
            )
        for grant in self.spec.access:
            groups = " || ".join(f"principal in Keel::Group::{json.dumps(g)}" for g in grant.groups)
            blocks.append(
                f'@id("grant.{grant.collection}.{grant.classification}")\n'
                'permit (principal, action == Keel::Action::"retrieve", '
                f"resource == Keel::Collection::{json.dumps(grant.collection)})\n"
                f"when {{ context.classification == {json.dumps(grant.classification)} && ({groups}) }};"
            )
        return "\n\n".join(blocks) + "\n"

    def policy_text(self) -> str:
        """Generated grants plus the tenant's own policies (the base policies are added by the PDP)."""
        return self.grant_policies() + "\n" + self.extra_policies

    def users_file(self) -> Path | None:
        """The local stack's users of this tenant, if the folder has them."""
        return _optional(self.folder, USERS_FILE)

    def docs_dir(self) -> Path | None:
        """The tenant's example documents, if the folder has them."""
        return _optional(self.folder, DOCS_FOLDER)

    def prompts_dir(self) -> Path | None:
        """The tenant's prompt templates (prompts/<bot>/v<N>.md), if any."""
        return _optional(self.folder, PROMPTS_FOLDER)

    def agent_bots(self, groups: Iterable[str]) -> frozenset[str]:
        """The bots whose escalations an agent in these groups may see."""
        mine = set(groups)
        return frozenset(b for q in self.spec.escalation.agent_queues if q.group in mine for b in q.bots)

    def map_groups(self, idp_values: Iterable[str]) -> frozenset[str]:
        """Keel groups for identity-provider values: mapped where a mapping exists, else kept as they are."""
        mapping: dict[str, set[str]] = {}
        for entry in self.spec.groups:
            mapping.setdefault(entry.idp, set()).add(entry.group)
        out: set[str] = set()
        for value in idp_values:
            out |= mapping.get(value, {value})
        return frozenset(out)


class CurrentTenant:
    """The collections of whatever tenant a source serves now (ingestion's catalog when the tenant can change)."""

    def __init__(self, tenants: Callable[[], Tenant]) -> None:
        self._tenants = tenants

    def collection_for(self, value: str) -> str | None:
        """As Tenant.collection_for, on the current tenant."""
        return self._tenants().collection_for(value)

    def audience_of(self, collection: str) -> str | None:
        """As Tenant.audience_of, on the current tenant."""
        return self._tenants().audience_of(collection)

    def collection_ids(self) -> tuple[str, ...]:
        """As Tenant.collection_ids, on the current tenant."""
        return self._tenants().collection_ids()


def _optional(folder: Path | None, name: str) -> Path | None:
    if folder is None:
        return None
    path = folder / name
    return path if path.exists() else None


def load_tenant(folder: Path | str | None = None) -> Tenant:
    """Read and validate a tenant folder (the default example tenant when None); TenantInvalid lists every problem."""
    root = Path(folder) if folder is not None else default_tenant_dir()
    if root.is_file() and root.name == TENANT_FILE:
        root = root.parent
    if not root.is_dir():
        raise TenantInvalid(str(root), [f"{root} is not a folder; accepted: a folder holding {TENANT_FILE}"])
    path = root / TENANT_FILE
    if not path.is_file():
        raise TenantInvalid(str(root), [f"no {TENANT_FILE} in {root}; accepted: a folder holding {TENANT_FILE}"])
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TenantInvalid(str(root), [f"{TENANT_FILE} is not valid YAML: {exc}"]) from None
    policy_files = sorted((root / POLICIES_FOLDER).glob("*.cedar")) if (root / POLICIES_FOLDER).is_dir() else []
    extra = {p.name: p.read_text(encoding="utf-8") for p in policy_files}
    return tenant_from_data(raw, source=str(root), folder=root, policies=extra)


def tenant_from_data(
    raw: Any, *, source: str, folder: Path | None = None, policies: dict[str, str] | None = None
) -> Tenant:
    """Validate tenant data (parsed YAML, or AppConfig's JSON) and its extra Cedar policies."""
    if not isinstance(raw, dict):
        raise TenantInvalid(source, [f"{TENANT_FILE} must be a mapping with name, collections and bots"])
    try:
        spec = TenantSpec.model_validate(raw)
    except ValidationError as exc:
        raise TenantInvalid(source, [_describe(e) for e in exc.errors()]) from None
    policies = policies or {}
    tenant = Tenant(spec, folder, "\n".join(policies.values()), tuple(policies))
    problems = cross_check(spec) + policy_problems(tenant, policies)
    if folder is not None:
        problems += prompt_problems(tenant)
    if problems:
        raise TenantInvalid(source, problems)
    return tenant


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"]) or "tenant"
    if error["type"] == "missing":
        return f"{where}: is required"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key; see docs/tenant.md for the accepted keys"
    if error["type"] == "literal_error":
        return f"{where}: got {error.get('input')!r}; accepted: {error['ctx']['expected']}"
    if error["type"] == "string_pattern_mismatch":
        return f"{where}: got {error.get('input')!r}; accepted: {error['ctx']['pattern']}"
    return f"{where}: {error['msg']} (got {error.get('input')!r})"


def cross_check(spec: TenantSpec) -> list[str]:
    """Every problem across keys: unknown references, duplicates, audiences that would leak."""
    audiences: dict[str, set[str]] = {}
    for collection in spec.collections:
        audiences.setdefault(collection.id, set()).add(collection.audience)
    return (
        _collection_problems(spec, audiences)
        + _bot_problems(spec, audiences)
        + _grant_problems(spec, audiences)
        + _reference_problems(spec)
    )


def _collection_problems(spec: TenantSpec, audiences: dict[str, set[str]]) -> list[str]:
    problems = [
        f"collection {cid!r} is in two audiences (internal and external); a collection belongs to one "
        "audience, so internal text can never reach an external bot"
        for cid, seen in audiences.items()
        if len(seen) > 1
    ]
    two_audiences = set(audiences) - _single(audiences)
    return problems + _duplicates("collection", [c.id for c in spec.collections], skip=two_audiences)


def _bot_problems(spec: TenantSpec, audiences: dict[str, set[str]]) -> list[str]:
    problems = _duplicates("bot", [b.id for b in spec.bots])
    known = ", ".join(sorted(audiences))
    for bot in spec.bots:
        for cid in bot.collections:
            if cid not in audiences:
                problems.append(f"bot {bot.id!r} reads unknown collection {cid!r}; accepted: {known}")
            elif bot.audience == "external" and "internal" in audiences[cid]:
                problems.append(
                    f"external bot {bot.id!r} reads internal collection {cid!r}; an external bot reads only "
                    "external collections (an internal bot may read external ones)"
                )
        problems += _bad_groups(f"bot {bot.id!r} allowed_groups", bot.allowed_groups)
        problems += _escalation_problems(bot.id, bot.escalation)
        problems += _guardrail_problems(bot.id, bot.guardrails)
        if bot.audience == "internal" and not bot.allowed_groups:
            problems.append(
                f"internal bot {bot.id!r} has no allowed_groups; name the groups that may use it (e.g. all staff)"
            )
    return problems


def _escalation_problems(bot_id: str, raw: dict[str, Any]) -> list[str]:
    from keel.escalation.config import parse_bot_escalation

    return _setting_problems(parse_bot_escalation, bot_id, raw)


def _guardrail_problems(bot_id: str, raw: dict[str, Any]) -> list[str]:
    from keel.guardrails.verdict import parse_bot_policy

    return _setting_problems(parse_bot_policy, bot_id, raw)


def _setting_problems(parse: Callable[[str, dict[str, Any]], object], bot_id: str, raw: dict[str, Any]) -> list[str]:
    """A bot's settings object parsed as the runtime parses it; its error, if any, as a problem."""
    try:
        parse(bot_id, raw)
    except ConfigurationError as exc:
        return [exc.message]
    return []


def _grant_problems(spec: TenantSpec, audiences: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    known = ", ".join(sorted(audiences))
    pairs: Counter[tuple[str, str]] = Counter()
    for grant in spec.access:
        pairs[(grant.collection, grant.classification)] += 1
        if grant.collection not in audiences:
            problems.append(f"grant on unknown collection {grant.collection!r}; accepted: {known}")
        elif "external" in audiences[grant.collection] and grant.classification != "public":
            problems.append(
                f"grant of {grant.classification} on external collection {grant.collection!r}; external "
                "collections hold public documents only"
            )
        problems += _bad_groups(f"grant {grant.collection}/{grant.classification} groups", grant.groups)
    problems += [
        f"{classification} of {cid!r} is granted {count} times; merge the groups into one grant"
        for (cid, classification), count in sorted(pairs.items())
        if count > 1
    ]
    return problems


def _reference_problems(spec: TenantSpec) -> list[str]:
    bot_ids = {b.id for b in spec.bots}
    accepted = ", ".join(sorted(bot_ids))
    problems = _bad_groups("operators", spec.operators)
    for queue in spec.escalation.agent_queues:
        problems += [
            f"escalation.agent_queues: group {queue.group!r} is assigned unknown bot {b!r}; accepted: {accepted}"
            for b in queue.bots
            if b not in bot_ids
        ]
    for kind in ACTION_KINDS:
        problems += [
            f"actions.{kind} names unknown bot {b!r}; accepted: {accepted}"
            for b in getattr(spec.actions, kind)
            if b not in bot_ids
        ]
    return problems


def _single(audiences: dict[str, set[str]]) -> set[str]:
    return {cid for cid, seen in audiences.items() if len(seen) == 1}


def _duplicates(kind: str, ids: list[str], *, skip: set[str] | None = None) -> list[str]:
    skip = skip or set()
    return [
        f"{kind} id {i!r} is defined {n} times; ids are unique"
        for i, n in sorted(Counter(ids).items())
        if n > 1 and i not in skip
    ]


def _bad_groups(where: str, groups: Iterable[str]) -> list[str]:
    bad = [g for g in groups if not _GROUP.match(g)]
    if not bad:
        return []
    return [f"{where}: invalid group name(s) {bad}; accepted: letters, digits and _ . : @ - (no spaces or quotes)"]


def policy_problems(tenant: Tenant, policies: dict[str, str]) -> list[str]:
    """Each tenant policy file (and the generated grants) must parse and pass the Cedar schema."""
    import cedarpy

    from keel.access.pdp import SCHEMA_FILE, base_policy_text

    schema = SCHEMA_FILE.read_text(encoding="utf-8")
    base = base_policy_text()
    base_ids = set(_POLICY_ID.findall(base))
    problems = []
    sources = {"the generated grants": tenant.grant_policies(), **{f"policies/{n}": t for n, t in policies.items()}}
    for name, text in sources.items():
        result = cedarpy.validate_policies(text, schema)
        if not result.validation_passed:
            errors = "; ".join(str(e) for e in result.errors[:3])
            problems.append(f"{name} fails Cedar schema validation: {errors}")
            continue
        clash = sorted(base_ids & set(_POLICY_ID.findall(text)))
        if clash:
            problems.append(f"{name} reuses base policy id(s) {clash}; base policies cannot be replaced")
    return problems


def prompt_problems(tenant: Tenant) -> list[str]:
    """Prompt folders must name a bot of the tenant and hold well-formed templates."""
    root = tenant.prompts_dir()
    if root is None:
        return []
    from keel.models.prompt_library import PromptLibrary

    problems = []
    bot_ids = {b.id for b in tenant.spec.bots}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("_")):
        if folder.name not in bot_ids:
            problems.append(f"prompts/{folder.name} names no bot of the tenant; accepted: {', '.join(sorted(bot_ids))}")
    try:
        PromptLibrary(root)
    except ConfigurationError as exc:
        problems.append(f"prompts: {exc.message}")
    return problems
