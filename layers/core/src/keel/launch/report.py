"""The launch-readiness report: one entry per check with a status and its evidence, as Markdown and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Status = Literal["pass", "fail", "skipped", "error", "mapped"]


@dataclass
class Check:
    """One pre-flight check: what it is, how it was checked, the outcome and the evidence."""

    id: str
    title: str
    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    tests: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "evidence": self.evidence,
            "tests": self.tests,
            "seconds": round(self.seconds, 1),
        }


@dataclass
class Report:
    """Every check of one pre-flight run."""

    checks: list[Check]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    target: str = "local"

    @property
    def passed(self) -> bool:
        """Launch-ready: no check failed or errored (skipped and test-mapped checks are listed as such)."""
        return all(c.status in ("pass", "skipped", "mapped") for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        counts: dict[str, int] = {}
        for check in self.checks:
            counts[check.status] = counts.get(check.status, 0) + 1
        return {
            "started_at": self.started_at.isoformat(),
            "target": self.target,
            "passed": self.passed,
            "counts": counts,
            "checks": [c.to_dict() for c in self.checks],
        }

    def markdown(self) -> str:
        """The human report: a summary table, then each check's evidence."""
        lines = [
            "# Keel launch-readiness report",
            "",
            f"Run {self.started_at:%Y-%m-%d %H:%M} UTC against the {self.target} stack: "
            + ("**ready** (no check failed)." if self.passed else "**not ready** (see the failed checks)."),
            "",
            "| check | status | summary |",
            "|---|---|---|",
        ]
        for c in self.checks:
            lines.append(f"| {_cell(c.id + ' ' + c.title)} | {_badge(c.status)} | {_cell(c.summary)} |")
        for c in self.checks:
            lines += ["", f"## {c.id} {c.title}: {c.status}", "", c.summary, ""]
            if c.tests:
                lines.append("Covered by: " + ", ".join(f"`{t}`" for t in c.tests))
                lines.append("")
            if c.evidence:
                markdown = c.evidence.get("markdown")
                if isinstance(markdown, str):
                    lines += [markdown, ""]
                rest = {k: v for k, v in c.evidence.items() if k != "markdown"}
                if rest:
                    lines += ["```json", json.dumps(rest, indent=2, default=str)[:6000], "```"]
        return "\n".join(lines) + "\n"

    def write(self, out_dir: Path) -> tuple[Path, Path]:
        """Write preflight.md and preflight.json into out_dir."""
        out_dir.mkdir(parents=True, exist_ok=True)
        md, js = out_dir / "preflight.md", out_dir / "preflight.json"
        md.write_text(self.markdown(), encoding="utf-8")
        js.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n", encoding="utf-8")
        return md, js


def _badge(status: str) -> str:
    return {
        "pass": "PASS",
        "fail": "**FAIL**",
        "skipped": "skipped",
        "error": "**ERROR**",
        "mapped": "mapped to tests",
    }.get(status, status)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
