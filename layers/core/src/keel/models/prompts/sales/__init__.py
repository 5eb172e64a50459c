"""Prompt versions of the sales bot (data only)."""
