"""Prefect flows: what runs when. Each step is a task around a switchboard.pipeline stage."""
