"""`keel kb`: ingest documents into the knowledge base of the running local stack, and show the report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest, NotFound, ServiceUnavailable

DEFAULT_INTERNAL = "keel-internal"
DEFAULT_EXTERNAL = "keel-external"
REPORT_NAME = "kb-report.json"


def register(subparsers: Any) -> None:
    """Add the `kb` command group."""
    group = subparsers.add_parser(
        "kb",
        help="knowledge base: ingest documents, show the hygiene report",
        description="Ingest documents into the knowledge base and review what was kept, dropped or rejected.",
    )
    commands = group.add_subparsers(dest="kb_command", metavar="SUBCOMMAND")
    commands.required = True

    ingest = commands.add_parser(
        "ingest",
        help="parse, clean, embed and index a folder or file",
        description=(
            "Ingest Markdown (YAML front matter), HTML, plain text, PDF and JSONL rows "
            "{id,title,text,acl_groups,classification,collection (or department),updated_at,supersedes,status}. "
            "Metadata may also come from a sidecar <file>.meta.json. The collection (or department, any case, "
            "or an alias from tenant.yaml) must be one the tenant defines; status words such as current, active, "
            "draft, superseded or archived are understood; a public document needs no acl_groups. A non-public "
            "file without acl_groups, an unknown classification or an unknown collection is rejected and "
            "listed in the report, and the command exits 1 unless --allow-rejects. Unchanged documents are "
            "skipped, so a second run over the same folder reports 0 changes. Example: keel kb ingest "
            "examples/lakeside-health/docs --tenant examples/lakeside-health --report kb-report.txt"
        ),
    )
    ingest.add_argument("path", type=Path, help="a folder (read recursively) or a single file")
    add_connection_arguments(ingest)
    ingest.add_argument("--report", type=Path, default=None, help="also write the report here (.json or text)")
    ingest.add_argument("--origin", default=None, help="name of this source (default: the folder's path)")
    ingest.add_argument(
        "--no-prune",
        action="store_true",
        help="keep documents of this origin that are no longer in PATH (default: they leave the index)",
    )
    ingest.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    ingest.add_argument(
        "--stale-days", type=int, default=365, help="flag documents not updated for this many days (default 365)"
    )
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.add_argument("--quiet", action="store_true", help="no progress bar")
    ingest.add_argument(
        "--allow-rejects", action="store_true", help="exit 0 even when some rows are rejected (a partial load)"
    )
    ingest.add_argument(
        "--tenant",
        type=Path,
        default=None,
        help="the tenant folder whose collections documents must name (default: the running stack's tenant, "
        "else the packaged example tenant)",
    )
    ingest.set_defaults(func=_ingest)

    report = commands.add_parser(
        "report",
        help="show the report of the last ingestion",
        description="Print the last ingestion report: changes, rejected files with reasons, duplicates, "
        "superseded, stale and conflicting documents.",
    )
    report.add_argument("--file", type=Path, default=None, help=f"a saved report (default: .keel/{REPORT_NAME})")
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    report.set_defaults(func=_report)


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    """--opensearch-url, index names and k-NN mode, shared with `keel eval retrieval`."""
    parser.add_argument(
        "--opensearch-url",
        default=None,
        help="OpenSearch endpoint (default: the running local stack, from .keel/stack.json)",
    )
    parser.add_argument("--index-internal", default=DEFAULT_INTERNAL, help=f"default {DEFAULT_INTERNAL}")
    parser.add_argument("--index-external", default=DEFAULT_EXTERNAL, help=f"default {DEFAULT_EXTERNAL}")
    parser.add_argument(
        "--knn",
        choices=("auto", "on", "off"),
        default="auto",
        help="engine has k-NN (AWS OpenSearch): on; osmem-server: off; auto asks the engine (default)",
    )


def opensearch_url(args: argparse.Namespace) -> str:
    """The endpoint from --opensearch-url or the running local stack."""
    if args.opensearch_url:
        url: str = args.opensearch_url
        if not url.startswith(("http://", "https://")):
            raise InvalidRequest(f"--opensearch-url {url!r} is not a URL; accepted: http://host:port")
        return url
    from keel.local.state import read_stack

    stack = read_stack()
    found = stack.get("opensearch_url")
    if not found:
        raise InvalidRequest("the local stack did not record opensearch_url; pass --opensearch-url")
    return str(found)


def connect(args: argparse.Namespace) -> tuple[Any, bool]:
    """An OpenSearch client and whether it has k-NN."""
    from keel.knowledge.opensearch import detect_knn, opensearch_client

    client = opensearch_client(opensearch_url(args))
    knn = detect_knn(client) if args.knn == "auto" else args.knn == "on"
    return client, knn


def _ingest(args: argparse.Namespace) -> int:
    from keel.knowledge.embeddings import OnnxMiniLMEmbedder
    from keel.knowledge.ingest import IndexNames, Ingestor
    from keel.knowledge.opensearch import ChunkIndex
    from keel.knowledge.service import ingest_folder

    if not args.path.exists():
        raise InvalidRequest(f"{args.path} does not exist; pass a folder or a file of documents")
    if args.stale_days < 1:
        raise InvalidRequest("--stale-days must be at least 1")
    if args.index_internal == args.index_external:
        raise InvalidRequest("internal and external content need two different indices")
    client, knn = connect(args)
    store = ChunkIndex(client, indices=(args.index_internal, args.index_external), knn=knn)
    ingestor = Ingestor(
        store,
        OnnxMiniLMEmbedder(),
        IndexNames(args.index_internal, args.index_external),
        stale_after_days=args.stale_days,
        progress=False if args.quiet else None,
        catalog=_tenant(args),
    )
    report = ingest_folder(ingestor, args.path, origin=args.origin, prune=not args.no_prune, dry_run=args.dry_run)
    _save(report.to_json(), args.report, report.to_text())
    print(report.to_json() if args.json else report.to_text())
    rejected = len(report.rejected)
    if rejected and not args.allow_rejects:
        print(
            f"keel: {rejected} of the rows/files were rejected (reasons above); nothing else failed. "
            "Fix them, or pass --allow-rejects to accept a partial load.",
            file=sys.stderr,
        )
        return 1
    if rejected:
        print(f"keel: partial load accepted (--allow-rejects): {rejected} rejected", file=sys.stderr)
    return 0


def _tenant(args: argparse.Namespace) -> Any:
    from keel.local.state import read_stack
    from keel.tenant.loader import load_tenant

    if args.tenant is not None:
        return load_tenant(args.tenant)
    try:
        running = read_stack().get("environment", {}).get("KEEL_TENANT_DIR")
    except ServiceUnavailable:
        running = None
    return load_tenant(running)


def _save(report_json: str, extra: Path | None, text: str) -> None:
    from keel.local.state import state_dir

    default = state_dir() / REPORT_NAME
    default.parent.mkdir(parents=True, exist_ok=True)
    default.write_text(report_json, encoding="utf-8")
    if extra is not None:
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_text(report_json if extra.suffix == ".json" else text + "\n", encoding="utf-8")


def _report(args: argparse.Namespace) -> int:
    from keel.knowledge.report import IngestReport
    from keel.local.state import state_dir

    path = args.file or state_dir() / REPORT_NAME
    if not path.is_file():
        raise NotFound(f"no ingestion report at {path}; run `keel kb ingest PATH` first")
    try:
        report = IngestReport.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequest(f"{path} is not a report written by `keel kb ingest --report FILE.json`") from exc
    sys.stdout.write((report.to_json() if args.json else report.to_text()) + "\n")
    return 0
