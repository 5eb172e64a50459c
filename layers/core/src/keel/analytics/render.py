"""Renders a KPI report: a plain-text table for the terminal and a standalone HTML page with inline SVG charts."""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from typing import Any

from keel.analytics.kpis import KpiReport, Kpis

PALETTE = ("#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2")
Row = tuple[str, Callable[[Kpis], Any], str]

ROWS: tuple[Row, ...] = (
    ("Conversations", lambda k: k.conversations, "int"),
    ("Resolved", lambda k: k.outcomes["resolved"], "int"),
    ("Escalated", lambda k: k.outcomes["escalated"], "int"),
    ("Abandoned", lambda k: k.outcomes["abandoned"], "int"),
    ("Open", lambda k: k.outcomes["open"], "int"),
    ("Deflection rate", lambda k: k.deflection_rate, "pct"),
    ("Resolution rate", lambda k: k.resolution_rate, "pct"),
    ("CSAT (1-5)", lambda k: k.csat_average, "num"),
    ("CSAT satisfied (4-5)", lambda k: k.csat_satisfied_rate, "pct"),
    ("Thumbs up / down", lambda k: f"{k.thumbs_up} / {k.thumbs_down}", "text"),
    ("Turns", lambda k: k.turns, "int"),
    ("Latency p50 (ms)", lambda k: k.latency_p50_ms, "num"),
    ("Latency p95 (ms)", lambda k: k.latency_p95_ms, "num"),
    ("Hallucination rate", lambda k: k.hallucination_rate, "pct"),
    ("Error rate", lambda k: k.error_rate, "pct"),
    ("Tokens per query", lambda k: k.tokens_per_query, "num"),
    ("Cost (USD)", lambda k: k.cost_usd, "usd"),
    ("Cost per conversation (USD)", lambda k: k.cost_per_conversation, "usd"),
    ("Low-confidence answers", lambda k: k.low_confidence, "int"),
)


