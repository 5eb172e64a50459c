"""A user restored from a dev snapshot keeps their subject, and with it their conversations.

The subject came from seeding moto's generator just before the user was made; a request from the stack's own
workers drawing from that generator in between gave the user a new subject, and after a restart their
conversation answered 404 (CI, 2026-12-05). Against Cognito in moto over HTTP.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from keel.bootstrap import AwsClients
from keel.local import provision

pytestmark = pytest.mark.integration


def _sub(clients: AwsClients, pool: provision.UserPool, username: str) -> str:
    user = clients.cognito.admin_get_user(UserPoolId=pool.pool_id, Username=username)
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")


def test_a_restored_user_gets_their_exported_subject_even_when_something_draws_in_between(
    moto_stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = AwsClients(region="us-east-1", endpoint_url=moto_stack.url)
    pool = provision.provision_user_pool(clients.cognito)
    username = f"restore-{uuid.uuid4().hex[:8]}"
    provision.ensure_user(clients.cognito, pool, username, groups=["staff"])
    exported = [u for u in provision.export_users(clients.cognito, pool) if u["username"] == username]
    assert exported and exported[0]["sub"] == _sub(clients, pool, username)
    clients.cognito.admin_delete_user(UserPoolId=pool.pool_id, Username=username)

    # Another client of moto draws from its generator right after the seed, once (a worker's poll, say).
    seed = provision._seed_moto
    draws = [1]

    def seed_then_someone_draws(cognito: Any, value: int) -> None:
        seed(cognito, value)
        if draws:
            draws.pop()
            clients.cognito.admin_create_user(UserPoolId=pool.pool_id, Username=f"other-{uuid.uuid4().hex[:8]}")

    monkeypatch.setattr(provision, "_seed_moto", seed_then_someone_draws)
    assert provision.import_users(clients.cognito, pool, exported) == 1
    assert not draws, "the interference happened"
    assert _sub(clients, pool, username) == exported[0]["sub"]
    groups = clients.cognito.admin_list_groups_for_user(UserPoolId=pool.pool_id, Username=username)["Groups"]
    assert [g["GroupName"] for g in groups] == ["staff"]


def test_a_snapshot_without_subjects_still_restores_its_users(moto_stack: Any) -> None:
    clients = AwsClients(region="us-east-1", endpoint_url=moto_stack.url)
    pool = provision.provision_user_pool(clients.cognito)
    username = f"old-{uuid.uuid4().hex[:8]}"
    old = [{"username": username, "attributes": {"custom:tenant": "t"}, "groups": [], "enabled": True}]
    assert provision.import_users(clients.cognito, pool, old) == 1
    assert _sub(clients, pool, username)
