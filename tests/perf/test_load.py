"""Load acceptance (issue 12): 50 concurrent chat users for 2 minutes on the local stack with 0 errors.

Figures are printed (p50/p95/p99, requests/s, search latency under load); never asserted on time: the
machine has 2 cores and the embedder, guardrails and the turn run in the API's process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.launch.load import run_step, svg_plot, table
from keel.launch.local import token_for
from keel.launch.plan import launch_plan

pytestmark = pytest.mark.integration
USERS = 50
SECONDS = 120


def test_fifty_users_for_two_minutes(local_stack: Any, tmp_path: Path) -> None:
    info = local_stack.info()
    plan = launch_plan()  # the example tenant's bots and questions
    tokens = [token_for(info, f"load-{n}", list(plan.search_groups)) for n in range(5)]
    step = run_step(info["api_url"], tokens, USERS, SECONDS, tmp_path, search_users=2, plan=plan)
    (tmp_path / "load.svg").write_text(svg_plot([step]))
    print(f"\n{USERS} chat users (think time 10-20 s) + 2 search users for {SECONDS} s on the local stack:")
    print(table([step]))
    print(f"p95 {step.p95_ms:.0f} ms; failures: {list(step.failure_samples) or 'none'}")
    assert step.requests > 0
    assert step.search_requests > 0, "the search users measured nothing (they failed to start)"
    # The acceptance: 0 errors. Latency is printed, never asserted.
    assert step.failures == 0, f"{step.failures} of {step.requests} chat requests failed: {list(step.failure_samples)}"
