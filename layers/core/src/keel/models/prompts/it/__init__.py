"""Prompt versions of the it bot (data only)."""
