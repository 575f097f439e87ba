"""arrivals: route the records the export lists for the first time (every minute)."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_as_task, said
from switchboard import runs
from switchboard.summary import RunSummary


@flow(name="arrivals", log_prints=True)
def arrivals(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 30,
    watch_seconds: float = 0,
    poll_seconds: float = 0.5,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
) -> RunSummary:
    """New accounts and leads only; ownership repairs are left to hourly-routing.

    One pass, then, for `watch_seconds`, another pass each time the snapshot folder changes
    (checked every `poll_seconds`): the deployment's run watches for most of an hour
    (prefect.yaml), routes a record seconds after its export lands, and pays the process
    start-up once an hour rather than once a pass. While watching, a pass that finds the
    warehouse held by another run past `lock_wait_seconds` is skipped and the next poll
    passes again; the flow fails only when every pass was skipped. Returns the last
    pass's summary. ``allow_backdated``: accept an as-of far from the clock or the export
    (see switchboard.asof).
    """
    return runs.arrivals(
        snapshot,
        warehouse,
        outbox,
        config,
        mapping,
        as_of,
        lock_wait_seconds,
        watch_seconds,
        poll_seconds,
        accept_guards,
        allow_backdated,
        runner=run_as_task,
        each_pass=said,
    )
