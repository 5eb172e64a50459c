"""The Cedar policy files validate against the schema, and the PDP refuses policies that do not."""

from __future__ import annotations

import shutil
from pathlib import Path

import cedarpy
import pytest

from keel.access.bots import BotRegistry
from keel.access.pdp import POLICIES_DIR, SCHEMA_FILE, PolicyDecisionPoint, load_policy_text
from keel.errors import ConfigurationError
from keel.tenant.loader import load_tenant


def test_every_policy_file_validates_against_the_schema() -> None:
    result = cedarpy.validate_policies(load_policy_text(), SCHEMA_FILE.read_text())
    assert result.validation_passed, [str(e) for e in result.errors]


def test_the_example_tenants_policies_validate_against_the_schema() -> None:
    result = cedarpy.validate_policies(load_tenant().policy_text(), SCHEMA_FILE.read_text())
    assert result.validation_passed, [str(e) for e in result.errors]


def test_every_policy_has_a_unique_id_annotation() -> None:
    text = load_policy_text() + "\n" + load_tenant().policy_text()
    ids = [line.split('"')[1] for line in text.splitlines() if line.startswith("@id(")]
    statements = text.count("permit (") + text.count("forbid (")
    assert len(ids) == statements
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "typo",
    [
        'permit (principal, action == Keel::Action::"uze", resource);',
        'permit (principal, action == Keel::Action::"use", resource) when { resource.audiense == "external" };',
        'permit (principal, action == Keel::Action::"refund", resource) when { context.amountCents <= "100" };',
    ],
    ids=["unknown-action", "unknown-attribute", "type-error"],
)
def test_pdp_refuses_policies_that_do_not_match_the_schema(tmp_path: Path, typo: str) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, policies)
    (policies / "zz-typo.cedar").write_text(f'@id("typo")\n{typo}\n')
    with pytest.raises(ConfigurationError, match="schema"):
        PolicyDecisionPoint(BotRegistry.from_tenant(load_tenant()), policies_dir=policies)


def test_a_folder_without_policies_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no Cedar policy files"):
        load_policy_text(tmp_path)
