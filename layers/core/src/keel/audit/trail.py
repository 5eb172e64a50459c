"""The audit trail as the turn sees it: guard the record, queue it durably, or refuse the turn."""

from __future__ import annotations

import logging

from keel.audit.guard import ensure_clean
from keel.audit.ports import AuditSink
from keel.audit.records import AuditRecord
from keel.errors import AuditUnavailable, ConfigurationError
from keel.settings import Environment

_log = logging.getLogger("keel.audit")
FAIL_OPEN_ENVIRONMENTS = frozenset({Environment.LOCAL, Environment.DEV})


class AuditTrail:
    """Writes one record per turn or action before the reply leaves (R13); fails closed by default."""

    def __init__(
        self, sink: AuditSink, *, environment: Environment = Environment.PROD, fail_open: bool = False
    ) -> None:
        if fail_open and environment not in FAIL_OPEN_ENVIRONMENTS:
            raise ConfigurationError(
                f"audit fail-open is not allowed in {environment.value}; "
                f"accepted only in: {', '.join(sorted(e.value for e in FAIL_OPEN_ENVIRONMENTS))}"
            )
        self._sink = sink
        self._fail_open = fail_open
        if fail_open:
            _log.warning("AUDIT FAIL-OPEN is on (%s): answers may be given without an audit record", environment)

    def record(self, record: AuditRecord) -> None:
        """Guard and queue one record; raise AuditUnavailable (fail closed) if it cannot be queued."""
        # The guard runs even when failing open: sensitive data must never reach the trail.
        ensure_clean(record)
        try:
            self._sink.send(record)
        except AuditUnavailable as exc:
            if not self._fail_open:
                raise
            _log.error(
                "AUDIT FAIL-OPEN: record %s of conversation %s was NOT queued (%s)",
                record.record_id,
                record.conversation_id,
                exc.message,
            )
