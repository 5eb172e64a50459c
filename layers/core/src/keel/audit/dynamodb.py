"""The chain ledger on DynamoDB: one head item per chain, one claim item per record id.

A record is sealed by one transaction that creates its claim (only if the id is new) and advances
the head (only if it still holds the seq and hash the record was chained to). Two writers racing
for the same head cannot both win, so the chain never forks; the loser re-reads and retries.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.audit.chain import SealedRecord, genesis_hash, split_chain_id
from keel.audit.ports import ChainHead
from keel.audit.records import AuditRecord
from keel.errors import AuditUnavailable, Conflict

CLAIM_DAYS = 30


class DynamoDBChainLedger:
    """ChainLedger on a table with a string partition key `pk` and sort key `sk` (TTL attribute expires_at)."""

    def __init__(
        self,
        client: Any,
        table: str,
        *,
        max_attempts: int = 100,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._table = table
        self._max_attempts = max_attempts
        self._clock = clock
        self._sleep = sleep
        # The head this writer last advanced: right almost always, and checked by the condition anyway.
        self._known: dict[str, ChainHead] = {}

    def seal(self, record: AuditRecord, build: Callable[[int, str], SealedRecord]) -> SealedRecord:
        """Seal the record after the chain's head, exactly once per record id."""
        chain_id = record.chain_id
        for attempt in range(self._max_attempts):
            head = self._known.get(chain_id) or self.head(chain_id)
            seq, prev_hash = (head.seq + 1, head.hash) if head else (0, genesis_hash(chain_id))
            sealed = build(seq, prev_hash)
            try:
                self._call("transact_write_items", TransactItems=[self._claim_put(sealed), self._advance(sealed, head)])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise AuditUnavailable("the audit ledger refused the write", details={"chain": chain_id}) from exc
                existing = self.claimed(record.record_id)
                if existing is not None:
                    return existing
                self._known.pop(chain_id, None)
                # Jittered back-off spreads writers that lost the same race.
                self._sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))
                continue
            self._known[chain_id] = ChainHead(chain_id, seq, sealed.hash)
            return sealed
        raise Conflict(f"could not advance audit chain {chain_id} after {self._max_attempts} attempts")

    def claimed(self, record_id: str) -> SealedRecord | None:
        """The sealed form of a record id already claimed, or None."""
        item = self._call(
            "get_item", Key={"pk": {"S": f"claim#{record_id}"}, "sk": {"S": "claim"}}, ConsistentRead=True
        ).get("Item")
        return SealedRecord(json.loads(item["body"]["S"])) if item else None

    def head(self, chain_id: str) -> ChainHead | None:
        """The chain's current head (strongly consistent read)."""
        tenant, day = split_chain_id(chain_id)
        item = self._call("get_item", Key={"pk": {"S": f"head#{day}"}, "sk": {"S": tenant}}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None
        return ChainHead(chain_id, int(item["seq"]["N"]), item["hash"]["S"])

    def chains(self, day: str) -> list[str]:
        """Every chain with a head on a UTC day."""
        found: list[str] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"head#{day}"}},
        }
        while True:
            page = self._call("query", **kwargs)
            found.extend(item["chain_id"]["S"] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _claim_put(self, sealed: SealedRecord) -> dict[str, Any]:
        expires = int((self._clock() + timedelta(days=CLAIM_DAYS)).timestamp())
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    "pk": {"S": f"claim#{sealed.record_id}"},
                    "sk": {"S": "claim"},
                    "chain_id": {"S": sealed.chain_id},
                    "seq": {"N": str(sealed.seq)},
                    "hash": {"S": sealed.hash},
                    "body": {"S": sealed.to_bytes().decode()},
                    "expires_at": {"N": str(expires)},
                },
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }

    def _advance(self, sealed: SealedRecord, head: ChainHead | None) -> dict[str, Any]:
        tenant, day = split_chain_id(sealed.chain_id)
        key = {"pk": {"S": f"head#{day}"}, "sk": {"S": tenant}}
        now = self._clock().isoformat()
        if head is None:
            return {
                "Put": {
                    "TableName": self._table,
                    "Item": {
                        **key,
                        "chain_id": {"S": sealed.chain_id},
                        "seq": {"N": str(sealed.seq)},
                        "hash": {"S": sealed.hash},
                        "updated_at": {"S": now},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        return {
            "Update": {
                "TableName": self._table,
                "Key": key,
                "UpdateExpression": "SET #seq = :seq, #hash = :hash, updated_at = :now",
                "ConditionExpression": "#seq = :expected AND #hash = :prev",
                "ExpressionAttributeNames": {"#seq": "seq", "#hash": "hash"},
                "ExpressionAttributeValues": {
                    ":seq": {"N": str(sealed.seq)},
                    ":hash": {"S": sealed.hash},
                    ":now": {"S": now},
                    ":expected": {"N": str(head.seq)},
                    ":prev": {"S": head.hash},
                },
            }
        }

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        if operation != "transact_write_items":
            kwargs["TableName"] = self._table
        try:
            result: dict[str, Any] = getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            if operation == "transact_write_items":
                raise
            raise AuditUnavailable(f"the audit ledger failed on {operation}", details={"table": self._table}) from exc
        except BotoCoreError as exc:
            raise AuditUnavailable(f"the audit ledger is unreachable ({operation})") from exc
        return result
