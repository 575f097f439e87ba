"""departure-redistribution: redistribute a leaver's book the same business day."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_as_task, said
from switchboard import runs
from switchboard.summary import RunSummary


@flow(name="departure-redistribution", log_prints=True)
def departure_redistribution(
    snapshot: str,
    rep: str,
    effective: str | None = None,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
) -> RunSummary:
    """Pipeline accounts → manager review, pool tiers → territory pool, the rest by territory.

    ``effective`` (date or timestamp) is the run's as-of: the leaver is treated as gone
    from then on, even if HR does not show it yet. It may lie before the export (a leaver
    effective yesterday); more than a day ahead of the clock it needs ``allow_backdated``.
    """
    return said(
        runs.departure(
            snapshot,
            rep,
            effective,
            warehouse,
            outbox,
            config,
            mapping,
            lock_wait_seconds,
            accept_guards,
            allow_backdated,
            runner=run_as_task,
        )
    )
