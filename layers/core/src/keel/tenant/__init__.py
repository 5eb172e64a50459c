"""The tenant: one organisation's collections, bots, grants and policies, read from configuration (R6, R16)."""
