"""Prompt versions of the hr bot (data only)."""
