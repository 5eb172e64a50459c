"""Leave the process's logging as it was found: the hygiene hooks are process-wide."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from keel.analytics.logs import uninstall_log_hygiene


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    uninstall_log_hygiene()
