"""How `keel escalation train` turns out-of-fold probabilities into thresholds (pure logic, no encoder, no fitting)."""

from __future__ import annotations

import numpy as np

from keel.escalation.training import THRESHOLD_GRID, _quiet, _threshold


def test_the_explicit_threshold_also_holds_to_the_look_alike_budget() -> None:
    # 100 rows that stay with the bot: 90 routine rows that never fire, 10 look-alikes scoring 0.42
    stays_scores = np.concatenate([np.zeros(90), np.full(10, 0.42)])
    y = np.zeros(100, dtype=int)
    stays = np.ones(100, dtype=bool)
    lookalikes = np.arange(100) >= 90
    # Over all rows that stay, 10% fire below 0.45: the 3% budget needs 0.45; the look-alike budget agrees
    assert _threshold("explicit_request", y, stays_scores, stays, lookalikes) == 0.45
    # Three look-alikes at 0.12 are 3% of the rows that stay, so that budget alone allows 0.10; the look-alike budget
    # raises the threshold over them
    low = np.concatenate([np.zeros(97), np.full(3, 0.12)])
    assert _threshold("explicit_request", y, low, stays, np.arange(100) >= 97) == 0.15


def test_a_corpus_without_look_alikes_sets_no_look_alike_bound() -> None:
    scores = np.concatenate([np.zeros(99), np.full(1, 0.5)])
    stays = np.ones(100, dtype=bool)
    none = np.zeros(100, dtype=bool)
    assert _quiet(scores[none], 0.03) == THRESHOLD_GRID[0]
    assert _threshold("explicit_request", np.zeros(100, dtype=int), scores, stays, none) == _quiet(scores, 0.03)
