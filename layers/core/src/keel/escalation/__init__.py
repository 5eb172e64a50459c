"""Escalation capability: decide when a human should take over (R17) and hand over (R18)."""

from keel.escalation.decision import Decision, EscalationPolicy, Turn, decide, first_escalation

__all__ = ["Decision", "EscalationPolicy", "Turn", "decide", "first_escalation"]
