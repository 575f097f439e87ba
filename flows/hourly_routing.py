"""hourly-routing: keep every account and lead validly owned (cron 0 * * * *)."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_as_task, said
from switchboard import runs
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
    spark_home: str | None = None,
) -> RunSummary:
    """Route what needs an owner: new unowned records and the books of invalid owners.

    ``allow_backdated``: accept an as-of more than a day ahead of the clock or earlier than
    the export (a deliberate replay; see switchboard.asof). ``spark_home``: run on the
    Spark target, the book's tables under that folder (docs/OPERATIONS.md)."""
    return said(
        runs.hourly(
            snapshot,
            warehouse,
            outbox,
            config,
            mapping,
            as_of,
            lock_wait_seconds,
            accept_guards,
            allow_backdated,
            spark_home,
            runner=run_as_task,
        )
    )


if __name__ == "__main__":
    import sys

    print(hourly_routing(snapshot=sys.argv[1]).headline())
