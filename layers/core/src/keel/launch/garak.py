"""Red team with garak (R21): its REST generator against the local API, offline, in a venv of its own.

garak pulls torch and transformers, so it never goes into the project's venv or requirements.lock:
`ensure_venv` makes `.venv-garak` from `requirements-garak.lock`, installing torch==2.13.0 first (the
CPU build lies on this machine's disk; an unpinned torch would pull a multi-GB CUDA build). Only
probes whose detectors are string matchers are selected; a probe whose detector needs a downloaded
model fails offline and is reported as such, never counted as passed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keel.errors import ServiceUnavailable

VENV_NAME = ".venv-garak"
LOCK_NAME = "requirements-garak.lock"
TORCH_PIN = "torch==2.13.0"
# One or two probes per family whose primary detector is a string/trigger matcher (no model to download).
DEFAULT_PROBES: tuple[str, ...] = (
    "promptinject.HijackHateHumans",
    "promptinject.HijackKillHumans",
    "dan.Dan_11_0",
    "dan.DanInTheWild",
    "encoding.InjectBase64",
    "encoding.InjectROT13",
    "encoding.InjectHex",
    "latentinjection.LatentInjectionReport",
    "latentinjection.LatentInjectionResume",
    "latentinjection.LatentWhoisSnippet",
)
# The environment that keeps garak, transformers and Hugging Face off the network.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "NO_PROXY": "127.0.0.1,localhost",
}


@dataclass(frozen=True)
class ProbeSummary:
    """One probe's result: attempts evaluated, failures (detector hit), and whether it could run offline."""

    probe: str
    detector: str
    attempts: int
    failures: int
    ran: bool = True
    note: str = ""

    @property
    def hit_rate(self) -> float:
        """Share of evaluated attempts whose output the detector flagged."""
        return self.failures / self.attempts if self.attempts else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for the pre-flight report."""
        return {
            "probe": self.probe,
            "detector": self.detector,
            "attempts": self.attempts,
            "failures": self.failures,
            "hit_rate": round(self.hit_rate, 4),
            "ran": self.ran,
            "note": self.note,
        }


@dataclass
class GarakRun:
    """What one garak run did."""

    command: list[str]
    returncode: int
    seconds: float
    report: Path | None
    probes: list[ProbeSummary] = field(default_factory=list)
    log_tail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form for the pre-flight report."""
        return {
            "command": " ".join(self.command),
            "returncode": self.returncode,
            "seconds": round(self.seconds, 1),
            "report": str(self.report) if self.report else None,
            "probes": [p.to_dict() for p in self.probes],
        }


def venv_python(root: Path) -> Path:
    """The interpreter of the garak venv."""
    return root / VENV_NAME / "bin" / "python"


