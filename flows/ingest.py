"""ingest: load a snapshot into raw.* with quarantine, and check it, without routing."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_as_task
from switchboard import runs


@flow(name="ingest", log_prints=True)
def ingest(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    config: str | None = None,
    mapping: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
) -> dict[str, dict[str, int]]:
    """Snapshot → raw.<entity> + raw.quarantine; returns input/loaded/quarantined counts."""
    return runs.ingest(
        snapshot, warehouse, config, mapping, lock_wait_seconds, accept_guards, runner=run_as_task
    )
