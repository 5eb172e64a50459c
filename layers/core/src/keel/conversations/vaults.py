"""Where a conversation's PII vault lives between turns: sealed with KMS, never in plain text (R9)."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import StoreUnavailable
from keel.privacy.vault import Vault

_SK = "VAULT"


class VaultStore(Protocol):
    """Loads and saves the vault of one conversation."""

    def load(self, conversation_id: str) -> Vault:
        """The conversation's vault, or an empty one."""
        ...

    def save(self, conversation_id: str, vault: Vault) -> None:
        """Persist the vault (sealed)."""
        ...


class KmsSealedVaultStore:
    """The vault as a KMS-encrypted blob on the conversation's item collection in DynamoDB.

    The encryption context binds each blob to its conversation, so a blob copied to another
    conversation does not decrypt.
    """

    def __init__(self, dynamodb: Any, table: str, kms: Any, key_id: str) -> None:
        self._dynamodb = dynamodb
        self._table = table
        self._kms = kms
        self._key_id = key_id

    def load(self, conversation_id: str) -> Vault:
        """Decrypt the stored vault, or start an empty one."""
        try:
            item = self._dynamodb.get_item(
                TableName=self._table,
                Key={"pk": {"S": f"CONV#{conversation_id}"}, "sk": {"S": _SK}},
                ConsistentRead=True,
            ).get("Item")
            if item is None:
                return Vault()
            plain = self._kms.decrypt(
                CiphertextBlob=item["sealed"]["B"], EncryptionContext={"conversation_id": conversation_id}
            )["Plaintext"]
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the conversation's private data cannot be read right now") from exc
        return Vault.from_dict(json.loads(plain))

    def save(self, conversation_id: str, vault: Vault) -> None:
        """Encrypt and store the vault (skipped when it holds nothing)."""
        if not vault.by_placeholder:
            return
        try:
            sealed = self._kms.encrypt(
                KeyId=self._key_id,
                Plaintext=json.dumps(vault.to_dict()).encode(),
                EncryptionContext={"conversation_id": conversation_id},
            )["CiphertextBlob"]
            self._dynamodb.put_item(
                TableName=self._table,
                Item={"pk": {"S": f"CONV#{conversation_id}"}, "sk": {"S": _SK}, "sealed": {"B": sealed}},
            )
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable("the conversation's private data cannot be saved right now") from exc


class InMemoryVaultStore:
    """Vaults in a dict (unit tests and pure logic)."""

    def __init__(self) -> None:
        self._vaults: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def load(self, conversation_id: str) -> Vault:
        """A copy of the stored vault, or an empty one."""
        with self._lock:
            data = self._vaults.get(conversation_id)
        return Vault.from_dict(data) if data else Vault()

    def save(self, conversation_id: str, vault: Vault) -> None:
        """Store a serialised copy."""
        with self._lock:
            self._vaults[conversation_id] = vault.to_dict()
