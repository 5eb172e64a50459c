"""The regression gate (R22): golden scenarios per bot, scored for a candidate against a baseline.

A scenario is one question asked by one demo user of one bot, with the expected behaviour (answer,
refuse or escalate), the documents a correct answer cites and short facts it must contain. A run
scores quality (behaviour match, expected documents cited, must-include hits), latency and cost per
bot; `compare` says which figures regressed beyond the thresholds in `Thresholds` (docs/launch.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from keel.errors import InvalidRequest

Behaviour = Literal["answer", "refuse", "escalate"]
BEHAVIOURS: tuple[str, ...] = ("answer", "refuse", "escalate")
_FIELDS = ("id", "bot", "user", "question", "expected_behaviour", "expected_doc_ids", "must_include")
# Outcomes of the turn that mean "the bot declined": a guardrail block, nothing found, or a withheld draft.
_DECLINED = frozenset({"refused", "no_answer", "maintenance"})


@dataclass(frozen=True)
class Scenario:
    """One golden scenario (a line of evals/scenarios/<bot>.jsonl)."""

    id: str
    bot: str
    user: str
    question: str
    expected_behaviour: str
    expected_doc_ids: tuple[str, ...]
    must_include: tuple[str, ...]


@dataclass(frozen=True)
class Observation:
    """What the configuration under test did with one scenario."""

    behaviour: str
    cited: tuple[str, ...]
    answer: str
    latency_ms: float
    cost_usd: float | None = None
    tokens: int = 0
    prompt_version: str | None = None
    model_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class ScenarioResult:
    """One scenario's observation and its scores."""

    scenario: Scenario
    observation: Observation

    @property
    def behaviour_ok(self) -> bool:
        """The bot answered, refused or escalated as expected."""
        return self.observation.error is None and self.observation.behaviour == self.scenario.expected_behaviour

    @property
    def docs_ok(self) -> bool | None:
        """For answer scenarios with expected documents: every one was cited (None when not scored)."""
        if self.scenario.expected_behaviour != "answer" or not self.scenario.expected_doc_ids:
            return None
        return set(self.scenario.expected_doc_ids) <= set(self.observation.cited)

    @property
    def includes_hit(self) -> int:
        """How many must-include facts the answer contains (whitespace and case folded)."""
        text = _fold(self.observation.answer)
        return sum(1 for fact in self.scenario.must_include if _fold(fact) in text)

    def to_dict(self) -> dict[str, Any]:
        """The row for the JSON report."""
        return {
            "id": self.scenario.id,
            "expected_behaviour": self.scenario.expected_behaviour,
            "behaviour": self.observation.behaviour,
            "behaviour_ok": self.behaviour_ok,
            "docs_ok": self.docs_ok,
            "cited": list(self.observation.cited),
            "must_include_hit": self.includes_hit,
            "must_include_total": len(self.scenario.must_include),
            "latency_ms": round(self.observation.latency_ms, 1),
            "cost_usd": self.observation.cost_usd,
            "error": self.observation.error,
        }


@dataclass
class BotSummary:
    """Quality, latency and cost of one bot's scenarios under one configuration."""

    bot: str
    scenarios: int
    behaviour_match: float
    doc_recall: float
    must_include: float
    latency_p50_ms: float
    latency_p95_ms: float
    cost_per_turn_usd: float | None
    prompt_version: str | None = None
    model_id: str | None = None
    results: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The baseline / report form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BotSummary:
        """Read a stored baseline; raise InvalidRequest naming what is missing."""
        wanted = ("bot", "scenarios", "behaviour_match", "doc_recall", "must_include")
        missing = [k for k in wanted if k not in data]
        if missing:
            raise InvalidRequest(f"baseline lacks {', '.join(missing)}; record one with --record-baseline")
        return cls(
            bot=str(data["bot"]),
            scenarios=int(data["scenarios"]),
            behaviour_match=float(data["behaviour_match"]),
            doc_recall=float(data["doc_recall"]),
            must_include=float(data["must_include"]),
            latency_p50_ms=float(data.get("latency_p50_ms", 0.0)),
            latency_p95_ms=float(data.get("latency_p95_ms", 0.0)),
            cost_per_turn_usd=None if data.get("cost_per_turn_usd") is None else float(data["cost_per_turn_usd"]),
            prompt_version=data.get("prompt_version"),
            model_id=data.get("model_id"),
            results=list(data.get("results", [])),
        )


