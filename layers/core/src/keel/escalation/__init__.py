"""Escalation capability."""
