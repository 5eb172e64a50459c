"""The demo bot registry, the policy decision point and demo principals."""

from __future__ import annotations

import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.identity.principal import Principal
from keel.tenant.loader import load_tenant


def person(name: str, *groups: str, department: str | None = None, external: bool = False) -> Principal:
    """A principal as the verifier would build it."""
    return Principal(
        subject=f"sub-{name}",
        username=name,
        groups=frozenset(groups),
        tenant="demo",
        department=department,
        external=external,
    )


EMMA = person("emma", "all-staff", "engineering", department="engineering")
HANA = person("hana", "all-staff", "hr", "hr-admins", department="hr")
PAULA = person("paula", "all-staff", "hr", "payroll-admins", department="hr")
FINN = person("finn", "all-staff", "finance", department="finance")
SIMON = person("simon", "all-staff", "sales", department="sales")
IVAN = person("ivan", "all-staff", "it", "it-admins", "cloud-admins", department="it")
CARLA = person("carla", "customers", department="external", external=True)
AGENT = person("agnes", "all-staff", "support-agents", department="support")


@pytest.fixture(scope="session")
def pdp() -> PolicyDecisionPoint:
    return PolicyDecisionPoint.for_tenant(load_tenant())
