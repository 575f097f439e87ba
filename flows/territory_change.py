"""territory-change: apply a new territory plan to the affected accounts at once."""

from __future__ import annotations

import shutil
from pathlib import Path

from prefect import flow

from flows.tasks import run_as_task, run_pipeline
from switchboard import pipeline
from switchboard.config import load_config
from switchboard.summary import RunSummary
from switchboard.whatif import WhatIf, whatif


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
    if dry_run:
        return whatif(snapshot, warehouse, config_path=config, current_config=config,
                      mapping=mapping, territories=territories, members=members,
                      as_of=as_of, allow_backdated=allow_backdated, runner=run_as_task,
                      out=whatif_dir)
    replacements = {"territories": Path(territories)}
    if members:
        replacements["territory_members"] = Path(members)
    overlay = pipeline.overlay_snapshot(Path(snapshot), replacements)
    try:
        ctx = pipeline.make_context(snapshot=overlay, warehouse_path=warehouse, outbox=outbox,
                                    config=load_config(config, mapping), as_of=as_of,
                                    mode="territory_change",
                                    accepted_guards=tuple(accept_guards or ()),
                                    allow_backdated=allow_backdated)
        result = run_pipeline(ctx, lock_wait_seconds)
        assert isinstance(result, RunSummary)
        return result
    finally:
        shutil.rmtree(overlay, ignore_errors=True)
