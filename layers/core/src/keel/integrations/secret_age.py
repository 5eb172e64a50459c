"""The daily age check of secrets a person rotates (``keel:rotation=provider``), and the rotation function's entry.

Slack, the IdP and the helpdesk issue their values and offer no key API, so those secrets have no rotation
schedule (one could never succeed). An EventBridge rule calls the secret_rotation function once a day with
``{"check": "secret-age", "secret_ids": [...], "max_age_days": N}``; a secret is overdue when its
``LastChangedDate`` (``CreatedDate`` if it never changed) is more than N days old, or when it cannot be read.
The check writes EMF lines (namespace Keel, dimension ``service=secret-age``): ``SecretsOverdue`` and
``SecretsChecked`` (counts), and ``SecretAgeDays`` per secret (dimension ``secret``); an alarm in the
observability stack fires on ``SecretsOverdue >= 1``. Secrets Manager counts a tag or description change as
a change, so an edit of those restarts the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.contract import SCHEME_TAG, Scheme
from keel.contract import SECRET_AGE_CHECK as CHECK
from keel.contract import SECRETS_OVERDUE_METRIC as OVERDUE_METRIC
from keel.errors import InvalidRequest
from keel.integrations.http import Transport
from keel.integrations.rotation_schemes import rotate_step, tag_map
from keel.models.metrics import MetricsSink

CHECKED_METRIC = "SecretsChecked"
AGE_METRIC = "SecretAgeDays"
MAX_AGE_DAYS = 365
_ACCEPTED_EVENTS = (
    "a Secrets Manager rotation event (SecretId, ClientRequestToken, Step) or "
    f'{{"check": "{CHECK}", "secret_ids": [secret ARNs], "max_age_days": 1 to {MAX_AGE_DAYS}}}'
)
_SECONDS_PER_DAY = 86400.0
_log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AgeCheck:
    """A validated age-check event."""

    secret_ids: tuple[str, ...]
    max_age_days: int

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> AgeCheck:
        """The check an event asks for, or InvalidRequest saying what is accepted."""
        ids = event.get("secret_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
            raise InvalidRequest(f"a {CHECK} check needs secret_ids: a non-empty list of secret ARNs; got {ids!r}")
        days = event.get("max_age_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_AGE_DAYS:
            raise InvalidRequest(
                f"a {CHECK} check needs max_age_days: a whole number of days from 1 to {MAX_AGE_DAYS}; got {days!r}"
            )
        return cls(tuple(ids), days)


@dataclass(frozen=True)
class SecretAge:
    """One secret's age, whether it is overdue, and what to do about it."""

    secret_id: str
    name: str
    age_days: float | None
    overdue: bool
    how_to_rotate: str = ""
    description: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The JSON form in the check's answer."""
        shown = {
            "secret": self.name,
            "age_days": None if self.age_days is None else round(self.age_days, 1),
            "description": self.description,
            "how_to_rotate": self.how_to_rotate,
            "error": self.error,
        }
        return {k: v for k, v in shown.items() if v not in ("", None) or k == "age_days"}


@dataclass(frozen=True)
class AgeReport:
    """What a check found."""

    max_age_days: int
    secrets: tuple[SecretAge, ...]

    @property
    def overdue(self) -> list[SecretAge]:
        """Secrets older than the limit or unreadable."""
        return [s for s in self.secrets if s.overdue]

    def as_dict(self) -> dict[str, Any]:
        """The function's answer: counts, each overdue secret with how to rotate it, and the fresh ones."""
        overdue = self.overdue
        names = ", ".join(s.name for s in overdue) or "none"
        return {
            "check": CHECK,
            "max_age_days": self.max_age_days,
            "checked": len(self.secrets),
            "overdue_count": len(overdue),
            "overdue": [s.as_dict() for s in overdue],
            "fresh": [s.as_dict() for s in self.secrets if not s.overdue],
            "summary": f"{len(overdue)} of {len(self.secrets)} secrets overdue "
            f"(older than {self.max_age_days} days or unreadable): {names}",
        }


