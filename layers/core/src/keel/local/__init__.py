"""Local capability."""
