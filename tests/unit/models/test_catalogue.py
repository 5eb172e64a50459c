"""The dated model catalogue: profiles, lifecycle, Regions, and the IAM resources an id needs."""

from __future__ import annotations

import re

import pytest

from keel.models.catalogue import ACTIVE, GEOGRAPHIES, Catalogue, region_geography, split_model_id

SONNET = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_every_entry_is_dated_priced_and_says_how_it_is_invoked() -> None:
    catalogue = Catalogue()
    assert catalogue.prices_as_of[:4].isdigit() and catalogue.meta["source"].startswith("https://")
    for spec in catalogue.models():
        assert spec.lifecycle in ("active", "legacy") and spec.price_source
        assert spec.input_per_1k > 0 and spec.context_tokens > 0
        assert set(spec.profiles) <= set(GEOGRAPHIES)
        assert spec.profiles or spec.on_demand_regions, spec.id
    legacy = {s.id for s in catalogue.models() if s.lifecycle != ACTIVE}
    assert {"anthropic.claude-3-5-sonnet-20240620-v1:0", "anthropic.claude-3-haiku-20240307-v1:0"} <= legacy


# Each geography's Regions carry its Region prefix.
_GEOGRAPHY_PREFIX = {"eu": "eu-", "us": "us-", "apac": "ap-"}
_REGION = re.compile(r"^[a-z]{2}-[a-z]+-\d$")


def test_the_region_lists_are_consistent() -> None:
    # Every Region is well formed and listed once; a geography's profile stays in its geography; a model's
    # global profile reaches every Region its geographic profiles do; the catalogue's date is a date.
    catalogue = Catalogue()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", catalogue.prices_as_of)
    for spec in catalogue.models():
        for geography, regions in spec.profiles.items():
            assert len(regions) == len(set(regions)) and all(_REGION.match(r) for r in regions), (spec.id, geography)
            if geography in _GEOGRAPHY_PREFIX:
                assert all(r.startswith(_GEOGRAPHY_PREFIX[geography]) for r in regions), (spec.id, geography)
        if "global" in spec.profiles:
            regional = {r for g, rs in spec.profiles.items() if g != "global" for r in rs}
            assert regional <= set(spec.profiles["global"]), spec.id
        on_demand = spec.on_demand_regions
        assert len(on_demand) == len(set(on_demand)) and all(_REGION.match(r) for r in on_demand), spec.id


def test_ids_split_into_geography_and_model() -> None:
    assert split_model_id(f"eu.{SONNET}") == ("eu", SONNET)
    assert split_model_id("amazon.nova-micro-v1:0") == (None, "amazon.nova-micro-v1:0")
    assert region_geography("eu-west-1") == "eu" and region_geography("ap-south-1") == "apac"
    assert region_geography("ca-central-1") is None


def test_a_current_profile_of_the_regions_geography_has_no_problem() -> None:
    assert Catalogue().problems(f"eu.{SONNET}", "eu-west-1", environment="prod") == []
    assert Catalogue().problems(f"global.{SONNET}", "ca-central-1") == []


@pytest.mark.parametrize(
    ("model_id", "region", "message"),
    [
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "us-east-1", "is a legacy model; choose an active one: "),
        (SONNET, "eu-west-1", "bare model id.*on-demand throughput isn't supported.*eu.anthropic.claude-sonnet-4-5"),
        (f"us.{SONNET}", "eu-west-1", "cannot be invoked from eu-west-1: the us profile serves us-east-1"),
        ("amazon.titan-embed-text-v2:0", "me-south-1", "not served on demand in me-south-1"),
        ("anthropic.claude-9", "eu-west-1", "not in the model catalogue; accepted from eu-west-1: eu.anthropic"),
    ],
)
def test_ids_that_would_fail_are_named_with_what_is_accepted(model_id: str, region: str, message: str) -> None:
    found = "; ".join(Catalogue().problems(model_id, region))
    assert found, model_id
    assert re.search(message, found), found


def test_a_model_outside_the_environment_is_a_problem() -> None:
    found = Catalogue().problems(f"eu.{SONNET}", "eu-west-1", environment="dev")
    assert found == [f"{SONNET!r} is not allowed in environment dev (registry: " + found[0].split("registry: ")[1]]


def test_iam_resources_cover_the_profile_and_each_destination_region() -> None:
    catalogue = Catalogue()
    arns = catalogue.invoke_resources(f"eu.{SONNET}", "eu-west-1", "123456789012")
    assert arns[0] == f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET}"
    spec = catalogue.find(SONNET)
    assert spec is not None
    assert arns[1:] == [f"arn:aws:bedrock:{r}::foundation-model/{SONNET}" for r in sorted(spec.profiles["eu"])]
    assert catalogue.invoke_resources(f"global.{SONNET}", "ca-central-1", "123456789012")[-1] == (
        f"arn:aws:bedrock:::foundation-model/{SONNET}"
    )
    assert catalogue.invoke_resources("amazon.titan-embed-text-v2:0", "eu-west-1", "1") == [
        "arn:aws:bedrock:eu-west-1::foundation-model/amazon.titan-embed-text-v2:0"
    ]
