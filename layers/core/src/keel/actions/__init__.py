"""Actions capability."""
