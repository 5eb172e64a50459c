"""`keel eval`: quality evaluations; `keel eval retrieval` scores the knowledge base on a golden set."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

REPO_ROOT = Path(__file__).resolve().parents[5]
DEFAULT_GOLDEN = REPO_ROOT / "evals" / "retrieval" / "golden.jsonl"


def register(subparsers: Any) -> None:
    """Add the `eval` command group (subcommands: retrieval; others add theirs with add_parser)."""
    group = subparsers.add_parser(
        "eval", help="run quality evaluations", description="Evaluate Keel against golden sets."
    )
    commands = group.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")
    commands.required = True
    register_retrieval(commands)
    from keel.cli.scenarios import register_scenarios

    register_scenarios(commands)


def register_retrieval(commands: Any) -> None:
    """Add `keel eval retrieval`."""
    from keel.cli.kb import add_connection_arguments
    from keel.cli.tenant import add_tenant_argument

    parser = commands.add_parser(
        "retrieval",
        help="recall@k and MRR of the knowledge base on a golden set",
        description=(
            "Ask every golden question as its user through its bot (scope from the access policies), "
            "then print recall@k, MRR and every miss. Rows: {id, bot, user, question, expected_doc_ids}. "
            "Runs against the running local stack unless --opensearch-url is given."
        ),
    )
    parser.add_argument("--golden", type=Path, default=DEFAULT_GOLDEN, help="golden .jsonl (default: evals/...)")
    parser.add_argument("--users", type=Path, default=None, help="users.json (default: the tenant's)")
    add_tenant_argument(parser)
    parser.add_argument("-k", type=int, default=5, help="passages per question (default 5)")
    parser.add_argument("--min-recall", type=float, default=None, help="exit 1 when recall@k is below this")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_connection_arguments(parser)
    parser.set_defaults(func=_retrieval)


def _retrieval(args: argparse.Namespace) -> int:
    from keel.access.pdp import PolicyDecisionPoint
    from keel.access.scope import Indexes, scope_for
    from keel.cli.kb import connect
    from keel.cli.tenant import tenant_from
    from keel.identity.principal import principals_from_file
    from keel.knowledge.embeddings import OnnxMiniLMEmbedder
    from keel.knowledge.evaluation import evaluate, load_golden
    from keel.knowledge.opensearch import OpenSearchRetriever

    if args.k < 1:
        raise InvalidRequest("-k must be at least 1")
    questions = load_golden(args.golden)
    tenant = tenant_from(args)
    users = args.users or tenant.users_file()
    if users is None:
        raise InvalidRequest(f"the tenant {tenant.name!r} has no users.json; pass --users users.json")
    principals = principals_from_file(users, tenant.spec.id or "default")
    pdp = PolicyDecisionPoint.for_tenant(tenant)
    indexes = Indexes(internal=args.index_internal, external=args.index_external)
    client, knn = connect(args)
    retriever = OpenSearchRetriever(client, OnnxMiniLMEmbedder(), knn)

    def scope_of(user: str, bot: str) -> Any:
        if user not in principals:
            raise InvalidRequest(f"user {user!r} of the golden set is not in {users}")
        return scope_for(principals[user], bot, pdp, indexes=indexes)

    result = evaluate(retriever, questions, scope_of, k=args.k)
    if args.json:
        print(
            json.dumps(
                {
                    "k": result.k,
                    "questions": len(result.results),
                    "recall": round(result.recall, 4),
                    "mrr": round(result.mrr, 4),
                    "misses": [
                        {"id": m.question.id, "retrieved": list(m.retrieved), "error": m.error} for m in result.misses
                    ],
                },
                indent=2,
            )
        )
    else:
        print(result.to_text())
    if args.min_recall is not None and result.recall < args.min_recall:
        return 1
    return 0
