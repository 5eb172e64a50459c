"""The tenant from AppConfig: a new deployment changes access with no code release; a broken one never lands."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keel.access.pdp import TenantPolicies
from keel.access.scope import scope_for
from keel.errors import ConfigurationError, Forbidden
from keel.identity.principal import Principal
from keel.settings import load_settings
from keel.tenant.appconfig import AppConfigTenant
from keel.tenant.loader import TenantInvalid

DOCUMENT: dict[str, Any] = {
    "tenant": {
        "name": "Northwind Bank",
        "collections": [{"id": "hr", "audience": "internal"}],
        "bots": [
            {
                "id": "hr",
                "name": "HR",
                "audience": "internal",
                "collections": ["hr"],
                "allowed_groups": ["staff"],
                "owner": "hr@northwind.example",
            }
        ],
        "access": [{"collection": "hr", "classification": "confidential", "groups": ["hr-managers"]}],
    },
    "policies": {},
}
ANA = Principal("sub-ana", "ana", frozenset({"staff", "hr-partners"}), "northwind")


class Deployments:
    """What AppConfig serves: the latest deployed document (Powertools' cache is not under test here)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.fetches = 0

    def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        return copy.deepcopy(self.document)


def _granting_partners() -> dict[str, Any]:
    """A new deployment: hr-partners may now read confidential HR documents."""
    changed = copy.deepcopy(DOCUMENT)
    changed["tenant"]["access"][0]["groups"].append("hr-partners")
    return changed


def _refused() -> dict[str, Any]:
    """A deployment validation refuses: the bot names a collection the tenant does not have."""
    broken = copy.deepcopy(DOCUMENT)
    broken["tenant"]["bots"][0]["collections"] = ["legal"]
    return broken


def test_a_new_deployment_changes_the_grants_without_a_release() -> None:
    served = Deployments(DOCUMENT)
    source = AppConfigTenant(served, source="appconfig:test")
    policies = TenantPolicies(source.current)
    first = policies()
    assert "confidential" not in scope_for(ANA, "hr", first).classifications
    assert policies() is first  # the same document: the decision point is not rebuilt

    served.document = _granting_partners()
    assert "confidential" in scope_for(ANA, "hr", policies()).classifications


def test_a_broken_deployment_never_replaces_the_last_good_tenant(caplog: pytest.LogCaptureFixture) -> None:
    served = Deployments(DOCUMENT)
    source = AppConfigTenant(served, source="appconfig:test")
    good = source.current()
    served.document = _refused()
    assert source.current() is good
    assert "unknown collection 'legal'" in caplog.text


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"name": "no wrapper"}, "must be"),
        ({"tenant": DOCUMENT["tenant"], "policies": {"a.cedar": 1}}, "Cedar policy text"),
        ({"tenant": {**DOCUMENT["tenant"], "bots": []}, "policies": {}}, "bots"),
    ],
    ids=["no-tenant-key", "policy-not-text", "invalid-tenant"],
)
def test_a_broken_first_document_stops_the_function(document: dict[str, Any], message: str) -> None:
    with pytest.raises(TenantInvalid, match=message):
        AppConfigTenant(Deployments(document), source="appconfig:test").current()


def test_a_tenant_that_loses_the_bot_denies_it() -> None:
    served = Deployments(DOCUMENT)
    policies = TenantPolicies(AppConfigTenant(served, source="appconfig:test").current)
    scope_for(ANA, "hr", policies())
    changed = copy.deepcopy(DOCUMENT)
    changed["tenant"]["bots"][0]["allowed_groups"] = ["board"]
    served.document = changed
    with pytest.raises(Forbidden):
        scope_for(ANA, "hr", policies())


def test_the_identifier_names_application_environment_and_profile() -> None:
    with pytest.raises(ConfigurationError, match="application/environment/profile"):
        AppConfigTenant.from_identifier("keel-prod/tenant")


def test_the_setting_accepts_only_three_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    base = {
        "KEEL_ENVIRONMENT": "local",
        "KEEL_USER_POOL_ID": "p",
        "KEEL_APP_CLIENT_IDS": "c",
        "KEEL_CONVERSATIONS_TABLE": "conv",
        "KEEL_OPENSEARCH_URL": "http://127.0.0.1:9200",
        "KEEL_REVOCATIONS_TABLE": "rev",
        "KEEL_SESSIONS_TABLE": "ses",
        "KEEL_VAULT_KMS_KEY_ID": "k",
        "KEEL_AUDIT_QUEUE_URL": "q",
        "KEEL_AUDIT_BUCKET": "bucket",
        "KEEL_AUDIT_TABLE": "audit",
        "KEEL_ESCALATION_STATE_MACHINE_ARN": "arn",
        "KEEL_ESCALATIONS_TABLE": "esc",
        "KEEL_MODEL_PRIMARY": "m1",
        "KEEL_MODEL_SECONDARY": "m2",
        "KEEL_MODEL_SMALL": "m3",
        "KEEL_BUDGETS_TABLE": "budgets",
    }
    assert load_settings({**base, "KEEL_TENANT_APPCONFIG": "keel-prod/prod/tenant"}).tenant_appconfig
    with pytest.raises(ConfigurationError, match="KEEL_TENANT_APPCONFIG"):
        load_settings({**base, "KEEL_TENANT_APPCONFIG": "keel-prod/tenant"})


class Cached(Deployments):
    """Powertools within max_age: the same object again until the cache expires (then a new one)."""

    def __init__(self, document: dict[str, Any]) -> None:
        super().__init__(document)
        self.served: dict[str, Any] | None = None

    def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        if self.served is None:
            self.served = copy.deepcopy(self.document)
        return self.served

    def expire(self) -> None:
        self.served = None


def test_a_cached_document_is_recognised_without_a_digest(monkeypatch: pytest.MonkeyPatch) -> None:
    import keel.tenant.appconfig as appconfig

    digests: list[object] = []
    real = appconfig._digest
    monkeypatch.setattr(appconfig, "_digest", lambda raw: digests.append(raw) or real(raw))
    served = Cached(DOCUMENT)
    source = AppConfigTenant(served, source="appconfig:test")
    first = source.current()
    assert all(source.current() is first for _ in range(5))
    assert len(digests) == 1  # one digest for six requests within max_age

    served.expire()  # the cache expires and AppConfig serves the same content again
    assert source.current() is first
    assert len(digests) == 2

    served.document = _granting_partners()
    served.expire()
    assert source.current() is not first
    assert "confidential" in scope_for(ANA, "hr", TenantPolicies(source.current)()).classifications


def test_a_refused_document_is_logged_once_per_fetch_not_per_request(caplog: pytest.LogCaptureFixture) -> None:
    served = Cached(DOCUMENT)
    source = AppConfigTenant(served, source="appconfig:test")
    good = source.current()
    served.document = _refused()
    served.expire()
    assert all(source.current() is good for _ in range(4))
    assert caplog.text.count("tenant document refused") == 1
    served.expire()
    assert source.current() is good
    assert caplog.text.count("tenant document refused") == 2  # each new fetch of it is judged (and alarmed) again
