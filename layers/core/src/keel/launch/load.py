"""Load (R21): locust, headless, against the local API in ramps of concurrent users; a table and an SVG plot.

Each step is its own locust run (so each has its own percentiles); SearchUser measures the retriever
alone while the API is loaded. `rate_limit_probe` scripts a provider rate limit on the local model
endpoint and records what callers see (degraded answers from the fallback chain, or 429s).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from keel.errors import ServiceUnavailable
from keel.launch.plan import LaunchPlan, launch_plan
from keel.launch.probes import post_chat

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class StepResult:
    """One ramp step: concurrent users and what the API and the retriever did under them."""

    users: int
    seconds: int
    requests: int
    failures: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    search_requests: int
    search_p50_ms: float
    search_p95_ms: float
    failure_samples: tuple[str, ...] = ()

    @property
    def error_rate(self) -> float:
        """Failed share of chat requests."""
        return self.failures / self.requests if self.requests else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {**asdict(self), "error_rate": round(self.error_rate, 4), "failure_samples": list(self.failure_samples)}


def run_step(
    api_url: str,
    tokens: Sequence[str],
    users: int,
    seconds: int,
    out_dir: Path,
    *,
    search_users: int = 2,
    think: tuple[float, float] = (10.0, 20.0),
    spawn_rate: float | None = None,
    plan: LaunchPlan | None = None,
) -> StepResult:
    """One headless locust run of `users` chat users (plus search users) for `seconds`; the bots, questions and
    search scope come from the tenant's launch plan (the example tenant's when None)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / f"step-{users:03d}"
    env = {
        **os.environ,
        "KEEL_LOAD_PLAN": (plan or launch_plan()).to_env(),
        "KEEL_LOAD_TOKENS": json.dumps(list(tokens)),
        "KEEL_LOAD_THINK_MIN": str(think[0]),
        "KEEL_LOAD_THINK_MAX": str(think[1]),
        "KEEL_LOAD_SEARCH_USERS": str(search_users),
    }
    total = users + search_users
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        api_url,
        "-u",
        str(total),
        "-r",
        str(spawn_rate or max(1.0, users / 10)),
        "-t",
        f"{seconds}s",
        "--stop-timeout",
        "120",
        "--csv",
        str(prefix),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    try:
        done = subprocess.run(  # noqa: S603 - our own locustfile, arguments we built
            command, capture_output=True, text=True, env=env, timeout=seconds + 300, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable(f"locust did not finish {seconds} s of load in time") from exc
    stats = Path(f"{prefix}_stats.csv")
    if not stats.is_file():
        raise ServiceUnavailable(f"locust wrote no statistics: {(done.stderr or done.stdout)[-500:]}")
    return parse_stats(stats, users, seconds, Path(f"{prefix}_failures.csv"))


def parse_stats(stats: Path, users: int, seconds: int, failures: Path | None = None) -> StepResult:
    """A step's figures from locust's <prefix>_stats.csv (and _failures.csv)."""
    rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(stats.open(encoding="utf-8"))}
    chat = rows.get(("POST", "POST /v1/chat"), {})
    search = rows.get(("search", "retriever.search"), {})
    samples: list[str] = []
    if failures is not None and failures.is_file():
        samples = [f"{r['Occurrences']}x {r['Error']}"[:200] for r in csv.DictReader(failures.open(encoding="utf-8"))]
    return StepResult(
        users=users,
        seconds=seconds,
        requests=_int(chat, "Request Count"),
        failures=_int(chat, "Failure Count"),
        rps=_float(chat, "Requests/s"),
        p50_ms=_float(chat, "50%"),
        p95_ms=_float(chat, "95%"),
        p99_ms=_float(chat, "99%"),
        max_ms=_float(chat, "Max Response Time"),
        search_requests=_int(search, "Request Count"),
        search_p50_ms=_float(search, "50%"),
        search_p95_ms=_float(search, "95%"),
        failure_samples=tuple(samples[:5]),
    )


def rate_limit_probe(
    api_url: str, model_url: str, token: str, plan: LaunchPlan, *, burst: int = 12, per_second: float = 2
) -> dict:
    """Throttle the primary model to `per_second` calls, send a burst of the plan's question to its bot in parallel,
    then restore; what callers saw."""
    from keel.local.model_server import ModelEndpointControl

    control = ModelEndpointControl(model_url)
    control.fault("ok", rate_limit_per_second=per_second)
    try:
        with ThreadPoolExecutor(max_workers=burst) as pool:
            replies = list(pool.map(lambda _: _chat(api_url, token, plan.bot, plan.question), range(burst)))
    finally:
        control.fault("ok")
    statuses = Counter(str(status) if status else "no response" for status, _, _ in replies)
    outcomes = Counter(str(body.get("outcome")) for status, body, _ in replies if status == 200)
    degradations = Counter(d for status, body, _ in replies if status == 200 for d in body.get("degradations", []))
    retry_after = sorted({h for status, _, h in replies if status == 429 and h})
    return {
        "burst": burst,
        "model_rate_limit_per_second": per_second,
        "statuses": dict(statuses),
        "outcomes": dict(outcomes),
        "degradations": dict(degradations),
        "retry_after": retry_after,
    }


