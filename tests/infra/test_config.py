"""The per-stage configuration: one typed place, validated, with the differences R1 asks for."""

from __future__ import annotations

import json
from dataclasses import replace
from functools import partial
from typing import Any

import pytest

from keel.tenant.loader import default_tenant_dir
from stacks.config import AccountTarget, ConfigError, EngineerAccessMode, Federation
from stacks.config import build_stage_config as build_one
from stacks.config import build_stage_configs as build_all
from stacks.constructs.nag import flatten_reference
from stacks.tenant import TenantFolderError, read_tenant

TARGET = AccountTarget(account="123456789012", region="eu-west-1")
TENANT = read_tenant(default_tenant_dir())
build_stage_config = partial(build_one, tenant=TENANT)
build_stage_configs = partial(build_all, tenant=TENANT)


def test_dev_uses_cheaper_models_and_prod_is_read_only_for_engineers() -> None:
    configs = build_stage_configs({s: TARGET for s in ("dev", "staging", "prod")})
    assert configs["dev"].models.primary != configs["prod"].models.primary
    assert "haiku" in configs["dev"].models.primary or "micro" in configs["dev"].models.primary
    assert configs["prod"].engineers.mode is EngineerAccessMode.READ_ONLY
    assert configs["dev"].engineers.mode is EngineerAccessMode.OPERATOR
    assert configs["prod"].log_retention_days > configs["dev"].log_retention_days
    assert configs["prod"].quotas.api_rate_limit_rps > configs["dev"].quotas.api_rate_limit_rps
    # The stage watches the tenant's bots, read from tenant.yaml (the stacks name none).
    assert all(c.bots == ("hr", "it", "finance", "sales", "customer") for c in configs.values())


def test_a_tenant_without_bots_is_refused_and_a_missing_folder_named(tmp_path: Any) -> None:
    (tmp_path / "tenant.yaml").write_text("name: Empty\nbots: []\n")
    with pytest.raises(ConfigError, match="the tenant defines no bots"):
        build_one("dev", TARGET, tenant=read_tenant(tmp_path))
    with pytest.raises(TenantFolderError, match=r"no tenant\.yaml"):
        read_tenant(tmp_path / "absent")


def test_the_appconfig_document_carries_the_tenant_and_its_policies() -> None:
    content = json.loads(TENANT.content())
    assert content["tenant"]["name"] == "Acme Corp" and "actions.cedar" in content["policies"]


def test_every_stage_needs_a_target() -> None:
    with pytest.raises(ConfigError, match="no account/region for stage\\(s\\) prod"):
        build_stage_configs({"dev": TARGET, "staging": TARGET})


@pytest.mark.parametrize(
    ("account", "region", "message"),
    [("12345", "eu-west-1", "12-digit"), ("123456789012", "europe", "AWS region")],
)
def test_bad_targets_are_refused(account: str, region: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AccountTarget(account=account, region=region)


def test_federation_needs_saml_or_oidc_over_https() -> None:
    with pytest.raises(ConfigError, match="SAML metadata URL, an OIDC issuer, or both"):
        Federation()
    with pytest.raises(ConfigError, match="https://"):
        Federation(saml_provider_name="Corp", saml_metadata_url="http://idp.example.com/metadata")
    with pytest.raises(ConfigError, match="oidc_client_id"):
        Federation(oidc_issuer_url="https://login.example.com", oidc_provider_name="Corp")


def test_overrides_are_limited_and_validated() -> None:
    with pytest.raises(ConfigError, match="unknown override"):
        build_stage_config("dev", TARGET, {"models": {}})
    config = build_stage_config(
        "prod", TARGET, {"federation": {"oidc_issuer_url": None, "oidc_provider_name": None, "oidc_client_id": None}}
    )
    assert config.federation.oidc_issuer_url is None and config.federation.saml_metadata_url


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("log_retention_days", 13, "log_retention_days"),
        ("access_token_minutes", 240, "access_token_minutes"),
        ("audit_retention_days", 0, "audit_retention_days"),
        ("log_level", "TRACE", "log_level"),
        ("availability_zones", ("us-east-1a", "us-east-1b"), "zones of eu-west-1"),
    ],
)
def test_out_of_range_values_are_refused(field: str, value: object, message: str) -> None:
    config = build_stage_config("staging", TARGET)
    with pytest.raises(ConfigError, match=message):
        changes: dict[str, Any] = {field: value}
        replace(config, **changes)


