"""hourly-routing: keep every account and lead validly owned (cron 0 * * * *)."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_pipeline
from switchboard.config import load_config
from switchboard.pipeline import make_context
from switchboard.summary import RunSummary


@flow(name="hourly-routing", log_prints=True)
def hourly_routing(
    snapshot: str,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
) -> RunSummary:
    """Route what needs an owner: new unowned records and the books of invalid owners.

    ``allow_backdated``: accept an as-of more than a day ahead of the clock or earlier than
    the export (a deliberate replay; see switchboard.asof)."""
    ctx = make_context(snapshot=snapshot, warehouse_path=warehouse, outbox=outbox,
                       config=load_config(config, mapping), as_of=as_of, mode="hourly",
                       accepted_guards=tuple(accept_guards or ()),
                       allow_backdated=allow_backdated)
    result = run_pipeline(ctx, lock_wait_seconds)
    assert isinstance(result, RunSummary)
    return result


if __name__ == "__main__":
    import sys

    print(hourly_routing(snapshot=sys.argv[1]).headline())
