"""The rotation Lambda's dispatch: a secret's keel:rotation tags pick the rotator; every failure keeps AWSCURRENT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keel.contract import KeyAuth, Scheme
from keel.errors import InvalidRequest
from keel.integrations.http import IntegrationUnavailable, Transport
from keel.integrations.rotation import RotationFailed, key_fingerprint
from keel.integrations.rotation_schemes import RotationScheme, rotate_step
from keel.local.api import load_handler
from tests.fakes.rotation import FakeKeyApi, FakeSecretsManager

REPO = Path(__file__).resolve().parents[3]
OLD = "old-key-0123456789abcdef"
CRM_TAGS = {
    "keel:rotation": "rest-key",
    "keel:rotation-url": "https://crm.example.com",
    "keel:rotation-auth": "bearer",
    "keel:rotation-field": "access_token",
}
HR_TAGS = {
    "keel:rotation": "rest-key",
    "keel:rotation-url": "https://hr.example.com/",
    "keel:rotation-auth": "api-key-header",
    "keel:rotation-field": "api_key",
}
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def run(sm: FakeSecretsManager, name: str, token: str, api: Transport | None = None, *steps: str) -> None:
    for step in steps or STEPS:
        rotate_step(sm, {"SecretId": name, "ClientRequestToken": token, "Step": step}, transport=api)


def crm_secret(sm: FakeSecretsManager, tags: dict[str, str] | None = None) -> tuple[str, str]:
    name = sm.create(
        "keel/dev/crm", {"access_token": OLD, "rotate_field": "access_token"}, CRM_TAGS if tags is None else tags
    )
    return name, sm.start_rotation(name)


def test_a_rest_key_secret_gets_a_new_key_at_the_provider_and_the_old_one_is_revoked_after_finish() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm)

    run(sm, name, token, api, "createSecret", "setSecret", "testSecret")
    new = sm.get_secret_value(SecretId=name, VersionId=token, VersionStage="AWSPENDING")["SecretString"]
    assert sm.current(name)["access_token"] == OLD and OLD in api.keys and len(api.keys) == 2  # both work until finish
    run(sm, name, token, api, "finishSecret")

    current = sm.current(name)
    assert current["access_token"] != OLD and current["access_token"] in new and api.keys == {current["access_token"]}
    assert current["rotate_field"] == "access_token"  # the rest of the JSON is kept
    assert api.seen == [
        ("POST", "/api/keys"),
        ("GET", "/api/keys/self"),
        ("DELETE", f"/api/keys/{key_fingerprint(OLD)}"),
    ]
    assert "get_random_password" not in sm.calls


def test_the_auth_tag_decides_how_the_key_is_presented() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD, header="X-Api-Key")
    name = sm.create("keel/dev/hr", {"api_key": OLD}, HR_TAGS)

    run(sm, name, sm.start_rotation(name), api)

    assert sm.current(name)["api_key"] != OLD and api.keys == {sm.current(name)["api_key"]}


def test_a_self_issued_secret_rotates_without_calling_any_provider() -> None:
    sm = FakeSecretsManager()
    name = sm.create(
        "keel/dev/webhook", {"secret": "s" * 48, "rotate_field": "secret"}, {"keel:rotation": "self-issued"}
    )
    api = FakeKeyApi(OLD)

    run(sm, name, sm.start_rotation(name), api)

    assert sm.current(name)["secret"] != "s" * 48 and len(sm.current(name)["secret"]) == 48
    assert api.seen == [] and "get_random_password" in sm.calls


def test_every_step_is_idempotent_when_secrets_manager_retries_it() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm)

    run(sm, name, token, api, "createSecret", "createSecret", "setSecret", "setSecret", "testSecret")
    run(sm, name, token, api, "finishSecret", "finishSecret")

    assert api.keys == {sm.current(name)["access_token"]}


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({}, "has no keel:rotation tag; accepted: self-issued, rest-key"),
        ({"keel:self-issued": "true"}, "has no keel:rotation tag; accepted: self-issued, rest-key"),
        ({"keel:rotation": "oauth"}, r"keel:rotation='oauth' is not a scheme; accepted: self-issued, rest-key, prov"),
        ({**CRM_TAGS, "keel:rotation-url": ""}, "has no keel:rotation-url tag; accepted: the provider's https://"),
        ({k: v for k, v in CRM_TAGS.items() if k != "keel:rotation-url"}, "has no keel:rotation-url tag"),
        ({**CRM_TAGS, "keel:rotation-url": "http://crm.example.com"}, "is not accepted; accepted: the provider's"),
        ({**CRM_TAGS, "keel:rotation-url": "https://crm.example.com/?t=1"}, "is not accepted"),
        ({**CRM_TAGS, "keel:rotation-url": "https://user@crm.example.com"}, "is not accepted"),
        ({**CRM_TAGS, "keel:rotation-url": "crm.example.com"}, "is not accepted"),
        (
            {**CRM_TAGS, "keel:rotation-auth": "basic"},
            "keel:rotation-auth is 'basic'; accepted: bearer, api-key-header",
        ),
        ({k: v for k, v in CRM_TAGS.items() if k != "keel:rotation-auth"}, "keel:rotation-auth is missing; accepted"),
        ({k: v for k, v in CRM_TAGS.items() if k != "keel:rotation-field"}, "keel:rotation-field is missing; accepted"),
        ({**CRM_TAGS, "keel:rotation-field": "access token"}, "keel:rotation-field is 'access token'; accepted"),
    ],
)
def test_a_missing_or_wrong_scheme_fails_before_anything_is_created_and_names_what_is_accepted(
    tags: dict[str, str], message: str
) -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm, tags)

    with pytest.raises(RotationFailed, match=message):
        run(sm, name, token, api, "createSecret")

    assert "put_secret_value" not in sm.calls and api.seen == []
    assert sm.current(name)["access_token"] == OLD


def test_plain_http_is_accepted_only_to_a_stand_in_on_this_machine() -> None:
    for url in ("http://127.0.0.1:8081", "http://localhost:9000/base"):
        assert RotationScheme.from_tags("s", {**CRM_TAGS, "keel:rotation-url": url}).base_url == url
    scheme = RotationScheme.from_tags("s", HR_TAGS)
    assert (scheme.scheme, scheme.auth, scheme.field) == (Scheme.REST_KEY, KeyAuth.API_KEY_HEADER, "api_key")


@given(st.dictionaries(st.sampled_from([*sorted(CRM_TAGS), "other"]), st.text(max_size=40)))
def test_any_tags_give_a_valid_scheme_or_a_rotation_error_that_says_what_is_accepted(tags: dict[str, str]) -> None:
    try:
        scheme = RotationScheme.from_tags("s", tags)
    except RotationFailed as exc:
        assert "accepted" in exc.message
        return
    assert scheme.scheme in (Scheme.SELF_ISSUED, Scheme.REST_KEY)
    if scheme.scheme is Scheme.REST_KEY:
        assert scheme.base_url.startswith(("https://", "http://")) and scheme.auth is not None and scheme.field


def test_a_provider_that_refuses_the_new_key_fails_set_secret_and_keeps_the_current_key() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm)
    api.refuse_new = True
    run(sm, name, token, api, "createSecret")

    with pytest.raises(RotationFailed, match=r"did not take the pending key .*403; AWSCURRENT is unchanged"):
        run(sm, name, token, api, "setSecret")

    assert sm.current(name)["access_token"] == OLD and api.keys == {OLD}


def test_a_provider_that_is_down_fails_set_secret_and_keeps_the_current_key() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm)
    run(sm, name, token, api, "createSecret")
    api.down = True

    with pytest.raises(RotationFailed, match=r"did not take the pending key .*503"):
        run(sm, name, token, api, "setSecret")

    assert sm.current(name)["access_token"] == OLD


def test_a_failed_test_step_keeps_the_current_key_and_finish_is_never_reached() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm)
    api.forget_new = True  # the provider answers 201 but does not accept the key afterwards
    run(sm, name, token, api, "createSecret", "setSecret")

    with pytest.raises(RotationFailed, match="refused the pending key of keel/dev/crm; AWSCURRENT is unchanged"):
        run(sm, name, token, api, "testSecret")

    assert sm.current(name)["access_token"] == OLD and api.keys == {OLD}
    assert "update_secret_version_stage" not in sm.calls


def test_an_unreachable_provider_during_the_test_step_is_a_rotation_error() -> None:
    sm = FakeSecretsManager()
    name, token = crm_secret(sm)
    run(sm, name, token, FakeKeyApi(OLD), "createSecret", "setSecret")

    def unreachable(method: str, url: str, headers: dict[str, str], body: bytes | None) -> tuple[int, Any]:
        raise IntegrationUnavailable("the key API is not responding (URLError)")

    with pytest.raises(RotationFailed, match="could not be tested: the key API is not responding"):
        run(sm, name, token, unreachable, "testSecret")
    assert sm.current(name)["access_token"] == OLD


def test_a_revoke_that_fails_after_promotion_says_which_old_key_to_revoke_by_hand() -> None:
    sm, api = FakeSecretsManager(), FakeKeyApi(OLD)
    name, token = crm_secret(sm)
    run(sm, name, token, api, "createSecret", "setSecret", "testSecret")
    api.down = True

    with pytest.raises(RotationFailed, match=f"now uses the new key.*fingerprint {key_fingerprint(OLD)}.*by hand"):
        run(sm, name, token, api, "finishSecret")

    assert sm.current(name)["access_token"] != OLD


def test_a_secret_without_rotation_enabled_or_a_malformed_event_is_refused() -> None:
    sm = FakeSecretsManager()
    name = sm.create("keel/dev/crm", {"access_token": OLD}, CRM_TAGS)
    with pytest.raises(RotationFailed, match="rotation is not enabled"):
        rotate_step(sm, {"SecretId": name, "ClientRequestToken": "v1", "Step": "createSecret"})
    with pytest.raises(InvalidRequest, match="unknown rotation step 'dropSecret'; accepted: createSecret"):
        rotate_step(sm, {"SecretId": name, "ClientRequestToken": "v1", "Step": "dropSecret"})
    with pytest.raises(InvalidRequest, match="needs SecretId, ClientRequestToken and Step"):
        rotate_step(sm, {"SecretId": name})


def test_the_lambda_entry_refuses_an_untagged_secret_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the deployed handler module and a provider-issued secret (Slack) with no keel:rotation tag,
    sm = FakeSecretsManager()
    name = sm.create("keel/dev/slack-bot-token", {"bot_token": "xoxb-1", "rotate_field": "bot_token"})
    token = sm.start_rotation(name)
    handler = load_handler(REPO / "functions", "secret_rotation")
    monkeypatch.setattr(handler.__globals__["boto3"], "client", lambda service: sm)

    # When Secrets Manager calls createSecret, Then the error names the accepted schemes and nothing changed.
    accepted = r"no keel:rotation tag; accepted: self-issued, rest-key.*stored with put-secret-value"
    with pytest.raises(RotationFailed, match=accepted):
        handler({"SecretId": name, "ClientRequestToken": token, "Step": "createSecret"}, None)
    assert sm.current(name)["bot_token"] == "xoxb-1" and "put_secret_value" not in sm.calls