def fmt(value: Any, kind: str) -> str:
    """A value for display; '-' when there is nothing to divide by."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "usd":
        return f"${value:.4f}"
    if kind == "num":
        return f"{value:,.1f}"
    if kind == "int":
        return f"{round(value):,}"
    return str(value)


def text_table(report: KpiReport) -> str:
    """The totals and each bot as columns, one KPI per row."""
    bots = sorted(report.by_bot)
    header = ["KPI", "all", *bots]
    rows = [[label, fmt(get(report.totals), kind), *(fmt(get(report.by_bot[b]), kind) for b in bots)]
            for label, get, kind in ROWS]  # fmt: skip
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        f"KPIs from {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC",
        "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))),
        "  ".join("-" * w for w in widths),
    ]
    for row in rows:
        lines.append(
            "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
    for title, groups in (
        ("Low-confidence queries by topic", report.low_confidence_topics),
        ("Unresolved queries by topic", report.unresolved_topics),
    ):
        lines.append("")
        lines.append(title + ":" + ("" if groups else " none"))
        lines.extend(f"  {g.count:>4}  {g.label}" for g in groups)
    return "\n".join(lines) + "\n"


def svg_line_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    kind: str = "num",
    width: int = 520,
    height: int = 220,
) -> str:
    """A line chart; a gap where a value is missing (a day with nothing to divide by)."""
    left, right, top, bottom = 56, 26, 28, 40
    values = [v for _, vs in series for v in vs if v is not None]
    top_value = _nice_max(max(values) if values else 0.0, kind)
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v / top_value) * plot_h if top_value else top + plot_h

    parts = _frame(title, labels, top_value, kind, width, height, left, top, plot_w, plot_h, x)
    for n, (name, vs) in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        run: list[str] = []
        for i, v in enumerate(vs):
            if v is None:
                parts.append(_polyline(run, colour))
                run = []
                continue
            run.append(f"{x(i):.1f},{y(v):.1f}")
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                f"<title>{html.escape(name)} {html.escape(labels[i])}: {fmt(v, kind)}</title></circle>"
            )
        parts.append(_polyline(run, colour))
    parts.append(_legend([name for name, _ in series], left, height - 8))
    parts.append("</svg>")
    return "".join(p for p in parts if p)


def svg_stacked_bars(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: int = 520,
    height: int = 220,
) -> str:
    """A stacked bar chart (counts per day)."""
    left, right, top, bottom = 56, 26, 28, 40
    totals = [sum(vs[i] for _, vs in series) for i in range(len(labels))]
    top_value = _nice_max(max(totals) if totals else 0.0, "int")
    plot_w, plot_h = width - left - right, height - top - bottom
    slot = plot_w / max(1, len(labels))

    def x(i: int) -> float:
        return left + slot * i + slot / 2

    parts = _frame(title, labels, top_value, "int", width, height, left, top, plot_w, plot_h, x)
    bar_w = max(2.0, slot * 0.6)
    for i in range(len(labels)):
        base = float(top + plot_h)
        for n, (name, vs) in enumerate(series):
            h = (vs[i] / top_value) * plot_h if top_value else 0.0
            if h <= 0:
                continue
            base -= h
            parts.append(
                f'<rect x="{x(i) - bar_w / 2:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[n % len(PALETTE)]}"><title>{html.escape(name)} {html.escape(labels[i])}: '
                f"{vs[i]:g}</title></rect>"
            )
    parts.append(_legend([name for name, _ in series], left, height - 8))
    parts.append("</svg>")
    return "".join(parts)


def _frame(
    title: str,
    labels: Sequence[str],
    top_value: float,
    kind: str,
    width: int,
    height: int,
    left: int,
    top: int,
    plot_w: float,
    plot_h: float,
    x: Callable[[int], float],
) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">',
        f'<text x="{left}" y="16" font-size="13" font-weight="600">{html.escape(title)}</text>',
    ]
    for k in range(5):
        value = top_value * k / 4
        gy = top + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{gy + 4:.1f}" font-size="10" text-anchor="end">{fmt(value, kind)}</text>'
        )
    every = max(1, len(labels) // 8)
    for i, label in enumerate(labels):
        if i % every == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{top + plot_h + 14:.1f}" font-size="10" text-anchor="middle">'
                f"{html.escape(label[5:] if len(label) == 10 else label)}</text>"
            )
    return parts


def _polyline(points: list[str], colour: str) -> str:
    if len(points) < 2:
        return ""
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>'


def _legend(names: Sequence[str], left: int, y: int) -> str:
    parts, cursor = [], float(left)
    for n, name in enumerate(names):
        colour = PALETTE[n % len(PALETTE)]
        parts.append(
            f'<rect x="{cursor:.0f}" y="{y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{cursor + 14:.0f}" y="{y}" font-size="11">{html.escape(name)}</text>'
        )
        cursor += 24 + 7 * len(name)
    return "".join(parts)


def _nice_max(value: float, kind: str) -> float:
    """A round axis maximum at or above value (1 for rates, so 100% is the top)."""
    if kind == "pct":
        return 1.0 if value <= 1.0 else value
    if value <= 0:
        return 4.0 if kind == "int" else 1.0
    if kind == "int":
        # Four whole-number steps, so every gridline of a count axis is an integer.
        raw = math.ceil(value / 4)
        magnitude = 10 ** (len(str(raw)) - 1)
        return 4.0 * next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= raw)
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value


def charts(report: KpiReport) -> list[str]:
    """Every chart of the report as an SVG string."""
    labels = [d.isoformat() for d, _ in report.daily]
    days = [k for _, k in report.daily]
    return [
        svg_stacked_bars(
            "Conversations by outcome",
            labels,
            [(o, [float(k.outcomes[o]) for k in days]) for o in ("resolved", "escalated", "abandoned", "open")],
        ),
        svg_line_chart(
            "Deflection and resolution",
            labels,
            [("deflection", [k.deflection_rate for k in days]), ("resolution", [k.resolution_rate for k in days])],
            kind="pct",
        ),
        svg_line_chart("CSAT (1-5)", labels, [("average", [k.csat_average for k in days])]),
        svg_stacked_bars(
            "Feedback",
            labels,
            [("thumbs up", [float(k.thumbs_up) for k in days]), ("thumbs down", [float(k.thumbs_down) for k in days])],
        ),
        svg_line_chart(
            "Latency (ms)",
            labels,
            [("p50", [k.latency_p50_ms for k in days]), ("p95", [k.latency_p95_ms for k in days])],
        ),
        svg_line_chart(
            "Hallucination and error rate",
            labels,
            [("hallucination", [k.hallucination_rate for k in days]), ("errors", [k.error_rate for k in days])],
            kind="pct",
        ),
        svg_line_chart("Tokens per query", labels, [("tokens", [k.tokens_per_query for k in days])]),
        svg_line_chart("Cost per day (USD)", labels, [("cost", [k.cost_usd for k in days])], kind="usd"),
    ]


def html_report(report: KpiReport) -> str:
    """A standalone HTML page: the KPI table, the charts over time and the topic lists."""
    bots = sorted(report.by_bot)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["KPI", "all", *bots])
    body = "".join(
        "<tr><th scope=row>{}</th>{}</tr>".format(
            html.escape(label),
            "".join(
                f"<td>{html.escape(fmt(get(k), kind))}</td>" for k in [report.totals, *(report.by_bot[b] for b in bots)]
            ),
        )
        for label, get, kind in ROWS
    )
    topics = ""
    for title, groups in (
        ("Low-confidence queries by topic", report.low_confidence_topics),
        ("Unresolved queries by topic", report.unresolved_topics),
    ):
        items = "".join(
            f"<li><b>{g.count}</b> {html.escape(g.label)} <small>{html.escape(' | '.join(g.examples))}</small></li>"
            for g in groups
        )
        topics += f"<h2>{html.escape(title)}</h2><ol>{items or '<li>none</li>'}</ol>"
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Keel KPI report</title><style>"
        "body{font:14px system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse}"
        "td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}th[scope=row]{text-align:left}"
        ".charts{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fff;border:1px solid #eee}"
        "small{color:#555}</style></head><body>"
        f"<h1>Keel KPI report</h1><p>{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC; "
        f"abandoned after {int(report.abandon_after.total_seconds() // 60)} minutes without activity. "
        "Definitions: docs/kpis.md.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        f"<h2>Over time</h2><div class=charts>{''.join(charts(report))}</div>{topics}</body></html>"
    )
