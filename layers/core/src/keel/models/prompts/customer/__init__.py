"""Prompt versions of the customer bot (data only)."""