def _chat(api_url: str, token: str, bot: str, question: str) -> tuple[int, dict[str, Any], str]:
    """One turn of the burst: (status, body, Retry-After); a request that got no answer at all (refused, reset,
    timed out) is status 0 with the reason, so one lost request is counted, not the end of the probe."""
    try:
        status, body, headers = post_chat(api_url, token, bot, question, timeout=120)
    except OSError as exc:  # URLError, a reset or a timeout
        return 0, {"error": f"no response: {getattr(exc, 'reason', exc)}"}, ""
    return status, body, headers.get("Retry-After", "")


def table(steps: Sequence[StepResult]) -> str:
    """A Markdown table of the ramp."""
    lines = [
        "| users | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms | search p50 ms | search p95 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in steps:
        lines.append(
            f"| {s.users} | {s.requests} | {s.failures} ({s.error_rate:.1%}) | {s.rps:.2f} | {s.p50_ms:.0f} | "
            f"{s.p95_ms:.0f} | {s.p99_ms:.0f} | {s.max_ms:.0f} | {s.search_p50_ms:.0f} | {s.search_p95_ms:.0f} |"
        )
    return "\n".join(lines)


def svg_plot(steps: Sequence[StepResult], width: int = 640, height: int = 360) -> str:
    """Latency percentiles (and search p95) against concurrent users, as a standalone SVG."""
    left, right, top, bottom = 60, 140, 30, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    series = [
        ("p50", "#1f77b4", [s.p50_ms for s in steps]),
        ("p95", "#ff7f0e", [s.p95_ms for s in steps]),
        ("p99", "#d62728", [s.p99_ms for s in steps]),
        ("search p95", "#2ca02c", [s.search_p95_ms for s in steps]),
    ]
    peak = max(*(v for _, _, values in series for v in values), 1.0)
    xs = [s.users for s in steps] or [0]
    x_max = max(*xs, 1)

    def point(users: int, value: float) -> tuple[float, float]:
        return left + plot_w * users / x_max, top + plot_h * (1 - value / peak)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="12">',
        f'<text x="{left}" y="18" font-size="14">Chat API latency under load (local stack, 2 cores)</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left + plot_w / 2}" y="{height - 8}" text-anchor="middle">concurrent users</text>',
        f'<text x="14" y="{top + plot_h / 2}" transform="rotate(-90 14 {top + plot_h / 2})" '
        'text-anchor="middle">ms</text>',
    ]
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{peak * fraction:.0f}</text>')
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>')
    for users in xs:
        x, _ = point(users, 0)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{users}</text>')
    for index, (name, colour, values) in enumerate(series):
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in (point(u, v) for u, v in zip(xs, values, strict=False)))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for u, v in zip(xs, values, strict=False):
            x, y = point(u, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        legend_y = top + 16 * index
        parts.append(f'<rect x="{left + plot_w + 12}" y="{legend_y}" width="12" height="3" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 30}" y="{legend_y + 5}">{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def ramp(
    api_url: str,
    tokens: Sequence[str],
    out_dir: Path,
    *,
    steps: Sequence[int] = (10, 25, 50),
    seconds: int = 40,
    think: tuple[float, float] = (10.0, 20.0),
    plan: LaunchPlan | None = None,
) -> list[StepResult]:
    """Run each step in turn and write load.md, load.json and load.svg into out_dir."""
    results = []
    for users in steps:
        results.append(run_step(api_url, tokens, users, seconds, out_dir, think=think, plan=plan))
        time.sleep(2)  # let in-flight turns of the previous step drain
    (out_dir / "load.md").write_text(table(results) + "\n", encoding="utf-8")
    (out_dir / "load.json").write_text(json.dumps([r.to_dict() for r in results], indent=2), encoding="utf-8")
    (out_dir / "load.svg").write_text(svg_plot(results), encoding="utf-8")
    return results


def _int(row: dict[str, str], key: str) -> int:
    try:
        return int(float(row.get(key) or 0))
    except ValueError:
        return 0


def _float(row: dict[str, str], key: str) -> float:
    try:
        return float(row.get(key) or 0)
    except ValueError:
        return 0.0
