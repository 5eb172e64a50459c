"""Provision the local stack's AWS resources in moto: tables, buckets, queues, the user pool and demo users."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from keel.contract import BY_DAY_INDEX, CREATED_ATTRIBUTE, DAY_ATTRIBUTE
from keel.identity.principal import CUSTOMER_GROUP
from keel.tenant.loader import default_tenant_dir

logger = logging.getLogger("keel.local")
# Attempts to give a restored user back their subject (see import_users).
SUBJECT_ATTEMPTS = 5

POOL_NAME = "keel-local-employees"
CLIENT_NAME = "keel-local-web"
CUSTOM_ATTRIBUTES = ("department", "tenant")
# The customer pool mirrors the one in stacks/identity.py: self sign-up on, the same custom attributes, and
# a widget client that may write standard attributes only (Keel trusts none of a customer's claims anyway).
CUSTOMER_POOL_NAME = "keel-local-customers"
CUSTOMER_CLIENT_NAME = "keel-local-customer-widget"
CUSTOMER_CUSTOM_ATTRIBUTES = ("groups", "department", "tenant")
CUSTOMER_WRITABLE_ATTRIBUTES = ("email", "name", "given_name", "family_name", "locale")


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table with a string partition key and an optional string sort key."""

    name: str
    partition_key: str = "pk"
    sort_key: str | None = "sk"
    ttl_attribute: str | None = "expires_at"
    # Global secondary indexes as (name, partition key, sort key), keys-only projection.
    indexes: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class LocalResources:
    """Names of everything provisioned for one local environment."""

    prefix: str = "keel-local"

    @property
    def tables(self) -> dict[str, TableSpec]:
        """Every table by its role."""
        names = ("conversations", "budgets", "audit-chain", "agents", "idempotency")
        tables = {role: TableSpec(f"{self.prefix}-{role}") for role in names}
        tables["conversations"] = TableSpec(
            f"{self.prefix}-conversations", indexes=((BY_DAY_INDEX, DAY_ATTRIBUTE, CREATED_ATTRIBUTE),)
        )
        tables["revocations"] = TableSpec(f"{self.prefix}-revocations", partition_key="subject", sort_key=None)
        tables["sessions"] = TableSpec(f"{self.prefix}-sessions", partition_key="subject", sort_key="session_key")
        return tables

    @property
    def buckets(self) -> dict[str, str]:
        """Every bucket by its role."""
        return {role: f"{self.prefix}-{role}" for role in ("audit", "knowledge")}

    @property
    def queues(self) -> dict[str, str]:
        """Every queue by its role."""
        return {role: f"{self.prefix}-{role}" for role in ("audit", "escalation", "slack-events", "webhooks")}


def provision_keys(clients: Any, names: LocalResources) -> dict[str, str]:
    """KMS keys for the PII vault (symmetric) and audit digests (RSA signing), found by alias or created."""
    wanted = {
        "vault": {"KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT"},
        "audit-signing": {"KeyUsage": "SIGN_VERIFY", "KeySpec": "RSA_2048"},
    }
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in clients.kms.list_aliases()["Aliases"]}
    keys = {}
    for role, spec in wanted.items():
        alias = f"alias/{names.prefix}-{role}"
        key_id = aliases.get(alias)
        if key_id is None:
            key_id = clients.kms.create_key(Description=f"Keel local {role}", **spec)["KeyMetadata"]["KeyId"]
            clients.kms.create_alias(AliasName=alias, TargetKeyId=key_id)
        keys[role] = key_id
    return keys


def provision_aws(clients: Any, names: LocalResources) -> dict[str, str]:
    """Create tables, buckets and queues if missing; returns queue URLs by role."""
    for spec in names.tables.values():
        ensure_table(clients.dynamodb, spec)
    for role, bucket in names.buckets.items():
        _ensure_bucket(clients.s3, bucket, object_lock=(role == "audit"))
    queue_urls = {}
    for role, queue in names.queues.items():
        dlq = clients.sqs.create_queue(QueueName=f"{queue}-dlq")["QueueUrl"]
        dlq_arn = clients.sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "5"})
        queue_urls[role] = clients.sqs.create_queue(QueueName=queue, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    return queue_urls


@dataclass(frozen=True)
class UserPool:
    """The local Cognito user pool and its web app client."""

    pool_id: str
    client_id: str


def provision_user_pool(cognito: Any) -> UserPool:
    """Create (or find) the employee user pool with custom attributes, and its app client."""
    pool_id = _ensure_pool(
        cognito,
        POOL_NAME,
        Schema=[{"Name": a, "AttributeDataType": "String", "Mutable": True} for a in CUSTOM_ATTRIBUTES],
    )
    return UserPool(pool_id=pool_id, client_id=_ensure_client(cognito, pool_id, CLIENT_NAME))


def provision_customer_pool(cognito: Any) -> UserPool:
    """Create (or find) the self-service customer pool and the website widget's client."""
    pool_id = _ensure_pool(
        cognito,
        CUSTOMER_POOL_NAME,
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": False},
        AutoVerifiedAttributes=["email"],
        Schema=[{"Name": a, "AttributeDataType": "String", "Mutable": True} for a in CUSTOMER_CUSTOM_ATTRIBUTES],
    )
    client_id = _ensure_client(
        cognito,
        pool_id,
        CUSTOMER_CLIENT_NAME,
        ReadAttributes=[*CUSTOMER_WRITABLE_ATTRIBUTES, "email_verified"],
        WriteAttributes=list(CUSTOMER_WRITABLE_ATTRIBUTES),
    )
    _ensure_group(cognito, pool_id, CUSTOMER_GROUP)
    return UserPool(pool_id=pool_id, client_id=client_id)


def _ensure_pool(cognito: Any, name: str, **create: Any) -> str:
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    found = next((p["Id"] for p in pools if p["Name"] == name), None)
    if found is not None:
        return str(found)
    policy = {"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": True, "RequireNumbers": True}}
    return str(cognito.create_user_pool(PoolName=name, Policies=policy, **create)["UserPool"]["Id"])


