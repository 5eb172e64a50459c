"""Export the audit records of one conversation as JSON and as a readable Markdown and HTML report."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from keel.audit.chain import content_hash, split_chain_id
from keel.audit.ports import AuditArchive


def conversation_records(
    archive: AuditArchive,
    conversation_id: str,
    *,
    tenant: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> list[dict[str, Any]]:
    """Every stored sealed record of a conversation, in time order, each with `hash_ok` recomputed."""
    found = []
    for chain_id in archive.chain_ids(tenant):
        day = date.fromisoformat(split_chain_id(chain_id)[1])
        if (since and day < since) or (until and day > until):
            continue
        for obj in archive.records(chain_id):
            try:
                body = json.loads(obj.body)
                record = body["record"]
            except (ValueError, KeyError, TypeError):
                continue
            if record.get("conversation_id") == conversation_id:
                found.append({"key": obj.key, "hash_ok": content_hash(body) == body.get("hash"), "sealed": body})
    found.sort(key=lambda r: (r["sealed"]["record"].get("occurred_at", ""), r["sealed"]["chain"]["seq"]))
    return found


def write_export(records: list[dict[str, Any]], conversation_id: str, out_dir: Path) -> list[Path]:
    """Write <id>.json, <id>.md and <id>.html into out_dir; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"audit-{conversation_id}"
    json_path, md_path, html_path = (stem.with_suffix(s) for s in (".json", ".md", ".html"))
    json_path.write_text(json.dumps(records, indent=2, ensure_ascii=False, sort_keys=True))
    lines = markdown_report(records, conversation_id)
    md_path.write_text("\n".join(lines) + "\n")
    html_path.write_text(html_report(lines, conversation_id))
    return [json_path, md_path, html_path]


def markdown_report(records: Iterable[dict[str, Any]], conversation_id: str) -> list[str]:
    """The report as Markdown lines: one section per record, the decision path of each action."""
    lines = [f"# Audit report: conversation {conversation_id}", ""]
    for item in records:
        sealed, record = item["sealed"], item["sealed"]["record"]
        actor = record.get("actor", {})
        integrity = "intact" if item["hash_ok"] else "HASH MISMATCH (modified after sealing)"
        lines += [
            f"## {record.get('occurred_at')} · {record.get('kind')} · {record.get('record_id')}",
            "",
            f"- chain `{sealed['chain']['id']}` seq {sealed['chain']['seq']}, integrity: {integrity}",
            f"- who: `{actor.get('subject')}` ({actor.get('kind')}), groups: {', '.join(actor.get('groups', []))}",
            f"- channel `{record.get('channel')}`, bot `{record.get('bot')}`, message `{record.get('message_id')}`",
            f"- correlation id `{record.get('correlation_id')}`",
        ]
        lines += _turn_lines(record.get("turn")) + _action_lines(record.get("action")) + _usage(record)
        lines.append("")
    return lines


def _turn_lines(turn: dict[str, Any] | None) -> list[str]:
    if not turn:
        return []
    lines = [
        f"- model `{turn.get('model_id')}`, prompt `{turn.get('prompt_version')}`, outcome **{turn.get('outcome')}**",
        f"- escalation: {turn.get('escalation', {}).get('decision')}",
        "",
        "**Asked (masked):**",
        "",
        *[f"> {line}" for line in str(turn.get("input_masked", "")).splitlines() or [""]],
        "",
        "**Answered (masked):**",
        "",
        *[f"> {line}" for line in str(turn.get("output_masked", "")).splitlines() or [""]],
        "",
    ]
    for doc in turn.get("documents", []):
        cited = " (cited)" if doc.get("cited") else ""
        lines.append(f"- document `{doc.get('doc_id')}` v{doc.get('version')} score {doc.get('score')}{cited}")
    for verdict in turn.get("guardrails", []):
        categories = ", ".join(verdict.get("categories", [])) or "none"
        lines.append(f"- guardrail {verdict.get('stage')}: {verdict.get('decision')} ({categories})")
    return lines


def _action_lines(action: dict[str, Any] | None) -> list[str]:
    if not action:
        return []
    return [
        f"- action `{action.get('action')}` on `{action.get('resource')}`",
        f"  1. policy `{action.get('policy')}` -> **{action.get('decision')}**"
        f" (policies: {', '.join(action.get('policy_ids', [])) or 'none'})",
        f"  2. confirmation: {action.get('confirmation')}",
        f"  3. result: {action.get('result')}" + (f" ({action['error_code']})" if action.get("error_code") else ""),
    ]


def _usage(record: dict[str, Any]) -> list[str]:
    usage = record.get("usage", {})
    return [
        f"- latency {usage.get('latency_ms')} ms, tokens in/out {usage.get('input_tokens')}/"
        f"{usage.get('output_tokens')}, cost ${usage.get('cost_usd')}"
    ]


def html_report(markdown_lines: list[str], conversation_id: str) -> str:
    """A self-contained HTML page of the report (escaped; no scripts, no external assets)."""
    body = "\n".join(html.escape(line) for line in markdown_lines)
    title = html.escape(f"Audit report: conversation {conversation_id}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}"
        "pre{white-space:pre-wrap}</style></head>"
        f"<body><pre>{body}</pre></body></html>\n"
    )
