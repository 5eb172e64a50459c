"""Identity capability."""
