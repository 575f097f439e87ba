"""ingest: load a snapshot into raw.* with quarantine, and check it, without routing."""

from __future__ import annotations

from prefect import flow

from flows import tasks
from switchboard import stages
from switchboard import warehouse as wh
from switchboard.config import load_config
from switchboard.pipeline import make_context


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
    ctx = make_context(snapshot=snapshot, warehouse_path=warehouse, outbox="outbox",
                       config=load_config(config, mapping), mode="hourly",
                       accepted_guards=tuple(accept_guards or ()), dry_run=True)
    with wh.run_lock(ctx.warehouse, wait_seconds=lock_wait_seconds):
        tasks.run_as_task(stages.PREPARE, ctx)
        counts: dict[str, dict[str, int]] = tasks.run_as_task(stages.INGEST, ctx)
        return counts