@dataclass(frozen=True)
class Thresholds:
    """How far a candidate may fall behind the baseline before the gate fails (docs/launch.md)."""

    # Quality: absolute drops in a rate (0.05 = five percentage points).
    behaviour_drop: float = 0.05
    doc_recall_drop: float = 0.05
    must_include_drop: float = 0.05
    # Latency: the p95 may grow by this ratio, and always by the floor: p95 of ~15 turns on a shared
    # 2-core box moves by hundreds of milliseconds between identical runs.
    latency_ratio: float = 2.0
    latency_floor_ms: float = 1000.0
    # Cost: cost per turn may grow by this ratio.
    cost_ratio: float = 1.2


@dataclass(frozen=True)
class Regression:
    """One figure of one bot that moved past its threshold."""

    bot: str
    metric: str
    baseline: float
    candidate: float
    allowed: float

    def describe(self) -> str:
        """One line for the console."""
        return (
            f"{self.bot}: {self.metric} {self.candidate:.3f} vs baseline {self.baseline:.3f} "
            f"(allowed {self.allowed:.3f})"
        )


def load_scenarios(folder: Path, bots: Sequence[str] | None = None) -> dict[str, list[Scenario]]:
    """Scenarios per bot from <folder>/<bot>.jsonl; a malformed line is an error naming file and line."""
    if not folder.is_dir():
        raise InvalidRequest(f"scenario folder {folder} does not exist; accepted is a folder of <bot>.jsonl")
    files = sorted(folder.glob("*.jsonl"))
    available = [f.stem for f in files]
    wanted = list(bots) if bots else available
    unknown = [b for b in wanted if b not in available]
    if unknown:
        raise InvalidRequest(f"no scenarios for bot {', '.join(unknown)}; accepted: {', '.join(available)}")
    result: dict[str, list[Scenario]] = {}
    for bot in wanted:
        path = folder / f"{bot}.jsonl"
        result[bot] = [_scenario(path, n, line) for n, line in enumerate(path.read_text().splitlines(), 1) if line]
    return result


def _scenario(path: Path, number: int, line: str) -> Scenario:
    where = f"{path.name} line {number}"
    try:
        row = json.loads(line)
    except ValueError as exc:
        raise InvalidRequest(f"{where} is not JSON") from exc
    if not isinstance(row, dict) or any(k not in row for k in _FIELDS):
        raise InvalidRequest(f"{where}: accepted is an object with {', '.join(_FIELDS)}")
    if row["expected_behaviour"] not in BEHAVIOURS:
        raise InvalidRequest(f"{where}: expected_behaviour must be one of {', '.join(BEHAVIOURS)}")
    if row["bot"] != path.stem:
        raise InvalidRequest(f"{where}: bot {row['bot']!r} does not match the file name")
    return Scenario(
        id=str(row["id"]),
        bot=str(row["bot"]),
        user=str(row["user"]),
        question=str(row["question"]),
        expected_behaviour=str(row["expected_behaviour"]),
        expected_doc_ids=tuple(str(d) for d in row["expected_doc_ids"]),
        must_include=tuple(str(s) for s in row["must_include"]),
    )


def behaviour_of(outcome: str, cited: Sequence[str]) -> str:
    """The behaviour a reply shows: escalate when handed over, refuse when declined or uncited, else answer."""
    if outcome == "escalated":
        return "escalate"
    if outcome in _DECLINED or not cited:
        return "refuse"
    return "answer"


