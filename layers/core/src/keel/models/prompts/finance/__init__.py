"""Prompt versions of the finance bot (data only)."""
