"""`keel audit`: verify the audit chains, export a conversation's records, sign digests, drain the queue."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

from keel.errors import InvalidRequest

DEFAULT_REGION = "us-east-1"


def register(subparsers: Any) -> None:
    """Add the audit command group."""
    parser = subparsers.add_parser(
        "audit",
        help="verify and export the tamper-evident audit trail",
        description="Tools over the audit archive. By default they use the running local stack (.keel/stack.json); "
        "pass --endpoint-url/--bucket/--table to point them elsewhere (no endpoint means AWS).",
    )
    commands = parser.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    commands.required = True

    verify = commands.add_parser(
        "verify",
        help="recompute the hash chains and report modified, missing, inserted or reordered records",
        description="Recompute every chain (one per tenant per UTC day) from the stored records, check each link, "
        "the ledger head and the KMS-signed digests. Exit code 0 when all chains are intact, 1 when anything "
        "is wrong (finding no chain at all counts as wrong unless --allow-empty; a record count other than "
        "--expect N too), 2 on a usage or connection error.",
    )
    _range_options(verify)
    verify.add_argument(
        "--expect",
        type=_count,
        metavar="N",
        help="fail unless exactly N records are found (e.g. the turns served since the archive was empty)",
    )
    verify.add_argument(
        "--allow-empty", action="store_true", help="an archive with no chain is fine (a stack that served no turn)"
    )
    verify.add_argument("--json", action="store_true", help="print the findings as JSON")
    verify.add_argument("--no-ledger", action="store_true", help="do not compare with the ledger's chain heads")
    verify.set_defaults(func=run_verify)

    export = commands.add_parser(
        "export",
        help="write one conversation's audit records as JSON, Markdown and HTML",
        description="Find every audit record of a conversation and write audit-<id>.json, .md and .html.",
    )
    export.add_argument("--conversation", required=True, help="the conversation id")
    export.add_argument("--out", type=Path, default=Path("audit-export"), help="output folder (default audit-export)")
    _range_options(export)
    export.set_defaults(func=run_export)

    digest = commands.add_parser(
        "digest",
        help="sign a digest of each chain's head with KMS and store it beside the records",
        description="What the hourly schedule does in AWS: for each chain of the day, sign first/last seq, "
        "count and head hash with the audit signing key.",
    )
    digest.add_argument("--day", type=_day, default=None, help="UTC day YYYY-MM-DD (default today)")
    digest.add_argument("--signing-key-id", help="KMS key id (default: the local stack's audit signing key)")
    _endpoint_options(digest)
    digest.set_defaults(func=run_digest)

    drain = commands.add_parser(
        "drain",
        help="write every queued audit record into the archive (what the writer Lambda does in AWS)",
        description="Read the audit queue until it is empty, seal each record into its chain and store it.",
    )
    drain.add_argument("--queue-url", help="audit queue URL (default: the local stack's)")
    _endpoint_options(drain)
    drain.set_defaults(func=run_drain)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day; use YYYY-MM-DD, e.g. 2026-11-24") from None


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a record count; use a whole number, 0 or more")
    return value


def _endpoint_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint-url", help="AWS endpoint (default: the local stack's moto)")
    parser.add_argument("--region", help=f"AWS region (default: the stack's, else {DEFAULT_REGION})")
    parser.add_argument("--bucket", help="audit bucket (default: the local stack's)")
    parser.add_argument("--table", help="audit ledger table (default: the local stack's)")


def _range_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", type=_day, help="first UTC day to include, YYYY-MM-DD")
    parser.add_argument("--until", type=_day, help="last UTC day to include, YYYY-MM-DD")
    parser.add_argument("--tenant", help="only this tenant's chains")
    _endpoint_options(parser)


@dataclass(frozen=True)
class Target:
    """Where the audit resources are."""

    endpoint_url: str | None
    region: str
    bucket: str
    table: str | None
    queue_url: str | None = None
    signing_key_id: str | None = None


def resolve_target(args: argparse.Namespace) -> Target:
    """Explicit options first, then the running local stack's .keel/stack.json."""
    stack: dict[str, Any] = {}
    if not (args.endpoint_url and args.bucket):
        from keel.local.state import read_stack

        stack = read_stack()
    bucket = args.bucket or stack.get("buckets", {}).get("audit")
    if not bucket:
        raise InvalidRequest("no audit bucket: pass --bucket NAME or start the local stack with `make dev`")
    return Target(
        endpoint_url=args.endpoint_url or stack.get("moto_url"),
        region=args.region or stack.get("region") or DEFAULT_REGION,
        bucket=bucket,
        table=args.table or stack.get("tables", {}).get("audit-chain"),
        queue_url=getattr(args, "queue_url", None) or stack.get("queues", {}).get("audit"),
        signing_key_id=getattr(args, "signing_key_id", None) or stack.get("kms_keys", {}).get("audit-signing"),
    )


def _client(target: Target, service: str) -> Any:
    from keel.bootstrap import AwsClients

    return AwsClients(region=target.region, endpoint_url=target.endpoint_url).client(
        service, retries={"mode": "standard", "max_attempts": 2}
    )