def run_bot(bot: str, scenarios: Iterable[Scenario], ask: Callable[[Scenario], Observation]) -> BotSummary:
    """Ask every scenario of one bot and summarise."""
    results = [ScenarioResult(s, ask(s)) for s in scenarios]
    return summarise(bot, results)


def summarise(bot: str, results: Sequence[ScenarioResult]) -> BotSummary:
    """The bot's rates, latency percentiles and cost per turn from scored results."""
    if not results:
        raise InvalidRequest(f"bot {bot} has no scenarios")
    scored_docs = [r.docs_ok for r in results if r.docs_ok is not None]
    facts = sum(len(r.scenario.must_include) for r in results)
    latencies = [r.observation.latency_ms for r in results]
    costs = [r.observation.cost_usd for r in results]
    cost = None if any(c is None for c in costs) else sum(c or 0.0 for c in costs) / len(costs)
    versions = {r.observation.prompt_version for r in results if r.observation.prompt_version}
    models = {r.observation.model_id for r in results if r.observation.model_id and r.observation.model_id != "none"}
    return BotSummary(
        bot=bot,
        scenarios=len(results),
        behaviour_match=round(sum(r.behaviour_ok for r in results) / len(results), 4),
        doc_recall=round(sum(scored_docs) / len(scored_docs), 4) if scored_docs else 1.0,
        must_include=round(sum(r.includes_hit for r in results) / facts, 4) if facts else 1.0,
        latency_p50_ms=round(percentile(latencies, 0.5), 1),
        latency_p95_ms=round(percentile(latencies, 0.95), 1),
        cost_per_turn_usd=None if cost is None else round(cost, 6),
        prompt_version=",".join(sorted(versions)) or None,
        model_id=",".join(sorted(models)) or None,
        results=[r.to_dict() for r in results],
    )


def compare(baseline: BotSummary, candidate: BotSummary, thresholds: Thresholds | None = None) -> list[Regression]:
    """The figures on which the candidate fell behind the baseline beyond the thresholds."""
    t = thresholds or Thresholds()
    found: list[Regression] = []
    for metric, drop in (
        ("behaviour_match", t.behaviour_drop),
        ("doc_recall", t.doc_recall_drop),
        ("must_include", t.must_include_drop),
    ):
        before, after = getattr(baseline, metric), getattr(candidate, metric)
        allowed = before - drop
        if after < allowed - 1e-9:
            found.append(Regression(candidate.bot, metric, before, after, allowed))
    if baseline.latency_p95_ms > 0:
        allowed = max(baseline.latency_p95_ms * t.latency_ratio, baseline.latency_p95_ms + t.latency_floor_ms)
        if candidate.latency_p95_ms > allowed:
            found.append(
                Regression(candidate.bot, "latency_p95_ms", baseline.latency_p95_ms, candidate.latency_p95_ms, allowed)
            )
    if baseline.cost_per_turn_usd and candidate.cost_per_turn_usd is not None:
        allowed = baseline.cost_per_turn_usd * t.cost_ratio
        if candidate.cost_per_turn_usd > allowed + 1e-12:
            found.append(
                Regression(
                    candidate.bot, "cost_per_turn_usd", baseline.cost_per_turn_usd, candidate.cost_per_turn_usd, allowed
                )
            )
    return found


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


def read_baseline(path: Path) -> BotSummary:
    """A stored baseline, or a clear error."""
    if not path.is_file():
        raise InvalidRequest(f"baseline {path} does not exist; record one with `keel eval scenarios --record-baseline`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InvalidRequest(f"baseline {path} is not JSON") from exc
    if not isinstance(data, dict):
        raise InvalidRequest(f"baseline {path}: accepted is a JSON object")
    return BotSummary.from_dict(data)


def write_baseline(path: Path, summary: BotSummary) -> None:
    """Store a bot's summary as its baseline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _fold(text: str) -> str:
    return " ".join(text.replace("**", "").split()).casefold()
