"""Versioned prompt templates, one folder per bot (data only)."""
