"""Dagster definitions, one module per concern; each asset body is a few lines of glue around pipelines.lib."""
