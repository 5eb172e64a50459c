"""The maintenance switch (parsing, cache) and the in-memory budget's rules."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from keel.errors import BudgetExceeded, InvalidRequest
from keel.models.budget import BudgetLimits, InMemoryBudget
from keel.models.maintenance import DEFAULT_MESSAGE, SsmMaintenanceSwitch, parse_switch
from tests.fakes.models import FakeClock


@pytest.mark.parametrize(
    ("value", "enabled", "message"),
    [
        ("off", False, DEFAULT_MESSAGE),
        ("", False, DEFAULT_MESSAGE),
        ("ON", True, DEFAULT_MESSAGE),
        ('{"enabled": true, "message": "Back at noon."}', True, "Back at noon."),
        ('{"enabled": false}', False, DEFAULT_MESSAGE),
        ("Upgrading until 14:00 UTC.", True, "Upgrading until 14:00 UTC."),
    ],
)
def test_parse_switch(value: str, enabled: bool, message: str) -> None:
    status = parse_switch(value)
    assert (status.enabled, status.message) == (enabled, message)


class FakeSsm:
    """get_parameter returning scripted values or errors."""

    def __init__(self) -> None:
        self.value: str | Exception = "off"
        self.reads = 0

    def get_parameter(self, Name: str) -> dict[str, Any]:
        self.reads += 1
        if isinstance(self.value, Exception):
            raise self.value
        return {"Parameter": {"Name": Name, "Value": self.value}}


def test_switch_is_cached_for_its_ttl() -> None:
    ssm, clock = FakeSsm(), FakeClock()
    switch = SsmMaintenanceSwitch(ssm, "/keel/maintenance", ttl=10, clock=clock)
    assert not switch.status().enabled
    ssm.value = "on"
    clock.advance(9)
    assert not switch.status().enabled and ssm.reads == 1
    clock.advance(1)
    assert switch.status().enabled and ssm.reads == 2


def test_missing_parameter_means_off_and_a_failed_read_keeps_the_last_state() -> None:
    ssm, clock = FakeSsm(), FakeClock()
    switch = SsmMaintenanceSwitch(ssm, "/keel/maintenance", ttl=1, clock=clock)
    ssm.value = ClientError({"Error": {"Code": "ParameterNotFound", "Message": "x"}}, "GetParameter")
    assert not switch.status().enabled
    ssm.value = "on"
    clock.advance(1)
    assert switch.status().enabled
    ssm.value = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    clock.advance(1)
    assert switch.status().enabled


def test_in_memory_budget_refuses_the_user_then_the_tenant() -> None:
    budget = InMemoryBudget(BudgetLimits(per_user_per_day=100, per_tenant_per_day=150))
    budget.reserve("a", "t", 100)
    with pytest.raises(BudgetExceeded, match="your daily token budget of 100"):
        budget.reserve("a", "t", 1)
    with pytest.raises(BudgetExceeded, match="organisation's daily token budget of 150"):
        budget.reserve("b", "t", 60)
    with pytest.raises(InvalidRequest):
        budget.reserve("b", "t", 0)
