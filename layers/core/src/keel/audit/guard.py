"""The last gate before an audit record is queued: refuse raw PII, tokens and secrets in any string.

Masking is the privacy capability's job; this guard only proves it happened. It is deliberately
narrow (checksums for cards and IBANs, shapes for tokens and keys) so that masked placeholders,
ids and hashes pass, and it runs on every string field, so a new field cannot slip past it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from keel.errors import KeelError


class SensitiveDataInRecord(KeelError):
    """An audit record would have held raw PII or a secret; the turn is refused rather than leak it."""

    code = "audit_sensitive_data"


@dataclass(frozen=True)
class Detection:
    """One finding of the guard: which field and what kind of data (never the value itself)."""

    path: str
    kind: str


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _card(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group(0))
    return 13 <= len(digits) <= 19 and _luhn_ok(digits)


def _iban(match: re.Match[str]) -> bool:
    compact = match.group(0).replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _always(_: re.Match[str]) -> bool:
    return True


# (kind, pattern, confirm): a pattern finds candidates and confirm rules out look-alikes.
_DETECTORS: tuple[tuple[str, re.Pattern[str], Callable[[re.Match[str]], bool]], ...] = (
    ("email", re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"), _always),
    # A card number stands alone: inside a longer id (a UUID, a hash) it is not one.
    ("card_number", re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])"), _card),
    ("iban", re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"), _iban),
    ("us_ssn", re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])"), _always),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), _always),
    ("aws_access_key_id", re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA)[A-Z0-9]{16}\b"), _always),
    (
        "aws_secret_access_key",
        re.compile(r"(?i)aws.{0,24}secret.{0,24}[=:]\s*['\"]?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])"),
        _always,
    ),
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----"), _always),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), _always),
    ("bearer_token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{20,}=*"), _always),
)


def scan_text(text: str) -> list[str]:
    """The kinds of raw PII or secrets found in one string (empty when it is clean)."""
    found = []
    for kind, pattern, confirm in _DETECTORS:
        if any(confirm(m) for m in pattern.finditer(text)):
            found.append(kind)
    return found


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(str(key), f"{path}.<key>")
            yield from _strings(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def scan(value: BaseModel | dict[str, Any]) -> list[Detection]:
    """Every string field of a record (or its JSON form) checked; one Detection per field and kind."""
    data = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
    return [Detection(path, kind) for path, text in _strings(data, "") for kind in scan_text(text)]


def ensure_clean(value: BaseModel | dict[str, Any]) -> None:
    """Raise SensitiveDataInRecord naming the fields and kinds (never the values) if anything is found."""
    detections = scan(value)
    if detections:
        listed = ", ".join(f"{d.kind} in {d.path}" for d in detections)
        raise SensitiveDataInRecord(
            f"audit record refused: unmasked sensitive data ({listed}); mask it before recording",
            details={"fields": [d.path for d in detections], "kinds": sorted({d.kind for d in detections})},
        )
