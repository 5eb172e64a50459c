"""Keel's default prompt, for a tenant's bot that has none of its own (data only)."""
