"""Guardrails capability."""
