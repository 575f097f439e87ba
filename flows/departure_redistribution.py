"""departure-redistribution: redistribute a leaver's book the same business day."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_pipeline
from switchboard.config import load_config
from switchboard.pipeline import make_context
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
    ctx = make_context(snapshot=snapshot, warehouse_path=warehouse, outbox=outbox,
                       config=load_config(config, mapping), as_of=effective, mode="departure",
                       accepted_guards=tuple(accept_guards or ()),
                       leaver_rep_ids=(rep,), allow_backdated=allow_backdated)
    result = run_pipeline(ctx, lock_wait_seconds)
    assert isinstance(result, RunSummary)
    return result
