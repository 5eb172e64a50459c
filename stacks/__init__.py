"""Keel's CDK stacks: one stack per concern, all configured from stacks.config."""
