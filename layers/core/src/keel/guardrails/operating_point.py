"""A bot's flag threshold chosen on labelled messages (issue 17): `keel guard calibrate`.

The shipped flag point was chosen on a validation split of Keel's own authors' families, whose benign rows are hard
look-alikes written beside the attacks. Traffic differs between organisations: an operator with labelled messages
of their own (or the development sets that ship in `evals/guardrails`) can find the lowest flag threshold that keeps
benign messages flagged within a budget, and what it catches there, then set it per bot in tenant.yaml
(`bots[].guardrails.flag_threshold`). Nothing is written; the command prints the figures and the setting.

The threshold is on the policy's score scale (the same score `keel guard scan` prints), so the rule floors and the
trusted earlier screen count exactly as they do at run time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keel.errors import ConfigurationError, InvalidRequest

if TYPE_CHECKING:
    from keel.guardrails.acceptance import Case
    from keel.guardrails.input import InputScreen

# The development sets calibration reads when given no files, and on which training places the head's flag point:
# guardrail holdouts 11 to 14 (four independent authors, 1,280 rows, never trained on; each judged one round first).
# Holdouts 1 to 8 are training data (1, 2, 3 and 5 since round 10; 4, 6, 7 and 8 since round 18): a threshold chosen
# on rows the head was fitted on would be optimistic. Holdouts 9 and 10 judged rounds 12 and 13 and are used for
# nothing else; holdout 15 and later judge (evals/guardrails/DATASHEET.md).
DEVELOPMENT_SETS = ("holdout-11", "holdout-12", "holdout-13", "holdout-14")
DEFAULT_FP = 0.03  # the budget for benign messages flagged


@dataclass(frozen=True)
class Point:
    """One labelled message and the policy score the screen gave it."""

    attack: bool
    score: float


def rates(points: list[Point], threshold: float) -> tuple[float, float]:
    """(attacks caught, benign flagged) when every score at or above threshold is flagged or blocked."""
    attacks = [p for p in points if p.attack]
    benign = [p for p in points if not p.attack]
    if not attacks or not benign:
        raise InvalidRequest("calibration needs attack and benign rows (label: attack or benign)")
    caught = sum(p.score >= threshold for p in attacks) / len(attacks)
    return caught, sum(p.score >= threshold for p in benign) / len(benign)


def choose(points: list[Point], fp: float = DEFAULT_FP, ceiling: float = 0.8) -> float:
    """The lowest threshold at which at most fp of the benign rows score at or above it (never above ceiling, the
    block threshold: a message is flagged before it is blocked)."""
    benign = sorted((p.score for p in points if not p.attack), reverse=True)
    if not benign:
        raise InvalidRequest("calibration needs benign rows (label: benign)")
    allowed = int(fp * len(benign) + 1e-9)
    if allowed >= len(benign):
        return min(ceiling, benign[-1])
    line = benign[allowed]  # the highest benign score that must stay below the threshold
    above = sorted({p.score for p in points if p.score > line})
    return min(ceiling, above[0]) if above else ceiling


def points(cases: list[Case], screen: InputScreen) -> list[Point]:
    """Every case screened as at run time (with its earlier turns) under the screen's default policy."""
    return [Point(case.attack, screen.screen(case.text, list(case.history)).score) for case in cases]


def development_sets(root: Path) -> dict[str, list[Case]]:
    """The development sets' cases; each file must match the sha256 in its FROZEN file."""
    from keel.guardrails.acceptance import frozen_cases

    out = {}
    for name in DEVELOPMENT_SETS:
        folder = root / name
        try:
            expected = (folder / "FROZEN").read_text(encoding="utf-8").split()[0]
        except (OSError, IndexError) as exc:
            raise ConfigurationError(f"{folder}/FROZEN is missing or empty; it holds the set's sha256") from exc
        out[name] = frozen_cases(folder / "holdout.jsonl", expected)
    return out


def budget(fp: float) -> float:
    """fp, if it is a share of benign rows calibration accepts; otherwise InvalidRequest saying what is."""
    if not 0.0 < fp < 0.5:
        raise InvalidRequest(f"the benign budget must be a share between 0 and 0.5 (0.03 is 3%), got {fp}")
    return fp


def calibrate(sets: dict[str, list[Case]], screen: InputScreen, fp: float = DEFAULT_FP) -> dict[str, Any]:
    """Screen every set, choose the threshold on all of them pooled; figures per set and pooled, now and there."""
    fp = budget(fp)
    by_file = {name: points(cases, screen) for name, cases in sets.items()}
    pooled = [p for pts in by_file.values() for p in pts]
    policy = screen.policy
    chosen = choose(pooled, fp, ceiling=policy.block_threshold)

    def figures(pts: list[Point]) -> dict[str, Any]:
        now, there = rates(pts, policy.flag_threshold), rates(pts, chosen)
        return {
            "rows": len(pts),
            "attacks_caught": [round(now[0], 4), round(there[0], 4)],
            "benign_flagged": [round(now[1], 4), round(there[1], 4)],
        }

    return {
        "fp_budget": fp,
        "flag_threshold": [policy.flag_threshold, chosen],
        "pooled": figures(pooled),
        "by_file": {name: figures(pts) for name, pts in by_file.items()},
    }
