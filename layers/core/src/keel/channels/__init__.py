"""Channels capability."""
