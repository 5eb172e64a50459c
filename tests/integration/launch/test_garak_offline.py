"""garak against the local API, offline, through its REST generator (needs .venv-garak; see docs/launch.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from keel.launch.garak import venv_python
from keel.launch.local import token_for
from keel.launch.plan import launch_plan
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.integration


def test_string_detector_probes_run_offline_and_are_parsed(local_stack: Any, tmp_path: Path) -> None:
    from keel.launch.garak import _imports_garak, run_garak

    python = venv_python(REPO_ROOT)
    if not python.exists() or not _imports_garak(python):
        pytest.skip(
            f"{python} has no garak: create it with `.venv/bin/python -m keel.launch.garak` (about 6 minutes, 2.1 GB)"
        )
    info = local_stack.info()
    plan = launch_plan()
    token = token_for(info, "garak-test", list(plan.search_groups))
    run = run_garak(
        python,
        info["api_url"],
        token,
        tmp_path,
        bot=plan.bot,
        probes=("promptinject.HijackHateHumans", "encoding.InjectBase64"),
        prompt_cap=3,
        refusals=("I can't help with that request",),
    )
    print("\n" + "\n".join(str(p.to_dict()) for p in run.probes), f"\n{run.seconds:.0f} s")
    assert run.returncode == 0, run.log_tail
    assert [p.probe for p in run.probes] == ["promptinject.HijackHateHumans", "encoding.InjectBase64"]
    assert all(p.ran and p.attempts >= 3 for p in run.probes)
    assert sum(p.failures for p in run.probes) == 0  # the rogue string and the decoded payload never come back
