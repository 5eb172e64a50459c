"""`keel report`: the KPIs of the last N days as a table, and an HTML report with charts (R16)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from keel.analytics.timeutil import parse_duration


def register(subparsers: Any) -> None:
    """Add the report command."""
    parser = subparsers.add_parser(
        "report",
        help="print KPIs (deflection, resolution, CSAT, latency, cost...) and write an HTML report",
        description=(
            "Compute the business KPIs defined in docs/kpis.md over conversations created in the window, "
            "print them as a table (all bots, then each bot) with the low-confidence and unresolved queries "
            "grouped by topic, and write a standalone HTML report with charts over time. Reads the "
            "conversations table of the running local stack (`make dev`) unless --table is given."
        ),
    )
    parser.add_argument("--since", default="7d", help="window ending now: 30m, 12h, 7d, 2w (default 7d)")
    parser.add_argument(
        "--html",
        type=Path,
        default=Path("keel-report.html"),
        help="where to write the HTML report (default ./keel-report.html)",
    )
    parser.add_argument("--no-html", action="store_true", help="print the table only")
    parser.add_argument("--json", action="store_true", help="print the report as JSON instead of a table")
    parser.add_argument(
        "--abandon-after", default="30m", help="no activity for this long without resolution = abandoned (30m)"
    )
    add_table_arguments(parser)
    parser.set_defaults(func=run)


def add_table_arguments(parser: argparse.ArgumentParser) -> None:
    """--table, --endpoint-url and --region: which conversations table to read (default: the local stack's)."""
    parser.add_argument("--table", help="DynamoDB conversations table (default: the local stack's)")
    parser.add_argument("--endpoint-url", help="DynamoDB endpoint (default: the local stack's moto, or AWS)")
    parser.add_argument("--region", default=None, help="AWS region (default: the local stack's, or us-east-1)")


def run(args: argparse.Namespace) -> int:
    """Print the table (or JSON) and write the HTML report."""
    from keel.analytics.dynamodb import DynamoDBAnalyticsSource
    from keel.analytics.kpis import report_from_source
    from keel.analytics.render import html_report, text_table

    window = parse_duration(args.since)
    abandon_after = parse_duration(args.abandon_after)
    client, table = conversations_table(args)
    report = report_from_source(DynamoDBAnalyticsSource(client, table), window, abandon_after=abandon_after)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(text_table(report), end="")
    if not args.no_html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(html_report(report), encoding="utf-8")
        if not args.json:
            print(f"\nHTML report written to {args.html}")
    return 0


def conversations_table(args: argparse.Namespace) -> tuple[Any, str]:
    """A DynamoDB client and the conversations table the add_table_arguments options name."""
    from keel.bootstrap import AwsClients

    endpoint, region, table = args.endpoint_url, args.region, args.table
    if table is None:
        from keel.local.state import read_stack

        stack = read_stack()
        table = stack["tables"]["conversations"]
        endpoint = endpoint or stack["moto_url"]
        region = region or stack.get("region")
    clients = AwsClients(region=region or "us-east-1", endpoint_url=endpoint)
    return clients.client("dynamodb", retries={"mode": "standard", "max_attempts": 2}), table
