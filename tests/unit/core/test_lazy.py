"""keel.lazy.once: one build however many threads ask first; a failed build is retried."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from keel.lazy import once


def test_concurrent_first_calls_build_once() -> None:
    builds: list[int] = []
    start = threading.Barrier(16)

    @once
    def heavy() -> object:
        builds.append(1)
        time.sleep(0.05)  # long enough that every thread arrives while the first build runs
        return object()

    def call(_: int) -> object:
        start.wait()
        return heavy()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(call, range(16)))
    assert len(builds) == 1
    assert all(r is results[0] for r in results)


def test_a_failed_build_is_not_cached() -> None:
    attempts: list[int] = []

    @once
    def flaky() -> str:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("model file busy")
        return "loaded"

    with pytest.raises(OSError, match="busy"):
        flaky()
    assert flaky() == "loaded"
    assert flaky() == "loaded"
    assert len(attempts) == 2
