"""territory-change: apply a new territory plan to the affected accounts at once."""

from __future__ import annotations

from prefect import flow

from flows.tasks import run_as_task, said
from switchboard import runs
from switchboard.summary import RunSummary
from switchboard.whatif import WhatIf


@flow(name="territory-change", log_prints=True)
def territory_change(
    snapshot: str,
    territories: str,
    members: str | None = None,
    dry_run: bool = True,
    warehouse: str = "warehouse.duckdb",
    outbox: str = "outbox",
    config: str | None = None,
    mapping: str | None = None,
    as_of: str | None = None,
    lock_wait_seconds: float = 0,
    accept_guards: list[str] | None = None,
    allow_backdated: bool = False,
    whatif_dir: str = "whatif",
) -> RunSummary | WhatIf:
    """Re-evaluate every account under the new plan, including owners the plan leaves
    outside all their territories. With ``dry_run`` it is a what-if
    (switchboard.whatif): the new plan against the export's, both routed on a scratch copy
    of the warehouse under ``config``, the diff saved in ``whatif_dir/<id>/``, nothing
    published. ``allow_backdated``: accept an as-of far from the clock or the export (see
    switchboard.asof)."""
    result = runs.territory_change(
        snapshot,
        territories,
        members,
        dry_run,
        warehouse,
        outbox,
        config,
        mapping,
        as_of,
        lock_wait_seconds,
        accept_guards,
        allow_backdated,
        whatif_dir,
        runner=run_as_task,
    )
    return said(result) if isinstance(result, RunSummary) else result
