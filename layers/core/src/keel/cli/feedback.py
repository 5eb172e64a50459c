"""`keel feedback export`: unresolved and negatively rated queries for each bot's knowledge-base owner (R22)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keel.analytics.timeutil import parse_duration
from keel.cli.report import add_table_arguments
from keel.cli.tenant import add_tenant_argument, tenant_from


def register(subparsers: Any) -> None:
    """Add the feedback command group."""
    group = subparsers.add_parser(
        "feedback", help="export feedback for knowledge-base owners", description="The feedback loop after launch."
    )
    commands = group.add_subparsers(dest="feedback_command", metavar="SUBCOMMAND")
    commands.required = True
    parser = commands.add_parser(
        "export",
        help="unresolved and thumbs-down queries per bot, with the bot's owner, as JSONL and CSV",
        description=(
            "Export answers rated down (or CSAT 1-2), answers the knowledge base could not give, and "
            "conversations that ended escalated or abandoned, created in the window, one file per bot named "
            "after it, each row carrying the bot's owner from the tenant. Reads the conversations table of the "
            "running local stack unless --table is given. Scheduled weekly in AWS (docs/launch.md)."
        ),
    )
    parser.add_argument("--since", default="7d", help="window ending now: 30m, 12h, 7d, 2w (default 7d)")
    parser.add_argument("--out", type=Path, default=Path("feedback-export"), help="folder (./feedback-export)")
    add_tenant_argument(parser)
    add_table_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write <bot>.jsonl and <bot>.csv per bot with items, and print a count per bot and owner."""
    from datetime import UTC, datetime

    from keel.analytics.dynamodb import DynamoDBAnalyticsSource
    from keel.cli.report import conversations_table
    from keel.launch.feedback import export_items, to_csv, to_jsonl

    window = parse_duration(args.since)
    owners = {b.id: b.owner for b in tenant_from(args).spec.bots}
    # A loopback endpoint (the local stack's moto) gets stand-in credentials from AwsClients.
    client, table = conversations_table(args)
    until = datetime.now(UTC)
    since = until - window
    items = export_items(DynamoDBAnalyticsSource(client, table).conversations(since, until), owners, since, until)
    args.out.mkdir(parents=True, exist_ok=True)
    by_bot: dict[str, list[Any]] = {}
    for item in items:
        by_bot.setdefault(item.bot, []).append(item)
    print(f"{'bot':<10} {'owner':<32} {'items':>6}")
    for bot in sorted(set(owners) | set(by_bot)):
        rows = by_bot.get(bot, [])
        (args.out / f"{bot}.jsonl").write_text(to_jsonl(rows), encoding="utf-8")
        (args.out / f"{bot}.csv").write_text(to_csv(rows), encoding="utf-8")
        print(f"{bot:<10} {owners.get(bot, '(none)'):<32} {len(rows):>6}")
    print(f"\n{len(items)} items since {since:%Y-%m-%d %H:%M} UTC written to {args.out}/<bot>.jsonl and .csv")
    return 0
