"""Privacy capability."""
