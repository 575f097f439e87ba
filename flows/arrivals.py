"""arrivals: route records created since the last published run (every minute)."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_pipeline
from switchboard.config import load_config
from switchboard.pipeline import make_context, warm_up
from switchboard.summary import RunSummary


@flow(name="arrivals", log_prints=True)
def arrivals(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 30,
) -> RunSummary:
    """New accounts and leads only; ownership repairs are left to hourly-routing."""
    warm_up()  # before the as-of is read: see switchboard.pipeline.warm_up
    ctx = make_context(snapshot=snapshot, warehouse_path=warehouse, outbox=outbox,
                       config=load_config(config), as_of=as_of, mode="arrivals")
    result = run_pipeline(ctx, lock_wait_seconds)
    assert isinstance(result, RunSummary)
    return result
