"""Cli capability."""
