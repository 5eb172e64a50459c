"""Access capability."""
