"""Fixtures of the action unit tests: the real Cedar PDP, in-memory stores and a fake EC2."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from keel.access.pdp import PolicyDecisionPoint
from keel.actions.catalog import cloud_actions
from keel.actions.registry import ActionRegistry
from keel.actions.service import ActionService
from keel.audit.trail import AuditTrail
from keel.identity.principal import Principal
from keel.tenant.loader import load_tenant
from tests.fakes.actions import FakeEc2, InMemoryPendingActions
from tests.fakes.audit import InMemoryAuditSink
from tests.fakes.identity import SettableSession

INSTANCE = "i-0123456789abcdef0"


def person(subject: str, *groups: str, external: bool = False, session: SettableSession | None = None) -> Principal:
    """A principal of the demo tenant whose session the IdP confirms (unless told otherwise)."""
    return Principal(
        subject=subject,
        username=subject,
        groups=frozenset(groups),
        tenant="demo",
        external=external,
        session=session if session is not None else SettableSession(),
    )


ENGINEER = person("sub-emma", "all-staff", "engineering")
ADMIN = person("sub-ivan", "all-staff", "it", "cloud-admins")


class Clock:
    """Wall-clock seconds that move only when told to."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass
class Rig:
    """An ActionService over the real PDP with its fakes exposed."""

    service: ActionService
    ec2: FakeEc2
    pending: InMemoryPendingActions
    sink: InMemoryAuditSink
    clock: Clock
    registry: ActionRegistry


@pytest.fixture(scope="session")
def pdp() -> PolicyDecisionPoint:
    return PolicyDecisionPoint.for_tenant(load_tenant())


@pytest.fixture
def rig(pdp: PolicyDecisionPoint) -> Rig:
    ec2 = FakeEc2({INSTANCE: "running"})
    registry = ActionRegistry()
    for spec in cloud_actions(ec2):
        registry.register(spec, ["it"])
    pending = InMemoryPendingActions()
    sink = InMemoryAuditSink()
    clock = Clock()
    counter = iter(range(1, 10_000))
    service = ActionService(
        registry, pdp, pending, AuditTrail(sink), clock=clock, new_id=lambda: f"id-{next(counter):04d}"
    )
    return Rig(service, ec2, pending, sink, clock, registry)
