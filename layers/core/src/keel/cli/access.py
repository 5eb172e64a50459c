"""`keel access`: explain access decisions for operators (R6)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from keel.access.explain import explain_for, tenant_documents
from keel.access.pdp import PolicyDecisionPoint
from keel.cli.tenant import add_tenant_argument, tenant_from


def register(subparsers: Any) -> None:
    """Add the `access` command group."""
    group = subparsers.add_parser(
        "access", help="explain access decisions", description="Explain Keel's access decisions (Cedar policies)."
    )
    commands = group.add_subparsers(dest="access_command", metavar="SUBCOMMAND")
    commands.required = True
    explain = commands.add_parser(
        "explain",
        help="may this user see this document, through which bot, and which policy decided?",
        description=(
            "Say whether a user (described by id, groups, department and audience) may see a document, "
            "through which bot, and which Cedar policies decided. Example: "
            "keel access explain --user ana --groups staff,hr-managers --doc salary-bands --tenant ./my-tenant"
        ),
    )
    explain.add_argument("--user", required=True, help="the user's id or name (shown in the answer)")
    explain.add_argument("--groups", default="", help="comma-separated groups, e.g. staff,hr-managers")
    explain.add_argument("--external", action="store_true", help="the user is an external customer")
    explain.add_argument("--department", default=None, help="the user's department, e.g. hr")
    explain.add_argument("--doc", required=True, help="the document id, e.g. hr-salary-bands")
    explain.add_argument("--bot", default=None, help="only this bot (default: every bot)")
    explain.add_argument(
        "--docs",
        type=Path,
        default=None,
        help="a folder or file of documents, read as ingest reads them (default: the tenant's docs/)",
    )
    add_tenant_argument(explain)
    explain.add_argument("--json", action="store_true", help="print JSON instead of text")
    explain.set_defaults(func=_explain)


def _explain(args: argparse.Namespace) -> int:
    tenant = tenant_from(args)
    pdp = PolicyDecisionPoint.for_tenant(tenant)
    explanation = explain_for(
        user=args.user,
        groups=args.groups.split(","),
        doc_id=args.doc,
        pdp=pdp,
        documents=tenant_documents(tenant, args.docs),
        external=args.external,
        department=args.department,
        bot=args.bot,
        tenant=tenant.spec.id or "default",
    )
    if args.json:
        print(
            json.dumps(
                {
                    "user": explanation.user,
                    "document": explanation.document,
                    "visible_through": list(explanation.visible_through),
                    "verdicts": [
                        {"bot": v.bot, "visible": v.visible, "reason": v.reason, "policies": list(v.policy_ids)}
                        for v in explanation.verdicts
                    ],
                },
                indent=2,
            )
        )
    else:
        print(explanation.render())
    return 0 if explanation.visible_through else 1