def _ensure_client(cognito: Any, pool_id: str, name: str, **create: Any) -> str:
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    found = next((c["ClientId"] for c in clients if c["ClientName"] == name), None)
    if found is not None:
        return str(found)
    flows = ["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    return str(
        cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=flows, **create)[
            "UserPoolClient"
        ]["ClientId"]
    )


def customer_pool_settings(pool: UserPool) -> dict[str, str]:
    """The KEEL_* settings that make the handlers trust the customer pool (as customers, nothing more)."""
    return {"KEEL_CUSTOMER_USER_POOL_ID": pool.pool_id, "KEEL_CUSTOMER_APP_CLIENT_ID": pool.client_id}


def ensure_user(
    cognito: Any,
    pool: UserPool,
    username: str,
    *,
    groups: Iterable[str],
    department: str | None = None,
    email: str | None = None,
    password: str | None = None,
    tenant: str = "demo",
) -> str:
    """Create or update a user with exactly these groups; returns the password to sign in with."""
    password = password or _random_password()
    attributes = [{"Name": "custom:tenant", "Value": tenant}]
    if department:
        attributes.append({"Name": "custom:department", "Value": department})
    if email:
        attributes += [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    try:
        with stable_subject(cognito, pool.pool_id, username):
            cognito.admin_create_user(
                UserPoolId=pool.pool_id,
                Username=username,
                TemporaryPassword=password,
                MessageAction="SUPPRESS",
                UserAttributes=attributes,
            )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "UsernameExistsException":
            raise
        cognito.admin_update_user_attributes(UserPoolId=pool.pool_id, Username=username, UserAttributes=attributes)
        cognito.admin_enable_user(UserPoolId=pool.pool_id, Username=username)
    cognito.admin_set_user_password(UserPoolId=pool.pool_id, Username=username, Password=password, Permanent=True)
    wanted = set(groups)
    current = {
        g["GroupName"] for g in cognito.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=username)["Groups"]
    }
    for group in sorted(wanted - current):
        _ensure_group(cognito, pool.pool_id, group)
        cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=username, GroupName=group)
    for group in sorted(current - wanted):
        cognito.admin_remove_user_from_group(UserPoolId=pool.pool_id, Username=username, GroupName=group)
    return password


@contextmanager
def stable_subject(cognito: Any, pool_id: str, username: str) -> Iterator[None]:
    """Make the user created inside this block get a subject (sub) that is a function of pool and username.

    moto draws a new user's sub from its random generator. Seeding that generator from the pool and the
    username means a user restored from a snapshot (or created again after a restart) keeps their subject,
    and with it their conversations. The generator is reseeded at random afterwards.
    """
    digest = hashlib.sha256(f"{pool_id}\x00{username}".encode()).digest()
    _seed_moto(cognito, int.from_bytes(digest[:8], "big"))
    try:
        yield
    finally:
        _seed_moto(cognito, secrets.randbits(63))


def _seed_moto(cognito: Any, seed: int) -> None:
    url = f"{cognito.meta.endpoint_url.rstrip('/')}/moto-api/seed?a={seed}"
    request = urllib.request.Request(url, data=b"", method="POST")  # noqa: S310 - the local moto endpoint
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


def export_users(cognito: Any, pool: UserPool) -> list[dict[str, Any]]:
    """Every user of the pool: username, attributes (without sub), groups and whether enabled."""
    users: list[dict[str, Any]] = []
    for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool.pool_id):
        for user in page["Users"]:
            username = user["Username"]
            groups = cognito.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=username)["Groups"]
            users.append(
                {
                    "username": username,
                    "attributes": {a["Name"]: a["Value"] for a in user.get("Attributes", []) if a["Name"] != "sub"},
                    "sub": _subject(user),
                    "groups": sorted(g["GroupName"] for g in groups),
                    "enabled": bool(user.get("Enabled", True)),
                }
            )
    return users


