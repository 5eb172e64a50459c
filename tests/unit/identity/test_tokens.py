"""Token verification: valid Cognito tokens pass; each forgery is refused with its reason."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keel.errors import ServiceUnavailable, Unauthenticated
from keel.identity.principal import EXTERNAL_GROUPS
from keel.identity.tokens import CUSTOMER_CLAIMS, OIDC_CLAIMS, JwksCache, TokenVerifier, TrustedIssuers
from tests.unit.identity.conftest import Clock
from tests.unit.identity.tokenfactory import (
    CLIENT,
    ISSUER,
    NOW,
    KeyPair,
    claims,
    edit_payload,
    hs256_with_public_key,
    unsigned,
)

# One key for the property tests (a fixture cannot feed @given).
PAIR = KeyPair("key-1")


def refusal(verifier: TokenVerifier | TrustedIssuers, token: str) -> Unauthenticated:
    with pytest.raises(Unauthenticated) as caught:
        verifier.verify(token)
    if token:
        assert token not in caught.value.message
    return caught.value


def test_valid_id_token_maps_claims_to_principal(verifier: TokenVerifier, pair: KeyPair) -> None:
    verified = verifier.verify(pair.sign(claims()))
    principal = verified.principal
    assert principal.subject == "sub-emma"
    assert principal.username == "emma"
    assert principal.groups == {"all-staff", "engineering"}
    assert principal.department == "engineering"
    assert not principal.external


def test_valid_access_token_uses_client_id_as_audience(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = pair.sign(claims(token_use="access", aud=None, client_id=CLIENT, username="emma"))
    assert verifier.verify(token).principal.username == "emma"


def test_customers_group_makes_an_external_principal(verifier: TokenVerifier, pair: KeyPair) -> None:
    principal = verifier.verify(pair.sign(claims(**{"cognito:groups": ["customers"]}))).principal
    assert principal.external


def test_federated_groups_attribute_is_merged_for_a_federated_identity(verifier: TokenVerifier, pair: KeyPair) -> None:
    federated = [{"providerName": "CorpIdP", "providerType": "SAML", "userId": "emma@corp"}]
    token = pair.sign(
        claims(**{"cognito:groups": ["all-staff"], "custom:groups": "[hr, payroll-admins]", "identities": federated})
    )
    assert verifier.verify(token).principal.groups == {"all-staff", "hr", "payroll-admins"}


def test_groups_attribute_of_a_native_user_is_ignored(verifier: TokenVerifier, pair: KeyPair) -> None:
    # A native (non-federated) user's custom:groups is just an attribute, not the IdP's word.
    token = pair.sign(claims(**{"cognito:groups": ["all-staff"], "custom:groups": "hr,payroll-admins"}))
    assert verifier.verify(token).principal.groups == {"all-staff"}


def test_tenant_comes_from_configuration_never_from_the_token(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = pair.sign(claims(**{"custom:tenant": "another-company", "tenant": "another-company"}))
    assert verifier.verify(token).principal.tenant == "demo"


def customer_verifier(pair: KeyPair) -> TokenVerifier:
    return TokenVerifier(
        JwksCache(lambda: {"keys": [pair.jwk]}, clock=Clock(0.0)),
        issuers=frozenset({ISSUER}),
        audiences=frozenset({CLIENT}),
        tenant="demo",
        clock=Clock(NOW),
        claims=CUSTOMER_CLAIMS,
    )


def test_a_customer_pool_token_yields_an_external_principal_whatever_it_claims(pair: KeyPair) -> None:
    # Given a self-registered customer whose token carries every claim an attacker could choose
    chosen = {
        "cognito:groups": ["all-staff", "hr", "payroll-admins", "support-agents"],
        "custom:groups": "all-staff,hr,payroll-admins,support-agents,ops,cloud-admins",
        "custom:department": "hr",
        "custom:tenant": "another-company",
        "identities": [{"providerName": "CorpIdP"}],
        "email": "ceo@acme.example",
    }
    principal = customer_verifier(pair).verify(pair.sign(claims(**chosen))).principal
    # Then the principal is a customer and nothing else
    assert principal.external
    assert principal.groups == {"customers"}
    assert principal.department is None
    assert principal.tenant == "demo"
    assert principal.email is None  # not verified by the pool


def test_a_customer_pool_keeps_a_verified_email(pair: KeyPair) -> None:
    token = pair.sign(claims(email="carla@example.com", email_verified=True))
    assert customer_verifier(pair).verify(token).principal.email == "carla@example.com"


# --- forged tokens, one test each ---


def test_alg_none_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    assert refusal(verifier, unsigned(claims(), pair.kid)).details["reason"] == "bad_algorithm"


def test_hs256_signed_with_the_public_key_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    assert refusal(verifier, hs256_with_public_key(claims(), pair)).details["reason"] == "bad_algorithm"


def test_wrong_issuer_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = pair.sign(claims(iss="https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EVIL"))
    assert refusal(verifier, token).details["reason"] == "wrong_issuer"


def test_wrong_audience_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    assert refusal(verifier, pair.sign(claims(aud="another-app"))).details["reason"] == "wrong_audience"


def test_access_token_for_another_client_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = pair.sign(claims(token_use="access", aud=None, client_id="another-app"))
    assert refusal(verifier, token).details["reason"] == "wrong_audience"


def test_expired_token_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = pair.sign(claims(exp=int(NOW) - 31))
    assert refusal(verifier, token).details["reason"] == "expired"


def test_expiry_within_the_leeway_is_accepted(verifier: TokenVerifier, pair: KeyPair) -> None:
    verifier.verify(pair.sign(claims(exp=int(NOW) - 29)))


def test_payload_edited_after_signing_is_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = edit_payload(pair.sign(claims()), **{"cognito:groups": ["payroll-admins"]})
    assert refusal(verifier, token).details["reason"] == "bad_signature"


def test_unknown_kid_is_refused(verifier: TokenVerifier, stranger: KeyPair) -> None:
    assert refusal(verifier, stranger.sign(claims())).details["reason"] == "unknown_kid"


# --- other claims ---


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"token_use": "refresh"}, "wrong_token_use"),
        ({"token_use": None}, "wrong_token_use"),
        ({"exp": None}, "no_expiry"),
        ({"exp": True}, "no_expiry"),
        ({"nbf": int(NOW) + 120}, "not_yet_valid"),
        ({"iat": int(NOW) + 120}, "not_yet_valid"),
        ({"sub": None}, "no_subject"),
        ({"cognito:groups": "admins"}, "malformed"),
    ],
)
def test_bad_claims_are_refused(verifier: TokenVerifier, pair: KeyPair, override: dict[str, Any], reason: str) -> None:
    assert refusal(verifier, pair.sign(claims(**override))).details["reason"] == reason


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "###.###.###", "x" * 20_000])
def test_malformed_tokens_are_refused(verifier: TokenVerifier, token: str) -> None:
    assert refusal(verifier, token).details["reason"] in {"missing", "malformed"}


def test_token_without_kid_is_refused_by_default(verifier: TokenVerifier, pair: KeyPair) -> None:
    token = pair.sign(claims(), headers={"kid": None})
    assert refusal(verifier, token).details["reason"] == "unknown_kid"


def test_refusals_never_log_the_token(verifier: TokenVerifier, pair: KeyPair, caplog: pytest.LogCaptureFixture) -> None:
    token = pair.sign(claims(aud="another-app"))
    with caplog.at_level(logging.DEBUG):
        refusal(verifier, token)
    assert token not in caplog.text
    assert token.split(".")[2] not in caplog.text


# --- the JWKS cache ---


def test_unknown_kid_refetches_once_then_is_rate_limited(pair: KeyPair, stranger: KeyPair) -> None:
    document: dict[str, Any] = {"keys": [pair.jwk]}
    monotonic = Clock(0.0)
    cache = JwksCache(lambda: document, refetch_interval=60.0, clock=monotonic)
    verifier = TokenVerifier(
        cache, issuers=frozenset({ISSUER}), audiences=frozenset({CLIENT}), tenant="demo", clock=Clock(NOW)
    )
    verifier.verify(pair.sign(claims()))
    assert cache.fetches == 1
    for _ in range(5):
        refusal(verifier, stranger.sign(claims()))
    assert cache.fetches == 1  # a flood of unknown kids does not become a flood of fetches
    # The issuer rotates in a new key; after the interval one refetch finds it.
    document["keys"] = [pair.jwk, stranger.jwk]
    monotonic.now = 61.0
    verifier.verify(stranger.sign(claims()))
    assert cache.fetches == 2


def test_jwks_drops_non_signature_and_non_rsa_keys(pair: KeyPair) -> None:
    document = {
        "keys": [
            {**pair.jwk, "use": "enc"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            {**pair.jwk, "kid": "rs512", "alg": "RS512"},
            "not a key",
        ]
    }
    cache = JwksCache(lambda: document, clock=Clock(0.0))
    assert cache.key(pair.kid) is None
    assert cache.key("hmac") is None
    assert cache.key("rs512") is None


def test_jwks_fetch_failure_is_service_unavailable() -> None:
    def broken() -> dict[str, Any]:
        raise ServiceUnavailable("the identity provider's signing keys cannot be fetched")

    with pytest.raises(ServiceUnavailable):
        JwksCache(broken, clock=Clock(0.0)).key("any")


def test_http_jwks_refuses_plain_http_outside_loopback() -> None:
    from keel.identity.tokens import HttpJwks

    with pytest.raises(ValueError, match="https"):
        HttpJwks("http://idp.example.com/jwks.json")


# --- several issuers, generic OIDC ---


def test_trusted_issuers_route_by_issuer(pair: KeyPair, stranger: KeyPair) -> None:
    other_issuer = "https://idp.example.com"
    cognito = TokenVerifier(
        JwksCache(lambda: {"keys": [pair.jwk]}, clock=Clock(0.0)),
        issuers=frozenset({ISSUER}),
        audiences=frozenset({CLIENT}),
        tenant="demo",
        clock=Clock(NOW),
    )
    oidc = TokenVerifier(
        JwksCache(lambda: {"keys": [stranger.jwk]}, clock=Clock(0.0)),
        issuers=frozenset({other_issuer}),
        audiences=frozenset({"keel-web"}),
        tenant="demo",
        clock=Clock(NOW),
        claims=OIDC_CLAIMS,
    )
    trusted = TrustedIssuers({ISSUER: cognito, other_issuer: oidc})
    assert trusted.verify(pair.sign(claims())).principal.username == "emma"
    generic = {"iss": other_issuer, "sub": "u1", "aud": ["keel-web"], "exp": int(NOW) + 60, "groups": ["hr"]}
    assert trusted.verify(stranger.sign(generic)).principal.groups == {"hr"}
    # A token claiming the other issuer but signed with the Cognito key fails that issuer's keys.
    assert refusal(trusted, pair.sign({**generic})).details["reason"] == "unknown_kid"
    assert refusal(trusted, pair.sign(claims(iss="https://evil.example"))).details["reason"] == "wrong_issuer"


def test_single_key_issuer_without_kid_is_accepted_when_allowed(pair: KeyPair) -> None:
    verifier = TokenVerifier(
        JwksCache(lambda: {"keys": [pair.jwk]}, clock=Clock(0.0)),
        issuers=frozenset({"http://127.0.0.1:1"}),
        audiences=frozenset({"keel-web"}),
        tenant="demo",
        clock=Clock(NOW),
        claims=OIDC_CLAIMS,
        require_kid=False,
    )
    token = pair.sign(
        {"iss": "http://127.0.0.1:1", "sub": "u", "aud": "keel-web", "exp": int(NOW) + 9}, headers={"kid": None}
    )
    assert verifier.verify(token).principal.subject == "u"


def test_verifier_needs_issuers_and_audiences(jwks: JwksCache) -> None:
    with pytest.raises(ValueError, match="issuer"):
        TokenVerifier(jwks, issuers=frozenset(), audiences=frozenset({CLIENT}), tenant="demo")


def test_a_failed_jwks_fetch_does_not_start_the_refetch_window() -> None:
    from keel.errors import ServiceUnavailable
    from keel.identity.tokens import JwksCache

    answers: list[object] = [ServiceUnavailable("down"), {"keys": []}]

    def fetch() -> dict[str, object]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[return-value]

    cache = JwksCache(fetch, refetch_interval=3600)
    with pytest.raises(ServiceUnavailable):
        cache.key("kid-1")
    assert cache.key("kid-1") is None  # fetched again at once, not refused for an hour
    assert cache.fetches == 2


# --- sessions kept as claims (the WebSocket connection record keeps no token) ---


def test_kept_claims_are_checked_again_and_map_to_the_same_principal(verifier: TokenVerifier, pair: KeyPair) -> None:
    verified = verifier.verify(pair.sign(claims()))
    assert verifier.reverify(verified.claims).principal == verified.principal


def test_kept_claims_expire_with_their_token(verifier: TokenVerifier, pair: KeyPair, clock: Clock) -> None:
    verified = verifier.verify(pair.sign(claims()))
    clock.now += 3600 + 31
    with pytest.raises(Unauthenticated) as caught:
        verifier.reverify(verified.claims)
    assert caught.value.details["reason"] == "expired"


def test_kept_claims_of_an_untrusted_issuer_are_refused(verifier: TokenVerifier, pair: KeyPair) -> None:
    trusted = TrustedIssuers({ISSUER: verifier})
    with pytest.raises(Unauthenticated) as caught:
        trusted.reverify(claims(iss="https://evil.example"))
    assert caught.value.details["reason"] == "wrong_issuer"


_claim_text = st.text(min_size=0, max_size=40)
_chosen_claims = st.fixed_dictionaries(
    {},
    optional={
        "cognito:groups": st.lists(_claim_text, max_size=6),
        "custom:groups": _claim_text,
        "groups": st.lists(_claim_text, max_size=6),
        "custom:department": _claim_text,
        "department": _claim_text,
        "custom:tenant": _claim_text,
        "tenant": _claim_text,
        "identities": st.lists(st.dictionaries(_claim_text, _claim_text, max_size=3), max_size=2),
        "email_verified": st.booleans(),
    },
)


@given(chosen=_chosen_claims)
@settings(max_examples=150)
def test_nothing_a_customer_writes_into_their_token_changes_who_they_are(chosen: dict[str, Any]) -> None:
    # Whatever a self-service customer manages to put into their claims, the principal is the same customer.
    verifier = customer_verifier(PAIR)
    principal = verifier.verify(PAIR.sign(claims(**chosen))).principal
    assert principal.external
    assert principal.groups == {"customers"}
    assert principal.department is None
    assert principal.tenant == "demo"


@given(chosen=_chosen_claims)
@settings(max_examples=150)
def test_the_tenant_of_a_workforce_principal_is_always_the_configured_one(chosen: dict[str, Any]) -> None:
    verifier = TokenVerifier(
        JwksCache(lambda: {"keys": [PAIR.jwk]}, clock=Clock(0.0)),
        issuers=frozenset({ISSUER}),
        audiences=frozenset({CLIENT}),
        tenant="demo",
        clock=Clock(NOW),
    )
    try:
        principal = verifier.verify(PAIR.sign(claims(**chosen))).principal
    except Unauthenticated:
        return  # a malformed groups claim is refused, never mapped
    assert principal.tenant == "demo"
    assert principal.external == bool(principal.groups & EXTERNAL_GROUPS)
