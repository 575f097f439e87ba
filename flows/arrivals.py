"""arrivals: route the records the export lists for the first time (every minute)."""

from __future__ import annotations

import time

from prefect import flow

from flows.tasks import run_pipeline
from switchboard.config import load_config
from switchboard.pipeline import make_context, snapshot_signature, wait_for_export, warm_up
from switchboard.summary import RunSummary
from switchboard.warehouse import WarehouseLocked


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
    if watch_seconds > 0 and as_of is not None:
        raise ValueError("watch_seconds needs the current time: leave as_of unset")
    until = time.monotonic() + watch_seconds
    warm_up()  # before the as-of is read: see switchboard.pipeline.warm_up
    settings = load_config(config, mapping)
    result: RunSummary | None = None
    skipped: WarehouseLocked | None = None
    while True:
        seen = snapshot_signature(snapshot)
        ctx = make_context(snapshot=snapshot, warehouse_path=warehouse, outbox=outbox,
                           config=settings, as_of=as_of, mode="arrivals",
                           accepted_guards=tuple(accept_guards or ()),
                           allow_backdated=allow_backdated)
        try:
            routed = run_pipeline(ctx, lock_wait_seconds)
        except WarehouseLocked as busy:
            # The hourly run (or a departure) holds the warehouse. While watching, pass
            # again at the next poll: that pass takes this one's records.
            if watch_seconds <= 0:
                raise
            print(f"pass skipped: {busy}")
            skipped, seen = busy, ()
        else:
            assert isinstance(routed, RunSummary)
            result = routed
        if not wait_for_export(snapshot, seen, until, poll_seconds):
            if result is None:
                assert skipped is not None  # every pass was skipped
                raise skipped
            return result
