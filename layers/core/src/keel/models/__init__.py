"""Models capability."""