def _archive(target: Target) -> Any:
    from keel.audit.s3_object_lock import S3ObjectLockArchive

    # Reading only: the retention figure is not used.
    return S3ObjectLockArchive(_client(target, "s3"), target.bucket, kms_key_id=None, retention_days=1)


def run_verify(args: argparse.Namespace) -> int:
    """Verify the chains; print findings; exit 1 if anything is wrong."""
    from keel.audit.dynamodb import DynamoDBChainLedger
    from keel.audit.kms import KmsDigestSigner
    from keel.audit.verify import verify_archive

    target = resolve_target(args)
    ledger = (
        None if args.no_ledger or not target.table else DynamoDBChainLedger(_client(target, "dynamodb"), target.table)
    )
    signer = KmsDigestSigner(_client(target, "kms"), target.signing_key_id or "unused")
    reports = verify_archive(
        _archive(target), ledger=ledger, signer=signer, tenant=args.tenant, since=args.since, until=args.until
    )
    bad = [r for r in reports if not r.ok]
    total = sum(r.records for r in reports)
    problems = [f"{bad[0].chain_id}: {bad[0].findings[0].describe()}"] if bad else []
    if not reports and not args.allow_empty:
        problems.append(
            "no audit chain found in the given range: a stack that has served turns must have one (the records "
            "may have been lost, or the range, tenant or bucket is wrong); pass --allow-empty if none is expected"
        )
    if args.expect is not None and total != args.expect:
        problems.append(f"expected {args.expect} audit records, found {total}")
    if args.json:
        print(
            json.dumps(
                {
                    "ok": not problems,
                    "records": total,
                    "problems": problems,
                    "chains": [
                        {
                            "chain_id": r.chain_id,
                            "records": r.records,
                            "digests": r.digests,
                            "ok": r.ok,
                            "findings": [asdict(f) for f in r.findings],
                        }
                        for r in reports
                    ],
                },
                indent=2,
            )
        )
        return 1 if problems else 0
    for report in reports:
        status = "ok" if report.ok else f"{len(report.findings)} problem(s)"
        print(f"{report.chain_id}: {report.records} records, {report.digests} digests: {status}")
        for finding in report.findings:
            print(f"  {finding.describe()}")
    print(f"{len(reports)} chain(s), {total} record(s)")
    if problems:
        for problem in problems:
            print(f"FAILED: {problem}", file=sys.stderr)
        return 1
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Export one conversation's records."""
    from keel.audit.export import conversation_records, write_export

    target = resolve_target(args)
    records = conversation_records(
        _archive(target), args.conversation, tenant=args.tenant, since=args.since, until=args.until
    )
    if not records:
        print(f"no audit records for conversation {args.conversation} in the given range", file=sys.stderr)
        return 1
    for path in write_export(records, args.conversation, args.out):
        print(path)
    tampered = [r["key"] for r in records if not r["hash_ok"]]
    if tampered:
        print(f"WARNING: {len(tampered)} record(s) fail their hash: {', '.join(tampered)}", file=sys.stderr)
        return 1
    return 0


def run_digest(args: argparse.Namespace) -> int:
    """Sign and store the digests of a day's chains."""
    from datetime import UTC, datetime

    from keel.audit.dynamodb import DynamoDBChainLedger
    from keel.audit.kms import KmsDigestSigner
    from keel.audit.writer import AuditDigester

    target = resolve_target(args)
    if not target.table or not target.signing_key_id:
        raise InvalidRequest("digest needs the ledger table and a signing key: pass --table and --signing-key-id")
    digester = AuditDigester(
        DynamoDBChainLedger(_client(target, "dynamodb"), target.table),
        _archive(target),
        KmsDigestSigner(_client(target, "kms"), target.signing_key_id),
    )
    day = (args.day or datetime.now(UTC).date()).isoformat()
    for body in digester.digest_day(day):
        print(f"{body['chain_id']}: signed seq {body['first_seq']}..{body['last_seq']} head {body['head_hash'][:16]}")
    return 0


def run_drain(args: argparse.Namespace) -> int:
    """Write every queued record."""
    from keel.audit.dynamodb import DynamoDBChainLedger
    from keel.audit.sqs import SqsBatchSource
    from keel.audit.writer import AuditWriter, drain

    target = resolve_target(args)
    if not target.table or not target.queue_url:
        raise InvalidRequest("drain needs the ledger table and the queue: pass --table and --queue-url")
    from keel.audit.s3_object_lock import S3ObjectLockArchive

    writer = AuditWriter(
        DynamoDBChainLedger(_client(target, "dynamodb"), target.table),
        S3ObjectLockArchive(_client(target, "s3"), target.bucket, kms_key_id=None, retention_days=1),
    )
    result = drain(SqsBatchSource(_client(target, "sqs"), target.queue_url), writer)
    print(f"written {result.written}, duplicates {result.duplicates}, failed {len(result.failed)}")
    return 1 if result.failed else 0
