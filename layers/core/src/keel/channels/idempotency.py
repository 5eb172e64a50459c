"""Claims that make at-least-once deliveries (Slack retries, SQS redelivery, replayed requests) act once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import StoreUnavailable


class IdempotencyStore(Protocol):
    """A set of keys with expiry; the first claim of a key wins."""

    def claim(self, key: str, *, ttl_seconds: int) -> bool:
        """True for the first claim of key while it has not expired, False for every later one."""
        ...

    def release(self, key: str) -> None:
        """Forget a claim whose work failed, so a redelivery may do it."""
        ...


class InMemoryIdempotencyStore:
    """Claims in a dict, for tests."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._claims: dict[str, float] = {}
        self._clock = clock
        self._lock = threading.Lock()

    def claim(self, key: str, *, ttl_seconds: int) -> bool:
        """Atomic check-and-set."""
        with self._lock:
            now = self._clock()
            if self._claims.get(key, 0.0) > now:
                return False
            self._claims[key] = now + ttl_seconds
            return True

    def release(self, key: str) -> None:
        """Drop the claim."""
        with self._lock:
            self._claims.pop(key, None)


class DynamoDBIdempotencyStore:
    """Claims as items (pk = key, sk = CLAIM) written with a condition, so concurrent claimers cannot both win."""

    def __init__(self, client: Any, table: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    def claim(self, key: str, *, ttl_seconds: int) -> bool:
        """PutItem unless a claim exists that has not expired (TTL deletion lags, and moto never deletes)."""
        now = int(self._clock())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={"pk": {"S": key}, "sk": {"S": "CLAIM"}, "expires_at": {"N": str(now + ttl_seconds)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable("the idempotency table cannot be written") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("the idempotency table cannot be reached") from exc
        return True

    def release(self, key: str) -> None:
        """DeleteItem."""
        try:
            self._client.delete_item(TableName=self._table, Key={"pk": {"S": key}, "sk": {"S": "CLAIM"}})
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the idempotency table cannot be written") from exc
