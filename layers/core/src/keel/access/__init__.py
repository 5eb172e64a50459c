"""Access capability: the Cedar policy decision point, scoped retrieval and explanations (R6, R7)."""

from keel.access.pdp import AccessDecision, PolicyDecisionPoint
from keel.access.scope import Indexes, scope_for

__all__ = ["AccessDecision", "Indexes", "PolicyDecisionPoint", "scope_for"]
