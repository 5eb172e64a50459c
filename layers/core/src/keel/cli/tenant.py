"""`keel tenant`: validate a tenant folder before it is deployed, and show who may read what (R6, R16)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from keel.tenant.loader import Tenant, TenantInvalid, load_tenant

SCHEMA_FILE = Path("docs/tenant.schema.json")


def add_tenant_argument(parser: argparse.ArgumentParser) -> None:
    """The --tenant option every command that reads the organisation shares."""
    parser.add_argument(
        "--tenant",
        type=Path,
        default=None,
        help="the tenant folder holding tenant.yaml (default: the packaged example tenant)",
    )


def tenant_from(args: argparse.Namespace) -> Tenant:
    """The validated tenant named by --tenant (or the default one)."""
    return load_tenant(getattr(args, "tenant", None))


def register(subparsers: Any) -> None:
    """Add the `tenant` command group."""
    group = subparsers.add_parser(
        "tenant",
        help="validate or show a tenant folder",
        description="A tenant folder (tenant.yaml, policies/*.cedar, prompts/) is one organisation's configuration.",
    )
    commands = group.add_subparsers(dest="tenant_command", metavar="SUBCOMMAND")
    commands.required = True
    validate = commands.add_parser(
        "validate",
        help="check a tenant folder; exit 2 listing every problem and what is accepted",
        description="Check tenant.yaml, its references, its grants and its Cedar policies. Exit 0 when valid.",
    )
    validate.add_argument("path", type=Path, help="the tenant folder (or its tenant.yaml)")
    validate.add_argument("--json", action="store_true", help="print JSON instead of text")
    validate.set_defaults(func=_validate)
    show = commands.add_parser(
        "show",
        help="who may use which bot and read what, as a table",
        description="Print the tenant's bots, collections and the groups that may read each classification.",
    )
    show.add_argument("path", type=Path, help="the tenant folder (or its tenant.yaml)")
    show.add_argument("--json", action="store_true", help="print JSON instead of a table")
    show.set_defaults(func=_show)
    schema = commands.add_parser(
        "schema",
        help="write (or --check) the JSON schema of tenant.yaml that AppConfig validates deployments with",
        description="The JSON schema of tenant.yaml (docs/tenant.schema.json); the CDK app deploys it as the "
        "AppConfig validator, so a document that does not match is refused before it reaches any function.",
    )
    schema.add_argument("--output", type=Path, default=SCHEMA_FILE, help=f"default {SCHEMA_FILE}")
    schema.add_argument("--check", action="store_true", help="exit 1 when the file differs from the model")
    schema.set_defaults(func=_schema)


def _validate(args: argparse.Namespace) -> int:
    try:
        tenant = load_tenant(args.path)
    except TenantInvalid as exc:
        if args.json:
            print(json.dumps({"valid": False, "problems": exc.problems}, indent=2))
            return 2
        raise
    summary = {
        "valid": True,
        "name": tenant.name,
        "collections": len(tenant.spec.collections),
        "bots": len(tenant.spec.bots),
        "grants": len(tenant.spec.access),
        "policy_files": list(tenant.policy_files),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"tenant {tenant.name!r} is valid: {summary['collections']} collections, {summary['bots']} bots, "
            f"{summary['grants']} grants, {len(tenant.policy_files)} policy file(s)"
        )
    return 0


def tenant_schema() -> dict[str, Any]:
    """The JSON schema AppConfig validates {"tenant": ..., "policies": {...}} documents with."""
    from keel.tenant.model import TenantSpec

    spec = TenantSpec.model_json_schema()
    definitions = spec.pop("$defs", {})
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": "Keel tenant (AppConfig document)",
        "type": "object",
        "required": ["tenant", "policies"],
        "additionalProperties": False,
        "properties": {
            "tenant": spec,
            "policies": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "definitions": definitions,
    }


def _schema(args: argparse.Namespace) -> int:
    text = json.dumps(tenant_schema(), indent=2, sort_keys=True).replace("#/$defs/", "#/definitions/") + "\n"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} differs from keel.tenant.model; run `keel tenant schema`", file=sys.stderr)
            return 1
        print(f"{args.output} matches the model")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def readers(tenant: Tenant) -> list[dict[str, Any]]:
    """One row per (collection, classification): who may read it, through which bots."""
    spec = tenant.spec
    grants = {(g.collection, g.classification): sorted(g.groups) for g in spec.access}
    rows = []
    for collection in spec.collections:
        bots = [b.id for b in spec.bots if collection.id in b.collections]
        for classification in ("public", "internal", "confidential", "restricted"):
            if collection.audience == "external":
                who = ["everyone (public)"] if classification == "public" else []
            elif classification in spec.everyone_reads:
                who = ["every internal user"]
            else:
                who = grants.get((collection.id, classification), [])
            rows.append(
                {
                    "collection": collection.id,
                    "audience": collection.audience,
                    "classification": classification,
                    "readers": who,
                    "bots": bots,
                }
            )
    return rows


def _show(args: argparse.Namespace) -> int:
    tenant = load_tenant(args.path)
    rows = readers(tenant)
    bots = [
        {
            "bot": b.id,
            "audience": b.audience,
            "users": list(b.allowed_groups),
            "collections": list(b.collections),
            "owner": b.owner,
        }
        for b in tenant.spec.bots
    ]
    if args.json:
        print(json.dumps({"name": tenant.name, "bots": bots, "access": rows}, indent=2))
        return 0
    bot_rows = [
        [b.id, b.audience, ", ".join(b.allowed_groups) or "(anyone)", ", ".join(b.collections), b.owner]
        for b in tenant.spec.bots
    ]
    access_rows = [
        [
            str(r["collection"]),
            str(r["audience"]),
            str(r["classification"]),
            ", ".join(r["readers"]) or "nobody",
            ", ".join(r["bots"]) or "-",
        ]
        for r in rows
    ]
    print(f"{tenant.name}\n")
    print(_table(["bot", "audience", "used by groups", "reads collections", "owner"], bot_rows))
    print()
    print(_table(["collection", "audience", "classification", "readable by", "through bots"], access_rows))
    extra = ", ".join(tenant.policy_files) or "none"
    print(f"\nDocument ACLs (acl_groups) narrow every row further; extra policies: {extra}")
    return 0


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(head, *rows, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