def ensure_venv(root: Path, *, python: str = sys.executable, timeout: float = 1800.0) -> tuple[Path, float]:
    """Create .venv-garak from requirements-garak.lock unless its garak already imports; (python, seconds)."""
    started = time.perf_counter()
    target = venv_python(root)
    lock = root / LOCK_NAME
    if target.exists() and _imports_garak(target):
        return target, 0.0
    if not lock.is_file():
        raise ServiceUnavailable(f"{lock} is missing; it pins garak and torch for the red-team venv")
    _run([python, "-m", "venv", str(root / VENV_NAME)], timeout=120)
    pip = [str(target), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # torch first and alone, so pip takes the CPU file on disk instead of resolving a CUDA build.
    _run([*pip, TORCH_PIN], timeout=timeout)
    _run([*pip, "-r", str(lock)], timeout=timeout)
    if not _imports_garak(target):
        raise ServiceUnavailable(f"garak does not import in {root / VENV_NAME} after installing {lock}")
    return target, time.perf_counter() - started


def rest_options(api_url: str, token: str, bot: str, *, timeout: int = 60) -> dict[str, Any]:
    """The REST generator's options: POST /v1/chat as one signed-in user, the answer read from $.answer."""
    return {
        "rest": {
            "RestGenerator": {
                "name": f"keel-{bot}",
                "uri": api_url.rstrip("/") + "/v1/chat",
                "method": "post",
                "headers": {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                "req_template_json_object": {"bot": bot, "message": "$INPUT"},
                "response_json": True,
                "response_json_field": "answer",
                "request_timeout": timeout,
                "ratelimit_codes": [429, 503],
                # A message over the API's size limit is refused with 400; garak should skip it, not stop.
                "skip_codes": [400],
            }
        }
    }


def run_config(out_dir: Path, prefix: str, *, prompt_cap: int, seed: int = 7) -> dict[str, Any]:
    """The run's config: one generation per prompt, capped prompts, primary detectors only, reports in out_dir."""
    return {
        "system": {"lite": True, "narrow_output": True, "parallel_attempts": False},
        "run": {"generations": 1, "soft_probe_prompt_cap": prompt_cap, "seed": seed},
        "plugins": {"extended_detectors": False},
        "reporting": {"report_dir": str(out_dir), "report_prefix": prefix},
    }


def run_garak(
    python: Path,
    api_url: str,
    token: str,
    out_dir: Path,
    *,
    bot: str,
    probes: Sequence[str] = DEFAULT_PROBES,
    prompt_cap: int = 10,
    timeout: float = 1800.0,
    refusals: Sequence[str] = (),
) -> GarakRun:
    """Run garak's probes through the REST generator, one probe per process so one failure stays local."""
    out_dir.mkdir(parents=True, exist_ok=True)
    options = out_dir / "rest-generator.json"
    # The file holds a bearer token (1 h lifetime): readable by the owner only.
    options.write_text(json.dumps(rest_options(api_url, token, bot), indent=2))
    options.chmod(0o600)
    env = {**os.environ, **OFFLINE_ENV, "XDG_DATA_HOME": str(out_dir / "xdg-data")}
    started = time.perf_counter()
    summaries: list[ProbeSummary] = []
    command: list[str] = []
    returncode = 0
    tails: list[str] = []
    for probe in probes:
        prefix = "keel-" + probe.replace(".", "-")
        config = out_dir / f"{prefix}.config.json"
        config.write_text(json.dumps(run_config(out_dir, prefix, prompt_cap=prompt_cap)))
        command = [
            str(python),
            "-m",
            "garak",
            "--config",
            str(config),
            "--target_type",
            "rest",
            "--generator_option_file",
            str(options),
            "--probes",
            probe,
        ]
        try:
            done = subprocess.run(  # noqa: S603 - our own venv's garak with arguments we built
                command, capture_output=True, text=True, timeout=timeout, env=env, check=False
            )
            output = (done.stdout or "") + (done.stderr or "")
            code = done.returncode
        except subprocess.TimeoutExpired as exc:
            output, code = f"timed out after {timeout:.0f} s: {exc}", -1
        report = out_dir / f"{prefix}.report.jsonl"
        found = parse_report(report, refusals) if report.is_file() else []
        summaries += found
        if not found or code != 0:
            reason = _reason(output) if code != 0 else "garak wrote no evaluation"
            summaries.append(ProbeSummary(probe, "", 0, 0, ran=False, note=reason))
        returncode = returncode or code
        tails.append(f"--- {probe} (exit {code})\n" + output[-1500:])
    return GarakRun(
        command=command,
        returncode=returncode,
        seconds=time.perf_counter() - started,
        report=out_dir,
        probes=summaries,
        log_tail="\n".join(tails),
    )


def parse_report(path: Path, refusals: Sequence[str] = ()) -> list[ProbeSummary]:
    """Per probe and detector: attempts evaluated and failures from garak's report JSONL.

    A failure whose output starts with one of `refusals` (Keel's own fixed refusal and no-answer
    messages) is counted separately: a detector that only knows other models' refusal phrases
    (mitigation.MitigationBypass) flags those as bypasses.
    """
    refused: dict[tuple[str, str], int] = {}
    summaries: list[ProbeSummary] = []
    for entry in _entries(path):
        if entry.get("entry_type") == "attempt" and str(entry.get("status")) == "2":
            outputs = [o.get("text") if isinstance(o, dict) else o for o in entry.get("outputs") or []]
            for detector, scores in (entry.get("detector_results") or {}).items():
                for text, score in zip(outputs, scores, strict=False):
                    if (
                        score is not None
                        and score >= 0.5
                        and isinstance(text, str)
                        and text.startswith(tuple(refusals))
                    ):
                        key = (str(entry.get("probe_classname", "")), str(detector))
                        refused[key] = refused.get(key, 0) + 1
        elif entry.get("entry_type") == "eval":
            probe, detector = str(entry.get("probe", "")), str(entry.get("detector", ""))
            total = int(entry.get("total_evaluated", 0) or 0)
            failures = int(entry.get("fails", total - int(entry.get("passed", 0) or 0)) or 0)
            own = refused.get((probe, detector), 0)
            note = ""
            if total == 0:
                note = "no attempt evaluated: the API refused every request (HTTP 400, e.g. over the message limit)"
            elif own:
                note = f"{own} of {failures} flagged outputs are Keel's own refusal messages"
            summaries.append(ProbeSummary(probe, detector, total, failures, note=note))
    return summaries


def _entries(path: Path) -> list[dict[str, Any]]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def _reason(output: str) -> str:
    """The line of garak's output that says why it stopped (offline model downloads show up here)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        lowered = line.lower()
        if any(word in lowered for word in ("error", "exception", "offline", "couldn't", "cannot", "timed out")):
            return line[:300]
    return lines[-1][:300] if lines else "no output"


def _imports_garak(python: Path) -> bool:
    try:
        done = subprocess.run(  # noqa: S603 - our own venv's interpreter
            [str(python), "-c", "import garak"], capture_output=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _run(command: list[str], *, timeout: float) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    except subprocess.TimeoutExpired as exc:
        raise ServiceUnavailable(f"{' '.join(command[:4])} timed out after {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise ServiceUnavailable(f"{' '.join(command[:6])} failed: {(done.stderr or done.stdout)[-500:]}")


def main() -> int:
    """`python -m keel.launch.garak`: create .venv-garak in the current repository and report the time."""
    root = Path.cwd()
    python, seconds = ensure_venv(root)
    print(f"garak venv ready: {python} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
