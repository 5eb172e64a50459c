"""Knowledge capability."""
