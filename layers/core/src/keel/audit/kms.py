"""Signing chain digests with an asymmetric KMS key (moto implements Sign and Verify too)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from keel.errors import AuditUnavailable

DEFAULT_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"


class KmsDigestSigner:
    """DigestSigner on a KMS SIGN_VERIFY key; the private key never leaves KMS."""

    def __init__(self, client: Any, key_id: str, *, algorithm: str = DEFAULT_ALGORITHM) -> None:
        self._client = client
        self.key_id = key_id
        self.algorithm = algorithm

    def sign(self, digest: bytes) -> bytes:
        """Sign a SHA-256 digest."""
        try:
            response = self._client.sign(
                KeyId=self.key_id, Message=digest, MessageType="DIGEST", SigningAlgorithm=self.algorithm
            )
        except (ClientError, BotoCoreError) as exc:
            raise AuditUnavailable("the audit signing key is unavailable", details={"key_id": self.key_id}) from exc
        signature: bytes = response["Signature"]
        return signature

    def verify(self, digest: bytes, signature: bytes, *, key_id: str, algorithm: str) -> bool:
        """Ask KMS whether the signature is valid; an invalid signature is False, an outage raises."""
        try:
            response = self._client.verify(
                KeyId=key_id, Message=digest, MessageType="DIGEST", Signature=signature, SigningAlgorithm=algorithm
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "KMSInvalidSignatureException":
                return False
            raise AuditUnavailable("the audit signing key could not verify", details={"key_id": key_id}) from exc
        except BotoCoreError as exc:
            raise AuditUnavailable("KMS is unreachable") from exc
        return bool(response.get("SignatureValid"))
