"""Metrics of model calls as CloudWatch Embedded Metric Format lines (one JSON object per line)."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Mapping
from typing import Protocol, TextIO

from keel.analytics.logs import current_correlation

NAMESPACE = "Keel"


class MetricsSink(Protocol):
    """Somewhere to put a set of metric values that share dimensions."""

    def emit(self, dimensions: Mapping[str, str], values: Mapping[str, tuple[float, str]]) -> None:
        """Record values ({name: (value, unit)}) under dimensions."""
        ...


class EmfMetrics:
    """Writes EMF lines to a stream (stdout in Lambda, where CloudWatch turns them into metrics)."""

    def __init__(self, namespace: str = NAMESPACE, *, stream: TextIO | None = None, service: str = "keel") -> None:
        self._namespace = namespace
        self._stream = stream
        self._service = service
        self._lock = threading.Lock()

    def emit(self, dimensions: Mapping[str, str], values: Mapping[str, tuple[float, str]]) -> None:
        """Write one EMF document holding every value."""
        dims = {"service": self._service, **dimensions}
        document: dict[str, object] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": [sorted(dims)],
                        "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in values.items()],
                    }
                ],
            },
            **dims,
            **{name: value for name, (value, _) in values.items()},
        }
        correlation = current_correlation()
        if correlation:
            document["correlation_id"] = correlation
        line = json.dumps(document, separators=(",", ":"))
        with self._lock:
            stream = self._stream or sys.stdout
            stream.write(line + "\n")
            stream.flush()


class RecordingMetrics:
    """Keeps every emitted value in memory (tests and the local ops view)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.records: list[tuple[dict[str, str], dict[str, tuple[float, str]]]] = []

    def emit(self, dimensions: Mapping[str, str], values: Mapping[str, tuple[float, str]]) -> None:
        """Remember the values."""
        with self._lock:
            self.records.append((dict(dimensions), dict(values)))

    def total(self, name: str, **dimensions: str) -> float:
        """Sum of one metric over the records whose dimensions include the given ones."""
        with self._lock:
            return sum(
                values[name][0]
                for dims, values in self.records
                if name in values and all(dims.get(k) == v for k, v in dimensions.items())
            )
