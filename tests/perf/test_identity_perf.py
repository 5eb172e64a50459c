"""Cost per request of identify + route + authorize (no network), and of the DynamoDB revocation read on moto.

Prints figures; never asserts on time.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

from keel.access.pdp import PolicyDecisionPoint
from keel.access.service import PolicyAccessControl
from keel.identity.authenticator import TokenAuthenticator
from keel.identity.revocation import DynamoDBRevocationStore, InMemoryRevocationStore, RevocationCheck, RevocationRecord
from keel.identity.tokens import JwksCache, TokenVerifier
from keel.tenant.loader import load_tenant
from tests.unit.identity.tokenfactory import CLIENT, ISSUER, KeyPair, claims

ROUNDS = 2000


def percentiles(name: str, run: Callable[[], object], rounds: int = ROUNDS) -> tuple[float, float]:
    for _ in range(50):
        run()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(samples, n=100)
    print(f"\n{name}: p50 {cuts[49]:.3f} ms, p95 {cuts[94]:.3f} ms over {rounds} requests")
    return cuts[49], cuts[94]


def test_identify_route_authorize_cost() -> None:
    pair = KeyPair("perf")
    now = time.time()
    verifier = TokenVerifier(
        JwksCache(lambda: {"keys": [pair.jwk]}),
        issuers=frozenset({ISSUER}),
        audiences=frozenset({CLIENT}),
        tenant="demo",
    )
    store = InMemoryRevocationStore()
    store.put(RevocationRecord("sub-emma", not_before=now - 3600, reason="an old sign-out"))
    authenticator = TokenAuthenticator(verifier, RevocationCheck(store))
    access = PolicyAccessControl(PolicyDecisionPoint.for_tenant(load_tenant()))
    tokens = [pair.sign(claims(iat=int(now), auth_time=int(now), exp=int(now) + 3600, jti=str(i))) for i in range(8)]
    counter = iter(range(10**9))

    def request() -> object:
        token = tokens[next(counter) % len(tokens)]
        principal = authenticator.authenticate(token)  # identify: verify + revocation check
        access.authorize_bot(principal, "hr")  # route (Cedar)
        return access.scope_for(principal, "hr")  # authorize data access (Cedar batch) -> scope

    percentiles("identify + route + authorize (in-memory revocation store)", request)
    percentiles("  of which token verification", lambda: verifier.verify(tokens[0]))
    principal = verifier.verify(tokens[0]).principal
    percentiles("  of which route (Cedar use)", lambda: access.authorize_bot(principal, "hr"))
    percentiles("  of which scope (Cedar retrieve x4)", lambda: access.scope_for(principal, "hr"))


def test_dynamodb_revocation_read_cost_on_moto(moto_stack: Any) -> None:
    client = boto3.client(
        "dynamodb", endpoint_url=moto_stack.url, region_name="us-east-1", config=Config(retries={"max_attempts": 0})
    )
    table = f"revocations-perf-{uuid.uuid4().hex[:6]}"
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "subject", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "subject", "AttributeType": "S"}],
    )
    store = DynamoDBRevocationStore(client, table)
    store.put(RevocationRecord("sub-revoked", not_before=time.time(), reason="perf"))
    percentiles("DynamoDB consistent GetItem, no record (moto over loopback)", lambda: store.get("sub-emma"), 500)
    percentiles(
        "DynamoDB consistent GetItem, record present (moto over loopback)", lambda: store.get("sub-revoked"), 500
    )
