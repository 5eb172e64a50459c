"""Shared building blocks for Keel's stacks."""
