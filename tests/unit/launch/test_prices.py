"""The price table (keel/launch/aws_prices.json): every entry dated and sourced, and internally consistent.

These tests check the table against itself and against the stages' Regions; they cannot check a figure
against AWS (the build machine cannot reach it). The file says how its figures were recorded.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from keel.errors import InvalidRequest
from keel.launch.cost import load_prices
from tests.conftest import REPO_ROOT


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("keel.launch").joinpath("aws_prices.json").read_text())
    return data


def test_every_price_entry_carries_a_date_and_a_source() -> None:
    raw = _raw()
    prices = load_prices()
    for key, entry in raw["prices"].items():
        assert set(entry) == {"usd", "as_of", "source"}, key
        assert prices.dates[key] == entry["as_of"] and entry["source"].startswith("https://aws.amazon.com/"), key
    # The table's date is its oldest entry's, and nothing was priced after it was recorded.
    assert raw["as_of"] == min(e["as_of"] for e in raw["prices"].values())
    assert all(e["as_of"] <= raw["recorded"] for e in raw["prices"].values())
    assert "not fetched" in raw["source"] and "recorded" in raw["source"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"usd": 1.0, "source": "https://aws.amazon.com/kms/pricing/"}, "has no as_of date"),
        ({"usd": 1.0, "as_of": "Nov 2025", "source": "https://aws.amazon.com/kms/pricing/"}, "has no as_of date"),
        ({"usd": 1.0, "as_of": "2025-11-24", "source": " "}, "has no source"),
        ({"usd": -1, "as_of": "2025-11-24", "source": "x"}, "has no usd price (a non-negative number)"),
        ({"usd": {"a": "cheap"}, "as_of": "2025-11-24", "source": "x"}, "has no usd price (a non-negative number)"),
        ("1.0", "is not an object"),
    ],
)
def test_an_undated_or_unsourced_entry_is_refused(tmp_path: Path, entry: Any, message: str) -> None:
    raw = _raw()
    raw["prices"]["kms_key_month"] = entry
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(
        InvalidRequest, match=re.escape(f"price 'kms_key_month' {message}; accepted is an object with usd")
    ):
        load_prices(path)


def test_the_table_agrees_with_itself_and_with_the_stages_region() -> None:
    prices = load_prices()
    # An anomaly-detection alarm bills three metrics: three standard alarms.
    assert prices.unit("anomaly_alarm_month") == pytest.approx(3 * prices.unit("alarm_month"))
    # Within a family, a size up costs twice as much (EC2 t4g) or more (OpenSearch t3).
    ec2 = prices.usd["ec2_instance_hour"]
    assert ec2["t4g.micro"] == pytest.approx(2 * ec2["t4g.nano"]) and ec2["t4g.small"] == pytest.approx(
        2 * ec2["t4g.micro"]
    )
    search = prices.usd["opensearch_instance_hour"]
    assert (
        search["t3.small.search"] < search["t3.medium.search"] < search["m7g.large.search"] < search["r7g.large.search"]
    )
    # Every NAT instance type a stage may choose has a price.
    from stacks.config import NAT_INSTANCE_TYPES

    assert set(NAT_INSTANCE_TYPES) <= set(ec2)
    assert prices.hours_per_month == 730
    # The figures are one Region's; every stage deploys there (a stage elsewhere would need its own table).
    targets = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["keel:targets"]
    assert {t["region"] for t in targets.values()} == {prices.region}