def test_flatten_reference_names_findings_like_cdk_nag() -> None:
    joined = {"Fn::Join": ["", [{"Fn::GetAtt": ["Bucket1234", "Arn"]}, "/*"]]}
    assert flatten_reference(joined) == "<Bucket1234.Arn>/*"
    assert flatten_reference({"Fn::Sub": "arn:${AWS::Partition}:s3:::b/*"}) == "arn:<AWS::Partition>:s3:::b/*"
    assert flatten_reference({"Ref": "Api"}) == "<Api>"
    assert flatten_reference("arn:aws:s3:::b/*") == "arn:aws:s3:::b/*"


def test_the_helpdesk_is_overridable_and_validated() -> None:
    target = AccountTarget("111111111111", "eu-west-1")
    chosen = build_stage_config(
        "prod", target, {"helpdesk": {"kind": "servicenow", "url": "https://acme.service-now.com"}}
    )
    assert (chosen.helpdesk.kind, chosen.helpdesk.url) == ("servicenow", "https://acme.service-now.com")
    with pytest.raises(ConfigError, match=r"helpdesk\.kind 'freshdesk': accepted is one of zendesk"):
        build_stage_config("prod", target, {"helpdesk": {"kind": "freshdesk"}})
    with pytest.raises(ConfigError, match=r"helpdesk\.url"):
        build_stage_config("prod", target, {"helpdesk": {"url": "http://plain.example.com"}})
    with pytest.raises(ConfigError, match="accepted keys: kind, url"):
        build_stage_config("prod", target, {"helpdesk": {"token": "x"}})


def test_actions_are_on_in_dev_and_staging_and_off_in_prod_unless_overridden() -> None:
    configs = build_stage_configs({s: TARGET for s in ("dev", "staging", "prod")})
    assert (configs["dev"].actions_enabled, configs["staging"].actions_enabled) == (True, True)
    assert configs["prod"].actions_enabled is False
    assert build_stage_config("prod", TARGET, {"actions_enabled": True}).actions_enabled is True
    assert build_stage_config("dev", TARGET, {"actions_enabled": False}).actions_enabled is False
    with pytest.raises(ConfigError, match=r"prod\.actions_enabled 'yes': accepted is true or false"):
        build_stage_config("prod", TARGET, {"actions_enabled": "yes"})


def test_integration_urls_are_overridable_and_must_be_https() -> None:
    chosen = build_stage_config("prod", TARGET, {"integrations": {"crm_url": "https://api.hubapi.com"}})
    assert chosen.integrations.crm_url == "https://api.hubapi.com" and chosen.integrations.hr_url.startswith("https://")
    with pytest.raises(ConfigError, match=r"integrations\.hr_url 'http://hr\.local'"):
        build_stage_config("prod", TARGET, {"integrations": {"hr_url": "http://hr.local"}})
    with pytest.raises(ConfigError, match="accepted keys: crm_url, hr_url"):
        build_stage_config("prod", TARGET, {"integrations": {"erp_url": "https://erp.example.com"}})


def test_integration_urls_must_fit_a_secret_tag_because_rotation_reads_them_from_one() -> None:
    assert build_stage_config("prod", TARGET, {"integrations": {"hr_url": "https://hr.example.com:8443/v2"}})
    for url in ("https://hr.example.com/?tenant=1", "https://hr.example.com/%7Eapi", "https://" + "h" * 250):
        with pytest.raises(ConfigError, match=r"integrations\.hr_url .*rotation tag"):
            build_stage_config("prod", TARGET, {"integrations": {"hr_url": url}})


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "legacy model"),
        ("anthropic.claude-sonnet-4-5-20250929-v1:0", "bare model id"),
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "cannot be invoked from eu-west-1"),
    ],
)
def test_a_stage_refuses_a_model_that_would_fail_on_its_first_call(model: str, message: str) -> None:
    config = build_stage_config("prod", TARGET)
    with pytest.raises(ConfigError, match=f"prod.models.primary: .*{message}"):
        replace(config, models=replace(config.models, primary=model))
