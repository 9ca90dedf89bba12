"""Kampung KB data pipeline: Dagster assets, ingestion library and the demo-data generator."""
