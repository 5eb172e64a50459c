"""Token budgets per user and per tenant: atomic counters in DynamoDB (UpdateItem ADD + a condition)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import BudgetExceeded, InvalidRequest, StoreUnavailable

# Counters live two days so a day's figure can still be read the morning after; TTL removes them.
_KEEP = timedelta(days=2)


@dataclass(frozen=True)
class BudgetLimits:
    """Tokens a user and a whole tenant may spend per UTC day."""

    per_user_per_day: int
    per_tenant_per_day: int

    def __post_init__(self) -> None:
        if self.per_user_per_day < 1 or self.per_tenant_per_day < 1:
            raise ValueError("budget limits must be positive token counts")


@dataclass(frozen=True)
class Reservation:
    """Tokens set aside before a model call; settled with the real figure afterwards."""

    user: str
    tenant: str
    day: str
    tokens: int


class TokenBudget(Protocol):
    """Reserves tokens before a model call and settles the real usage after it."""

    def reserve(self, user: str, tenant: str, tokens: int) -> Reservation:
        """Set tokens aside for user and tenant, or raise BudgetExceeded naming which budget is spent."""
        ...

    def settle(self, reservation: Reservation, used: int) -> None:
        """Replace the reserved figure by the tokens really used (0 when no model answered)."""
        ...


def _day(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


def _seconds_to_midnight(now: datetime) -> int:
    now = now.astimezone(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def _exceeded(scope: str, limit: int, now: datetime) -> BudgetExceeded:
    retry_after = _seconds_to_midnight(now)
    who = "your" if scope == "user" else "your organisation's"
    return BudgetExceeded(
        f"{who} daily token budget of {limit} tokens is spent; it resets at 00:00 UTC "
        f"(in {retry_after // 3600} h {retry_after % 3600 // 60} min)",
        retry_after=retry_after,
        details={"scope": scope, "limit": limit},
    )


class DynamoDBBudget:
    """TokenBudget on a DynamoDB table with string keys pk and sk and a TTL attribute expires_at."""

    def __init__(
        self,
        client: Any,
        table: str,
        limits: BudgetLimits,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._table = table
        self._limits = limits
        self._clock = clock

    def reserve(self, user: str, tenant: str, tokens: int) -> Reservation:
        """Atomically add tokens to the user's then the tenant's counter, each only if it stays in budget."""
        if tokens < 1:
            raise InvalidRequest("a reservation needs a positive number of tokens")
        now = self._clock()
        day = _day(now)
        expires = int((now + _KEEP).timestamp())
        if not self._add(self._key("user", tenant, user, day), tokens, self._limits.per_user_per_day, expires):
            raise _exceeded("user", self._limits.per_user_per_day, now)
        try:
            within = self._add(
                self._key("tenant", tenant, tenant, day), tokens, self._limits.per_tenant_per_day, expires
            )
        except StoreUnavailable:
            self._add(self._key("user", tenant, user, day), -tokens, None, expires)
            raise
        if not within:
            # Give the user's tokens back: the request is refused, so nothing was spent.
            self._add(self._key("user", tenant, user, day), -tokens, None, expires)
            raise _exceeded("tenant", self._limits.per_tenant_per_day, now)
        return Reservation(user=user, tenant=tenant, day=day, tokens=tokens)

    def settle(self, reservation: Reservation, used: int) -> None:
        """Adjust both counters by (used - reserved); unconditional, the call already happened."""
        delta = max(0, used) - reservation.tokens
        if delta == 0:
            return
        expires = int((self._clock() + _KEEP).timestamp())
        r = reservation
        self._add(self._key("user", r.tenant, r.user, r.day), delta, None, expires)
        self._add(self._key("tenant", r.tenant, r.tenant, r.day), delta, None, expires)

    def used(self, user: str, tenant: str, *, day: str | None = None) -> tuple[int, int]:
        """Tokens counted today (or on day) for the user and for the tenant."""
        day = day or _day(self._clock())
        return (
            self._read(self._key("user", tenant, user, day)),
            self._read(self._key("tenant", tenant, tenant, day)),
        )

    @staticmethod
    def _key(scope: str, tenant: str, subject: str, day: str) -> dict[str, Any]:
        return {"pk": {"S": f"budget#{scope}#{tenant}#{subject}"}, "sk": {"S": day}}

    def _add(self, key: dict[str, Any], tokens: int, limit: int | None, expires: int) -> bool:
        """ADD tokens to the counter; with a limit, only if the total stays within it. False if refused."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": key,
            "UpdateExpression": "ADD used :n SET expires_at = if_not_exists(expires_at, :exp)",
            "ExpressionAttributeValues": {":n": {"N": str(tokens)}, ":exp": {"N": str(expires)}},
        }
        if limit is not None:
            if tokens > limit:
                return False
            request["ConditionExpression"] = "attribute_not_exists(used) OR used <= :room"
            request["ExpressionAttributeValues"][":room"] = {"N": str(limit - tokens)}
        try:
            self._client.update_item(**request)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable("the token budget could not be checked; try again shortly") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the token budget could not be checked; try again shortly") from exc
        return True

    def _read(self, key: dict[str, Any]) -> int:
        try:
            item = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the token budget could not be read") from exc
        return int(item["used"]["N"]) if item and "used" in item else 0


class InMemoryBudget:
    """TokenBudget in process memory, with the same rules as DynamoDBBudget (tests, single process)."""

    def __init__(self, limits: BudgetLimits, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self.counters: dict[tuple[str, str, str], int] = {}

    def reserve(self, user: str, tenant: str, tokens: int) -> Reservation:
        """Set tokens aside, or raise BudgetExceeded."""
        if tokens < 1:
            raise InvalidRequest("a reservation needs a positive number of tokens")
        now = self._clock()
        day = _day(now)
        with self._lock:
            user_key, tenant_key = ("user", f"{tenant}#{user}", day), ("tenant", tenant, day)
            if self.counters.get(user_key, 0) + tokens > self._limits.per_user_per_day:
                raise _exceeded("user", self._limits.per_user_per_day, now)
            if self.counters.get(tenant_key, 0) + tokens > self._limits.per_tenant_per_day:
                raise _exceeded("tenant", self._limits.per_tenant_per_day, now)
            self.counters[user_key] = self.counters.get(user_key, 0) + tokens
            self.counters[tenant_key] = self.counters.get(tenant_key, 0) + tokens
        return Reservation(user=user, tenant=tenant, day=day, tokens=tokens)

    def settle(self, reservation: Reservation, used: int) -> None:
        """Adjust both counters by (used - reserved)."""
        delta = max(0, used) - reservation.tokens
        r = reservation
        with self._lock:
            for key in (("user", f"{r.tenant}#{r.user}", r.day), ("tenant", r.tenant, r.day)):
                self.counters[key] = self.counters.get(key, 0) + delta
