"""Conversations capability."""