def check_ages(
    client: Any, check: AgeCheck, *, metrics: MetricsSink, now: Callable[[], datetime] = _utcnow
) -> AgeReport:
    """Describe each secret, judge its age against the limit and emit the metrics the alarm reads."""
    at = now()
    ages = tuple(_age(client, secret_id, check.max_age_days, at) for secret_id in check.secret_ids)
    for age in ages:
        if age.age_days is not None:
            metrics.emit({"secret": age.name}, {AGE_METRIC: (round(age.age_days, 2), "None")})
    overdue = sum(1 for age in ages if age.overdue)
    for age in ages:
        if age.overdue:
            # A scheduled invocation's answer is discarded, so the log is where the platform team reads this.
            shown = "unknown" if age.age_days is None else f"{age.age_days:.1f}"
            _log.warning(
                "secret %s overdue (age %s days, limit %s): %s %s",
                age.name,
                shown,
                check.max_age_days,
                age.error,
                age.how_to_rotate,
            )
    metrics.emit({}, {OVERDUE_METRIC: (float(overdue), "Count"), CHECKED_METRIC: (float(len(ages)), "Count")})
    return AgeReport(check.max_age_days, ages)


def handle_event(
    client: Any,
    event: Any,
    *,
    metrics: MetricsSink,
    transport: Transport | None = None,
    now: Callable[[], datetime] = _utcnow,
) -> dict[str, Any] | None:
    """The secret_rotation function's entry: one rotation step, or the age check (its answer)."""
    if not isinstance(event, Mapping):
        raise InvalidRequest(f"the event is a {type(event).__name__}; accepted: {_ACCEPTED_EVENTS}")
    if "check" in event:
        if event["check"] != CHECK:
            raise InvalidRequest(f"unknown check {event['check']!r}; accepted: {_ACCEPTED_EVENTS}")
        return check_ages(client, AgeCheck.from_event(event), metrics=metrics, now=now).as_dict()
    if "SecretId" in event or "Step" in event:
        rotate_step(client, event, transport=transport)
        return None
    raise InvalidRequest(f"unknown event with keys {sorted(map(str, event))}; accepted: {_ACCEPTED_EVENTS}")


def _age(client: Any, secret_id: str, max_age_days: int, at: datetime) -> SecretAge:
    try:
        described: dict[str, Any] = client.describe_secret(SecretId=secret_id)
    except (ClientError, BotoCoreError) as exc:
        reason = exc.response.get("Error", {}).get("Code", "error") if isinstance(exc, ClientError) else str(exc)
        return SecretAge(
            secret_id,
            secret_id,
            None,
            True,
            how_to_rotate="check that the secret exists and that the function may DescribeSecret it",
            error=f"DescribeSecret failed ({reason}); counted as overdue",
        )
    name = str(described.get("Name") or secret_id)
    description = str(described.get("Description") or "")
    changed = described.get("LastChangedDate") or described.get("CreatedDate")
    if not isinstance(changed, datetime):
        return SecretAge(
            secret_id,
            name,
            None,
            True,
            how_to_rotate=_how_to_rotate(name, described),
            description=description,
            error="DescribeSecret gave neither LastChangedDate nor CreatedDate; counted as overdue",
        )
    if changed.tzinfo is None:
        changed = changed.replace(tzinfo=UTC)
    age = max(0.0, (at - changed).total_seconds() / _SECONDS_PER_DAY)
    overdue = age > max_age_days
    how = _how_to_rotate(name, described) if overdue else ""
    return SecretAge(secret_id, name, age, overdue, how_to_rotate=how, description=description)


def _how_to_rotate(name: str, described: Mapping[str, Any]) -> str:
    tags = tag_map(described.get("Tags"))
    if tags.get(SCHEME_TAG) in (Scheme.REST_KEY.value, Scheme.SELF_ISSUED.value):
        return (
            f"its automatic rotation ({tags[SCHEME_TAG]}) has not succeeded: read the secret_rotation function's "
            f"log, then run aws secretsmanager rotate-secret --secret-id {name}"
        )
    return (
        f"issue a new value at its provider, then store it: aws secretsmanager put-secret-value --secret-id {name} "
        "--secret-string '<the same JSON fields, with the new value>'"
    )
