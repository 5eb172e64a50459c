"""Settings fail at start-up with a message that names the setting and what it accepts."""

from __future__ import annotations

import pytest

from keel.errors import ConfigurationError
from keel.settings import Environment, load_settings
from tests.fakes.settings import VALID_ENVIRONMENT

VALID = {**VALID_ENVIRONMENT, "KEEL_MODEL_PRIMARY": "anthropic.claude-3-5-sonnet", "KEEL_MODEL_SECONDARY": "x"}


def test_valid_environment_loads() -> None:
    settings = load_settings(VALID)
    assert settings.environment is Environment.DEV
    assert settings.app_client_ids == ["client-a", "client-b"]
    assert settings.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"


def test_missing_setting_is_named() -> None:
    environ = {k: v for k, v in VALID.items() if k != "KEEL_USER_POOL_ID"}
    with pytest.raises(ConfigurationError, match="KEEL_USER_POOL_ID: is required"):
        load_settings(environ)


def test_wrong_environment_lists_accepted_values() -> None:
    with pytest.raises(ConfigurationError, match=r"KEEL_ENVIRONMENT.*accepted: local, dev, staging, prod"):
        load_settings({**VALID, "KEEL_ENVIRONMENT": "production"})


def test_unknown_setting_is_refused_rather_than_ignored() -> None:
    with pytest.raises(ConfigurationError, match="KEEL_MODEL_PRIMRY"):
        load_settings({**VALID, "KEEL_MODEL_PRIMRY": "typo"})


def test_bad_number_is_named_with_its_value() -> None:
    with pytest.raises(ConfigurationError, match="KEEL_MODEL_TIMEOUT_SECONDS: got '-1'"):
        load_settings({**VALID, "KEEL_MODEL_TIMEOUT_SECONDS": "-1"})


def test_production_like_environments() -> None:
    assert load_settings({**VALID, "KEEL_ENVIRONMENT": "prod"}).is_production_like
    assert not load_settings(VALID).is_production_like


def test_audit_fail_open_is_refused_outside_local_and_dev() -> None:
    with pytest.raises(ConfigurationError, match="audit_fail_open is accepted only in local and dev"):
        load_settings({**VALID, "KEEL_ENVIRONMENT": "prod", "KEEL_AUDIT_FAIL_OPEN": "true"})
    assert load_settings({**VALID, "KEEL_AUDIT_FAIL_OPEN": "true"}).audit_fail_open


def test_a_bedrock_guardrail_is_required_outside_local() -> None:
    environ = {k: v for k, v in VALID.items() if k != "KEEL_BEDROCK_GUARDRAIL_ID"}
    with pytest.raises(ConfigurationError, match="bedrock_guardrail_id is required outside local"):
        load_settings(environ)
    assert load_settings({**environ, "KEEL_ENVIRONMENT": "local"}).bedrock_guardrail_id is None