def _subject(user: dict[str, Any]) -> str | None:
    """A Cognito user's subject (sub), from list_users or admin_create_user's user record."""
    return next((a["Value"] for a in user.get("Attributes", []) if a["Name"] == "sub"), None)


def _create_with_subject(cognito: Any, pool: UserPool, user: dict[str, Any]) -> None:
    """Create an exported user again, with the subject they had when the snapshot recorded it.

    The seeded generator gives the same subject only if no other request draws from moto's generator between
    the seed and the creation; the stack's own workers poll moto meanwhile, and once in a while one does (a
    restart then lost a user's conversations: CI, 2026-12-05). The subject is checked, and the user made again
    until it matches; snapshots from before the subject was recorded are taken as they come.
    """
    attributes = [{"Name": name, "Value": value} for name, value in user["attributes"].items()]
    wanted = user.get("sub")
    for attempt in range(1, SUBJECT_ATTEMPTS + 1):
        with stable_subject(cognito, pool.pool_id, user["username"]):
            created = cognito.admin_create_user(
                UserPoolId=pool.pool_id,
                Username=user["username"],
                TemporaryPassword=_random_password(),
                MessageAction="SUPPRESS",
                UserAttributes=attributes,
            )["User"]
        if wanted is None or _subject(created) == wanted:
            return
        if attempt == SUBJECT_ATTEMPTS:
            logger.warning(
                "user %s came back with a new subject after %s attempts; their earlier conversations are not "
                "theirs any more",
                user["username"],
                attempt,
            )
            return
        cognito.admin_delete_user(UserPoolId=pool.pool_id, Username=user["username"])


def import_users(cognito: Any, pool: UserPool, users: list[dict[str, Any]]) -> int:
    """Create the exported users that the pool lacks, with the subjects they had; returns how many.

    Passwords are not exported (Cognito never returns them): a restored user gets a random one, and the
    commands that sign users in (`keel ask`, the demo logins) set theirs again.
    """
    existing = {
        u["Username"]
        for page in cognito.get_paginator("list_users").paginate(UserPoolId=pool.pool_id)
        for u in page["Users"]
    }
    created = 0
    for user in users:
        if user["username"] in existing:
            continue
        _create_with_subject(cognito, pool, user)
        for group in user["groups"]:
            _ensure_group(cognito, pool.pool_id, group)
            cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=user["username"], GroupName=group)
        if not user.get("enabled", True):
            cognito.admin_disable_user(UserPoolId=pool.pool_id, Username=user["username"])
        created += 1
    return created


def sign_in(cognito: Any, pool: UserPool, username: str, password: str) -> dict[str, str]:
    """Sign a user in through Cognito; returns the IdToken, AccessToken and RefreshToken."""
    result: dict[str, str] = cognito.admin_initiate_auth(
        UserPoolId=pool.pool_id,
        ClientId=pool.client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return result


def demo_users(users_file: Path | None = None) -> list[dict[str, Any]]:
    """The tenant's local users (username, password, groups, department, external, ...); none without a file."""
    path = users_file if users_file is not None else default_tenant_dir() / "users.json"
    if not path.is_file():
        return []
    users: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return users


def provision_demo_users(
    cognito: Any, pool: UserPool, users_file: Path | None = None, tenant: str = "demo"
) -> list[dict[str, Any]]:
    """Create every user of the tenant's users.json with its password; returns the users."""
    users = demo_users(users_file)
    for user in users:
        ensure_user(
            cognito,
            pool,
            user["username"],
            groups=user["groups"],
            department=user.get("department"),
            email=user.get("email"),
            password=user["password"],
            tenant=tenant,
        )
    return users


def _ensure_group(cognito: Any, pool_id: str, group: str) -> None:
    try:
        cognito.create_group(GroupName=group, UserPoolId=pool_id)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "GroupExistsException":
            raise


def ensure_table(dynamodb: Any, spec: TableSpec) -> None:
    """Create the table (string keys, its keys-only indexes, its TTL) unless it exists."""
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    indexes = [
        {
            "IndexName": name,
            "KeySchema": [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
        for name, pk, sk in spec.indexes
    ]
    # Every key attribute of the table and its indexes, once each, all strings.
    key_names = [k["AttributeName"] for k in keys] + [n for _, pk, sk in spec.indexes for n in (pk, sk)]
    attributes = [{"AttributeName": n, "AttributeType": "S"} for n in dict.fromkeys(key_names)]
    try:
        dynamodb.create_table(
            TableName=spec.name,
            KeySchema=keys,
            AttributeDefinitions=attributes,
            BillingMode="PAY_PER_REQUEST",
            **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceInUseException":
            raise
        return
    if spec.ttl_attribute:
        dynamodb.update_time_to_live(
            TableName=spec.name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )


def _ensure_bucket(s3: Any, bucket: str, *, object_lock: bool) -> None:
    try:
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=object_lock)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def _random_password() -> str:
    return f"Keel-{secrets.token_urlsafe(18)}-9!"
