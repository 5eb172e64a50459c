"""Launch readiness (R21, R22, R23): pre-flight checks, load, red team, regression gates, feedback loop."""
