"""Log hygiene: one correlation id on every record, and no raw PII or token in any log line (R9, R15).

Installed once per process with `install_log_hygiene()`. Two hooks, because the logging module offers no
single one that sees everything:
- a LogRecord factory: every record of every logger, whichever handler later receives it, has its message,
  arguments and exception text scrubbed;
- a `ScrubFilter` on handlers: scrubs the `extra=` fields (Logger.makeRecord adds them after the factory) and
  stamps the current correlation id.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from keel.privacy.recognizers import iban_ok, luhn_ok, ssn_ok

_correlation: ContextVar[str] = ContextVar("keel_correlation_id", default="")
KEEL_LOGGER = "keel"
# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "correlation_id",
}

# Ordered: tokens first (a JWT holds digits a phone rule would half-eat), then checksummed numbers, then phones.
_AUTH_HEADER = re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?:bearer\s+|basic\s+)?[^\s\"',;}]+")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}(?:\.[A-Za-z0-9_-]*)?")
_SECRET_VALUE = re.compile(
    r"(?i)(\b(?:api[_-]?key|secret|password|passwd|access[_-]?token|refresh[_-]?token|id[_-]?token|"
    r"client[_-]?secret)[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]{4,}"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_SSN = re.compile(r"(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-])")
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
_PHONE = re.compile(r"(?<![\w.:/-])(?:\+|00|\()?\d{1,4}(?:[ .()-]{0,2}\d{1,5}){2,6}(?![\w:/-]|\.\d)")
# Ids and times that look like digit runs but are not personal: kept so logs stay correlatable.
_PROTECTED = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\b\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\b"
)
_PLACEHOLDER = "\x00{}\x00"


class _Scrubbed(str):
    """A log message that has been scrubbed already (a marker that adds no field to JSON logs)."""

    __slots__ = ()


def scrub(text: str) -> str:
    """Replace tokens, e-mails, cards, IBANs, SSNs and phone numbers with typed markers; keep UUIDs and times."""
    if not text:
        return text
    text = _AUTH_HEADER.sub(lambda m: m.group(1) + "[REDACTED]", text)
    text = _BEARER.sub("Bearer [REDACTED]", text)
    text = _JWT.sub("[TOKEN]", text)
    text = _SECRET_VALUE.sub(lambda m: m.group(1) + "[REDACTED]", text)
    text = _EMAIL.sub("[EMAIL]", text)
    text = _IBAN.sub(lambda m: "[IBAN]" if iban_ok(m.group(0)) else m.group(0), text)
    protected: list[str] = []

    def _protect(match: re.Match[str]) -> str:
        protected.append(match.group(0))
        return _PLACEHOLDER.format(len(protected) - 1)

    text = _PROTECTED.sub(_protect, text)
    text = _SSN.sub(lambda m: "[SSN]" if ssn_ok(m.group(0)) else m.group(0), text)
    text = _CARD.sub(lambda m: "[CARD]" if _is_card(m.group(0)) else m.group(0), text)
    text = _PHONE.sub(lambda m: "[PHONE]" if _is_phone(m.group(0)) else m.group(0), text)
    if protected:
        text = re.sub("\x00(\\d+)\x00", lambda m: protected[int(m.group(1))], text)
    return text


def _is_card(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    return 13 <= len(digits) <= 19 and luhn_ok(digits)


def _is_phone(raw: str) -> bool:
    # Conservative on purpose: any run of 7 to 15 digits written like a number someone dials goes.
    digits = sum(ch.isdigit() for ch in raw)
    if not 7 <= digits <= 15:
        return False
    return raw.startswith(("+", "00", "(")) or any(sep in raw for sep in " -.()") or digits >= 9


def scrub_value(value: Any) -> Any:
    """Scrub strings inside a value (str, list, tuple, dict) and leave other types as they are."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: scrub_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(v) for v in value)
    return value


def current_correlation() -> str:
    """The correlation id of the work in progress on this thread or task ('' outside one)."""
    return _correlation.get()


@contextmanager
def correlation_scope(correlation_id: str) -> Iterator[str]:
    """Bind a correlation id to every log record written inside the block."""
    token = _correlation.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _correlation.reset(token)


def _scrub_record(record: logging.LogRecord) -> None:
    """Bake the scrubbed message into the record (so no formatter ever sees the raw arguments)."""
    if isinstance(record.msg, _Scrubbed) and record.args is None:
        return
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = f"{record.msg!s} {record.args!r}"
    record.msg, record.args = _Scrubbed(scrub(message)), None
    if record.exc_info and record.exc_info[1] is not None:
        exc_type = record.exc_info[0]
        text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
        record.exc_text = text
        # Powertools serialises exc_info itself (including the exception's message); hand it the scrubbed text.
        record.__dict__.setdefault("exception", text)
        record.__dict__.setdefault("exception_name", exc_type.__name__ if exc_type else "Exception")
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


class ScrubFilter(logging.Filter):
    """A handler filter that scrubs the message and every `extra=` field, and adds the correlation id."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keep the record; rewrite it first."""
        _scrub_record(record)
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                record.__dict__[key] = scrub_value(value)
        if not getattr(record, "correlation_id", ""):
            record.correlation_id = current_correlation()
        return True


_installed: dict[str, Any] = {}


def install_log_hygiene(*loggers: logging.Logger) -> ScrubFilter:
    """Install the record factory once per process and the filter on the handlers of root, keel and loggers."""
    log_filter: ScrubFilter = _installed.setdefault("filter", ScrubFilter())
    if "factory" not in _installed:
        previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            # No correlation_id here: makeRecord refuses an `extra=` key the factory already set.
            _scrub_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed["factory"], _installed["previous"] = factory, previous
    handlers: list[logging.Handler] = _installed.setdefault("handlers", [])
    for logger in (logging.getLogger(), logging.getLogger(KEEL_LOGGER), *loggers):
        for handler in logger.handlers:
            if log_filter not in handler.filters:
                handler.addFilter(log_filter)
                handlers.append(handler)
    return log_filter


def uninstall_log_hygiene() -> None:
    """Undo install_log_hygiene: the previous record factory back, the filter off every handler it was put on."""
    if "factory" in _installed and logging.getLogRecordFactory() is _installed["factory"]:
        logging.setLogRecordFactory(_installed["previous"])
    log_filter = _installed.get("filter")
    for handler in _installed.get("handlers", []):
        handler.removeFilter(log_filter)
    _installed.clear()
