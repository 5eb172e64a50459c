"""Analytics capability: telemetry of every turn (logs, traces, EMF metrics) and the business KPIs (R15, R16).

Importing this package is cheap; Powertools and boto3 load only in the adapters that need them.
"""
