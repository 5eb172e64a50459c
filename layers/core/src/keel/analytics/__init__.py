"""Analytics capability."""
