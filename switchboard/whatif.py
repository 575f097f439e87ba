"""`switchboard whatif`: replay the current book under a new routing.yml and/or territory
plan, against a throw-away copy of the warehouse, and return the diff. Nothing is published.

The pipeline stages are called directly (no Prefect), so a what-if needs no server.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl

from switchboard import pipeline, stages, warehouse
from switchboard.config import load_config
from switchboard.diff import PlanDiff

OVERFLOW_SCHEMA: dict[str, pl.DataType] = {"queue": pl.String(), "records": pl.Int64()}


@dataclass(frozen=True)
class WhatIfDiff(PlanDiff):
    """The plan diff, plus what the new plan would send to overflow."""

    overflow: pl.DataFrame = field(  # queue, records: overflow decisions per queue
        default_factory=lambda: pl.DataFrame(schema=OVERFLOW_SCHEMA))
    newly_overflowing: list[str] = field(default_factory=list)  # reps that would start to

    @property
    def overflow_records(self) -> int:
        return int(self.overflow["records"].sum()) if self.overflow.height else 0

    def headline(self) -> str:
        text = super().headline()
        text += f" {self.overflow_records} records would go to overflow queues"
        if self.newly_overflowing:
            text += (f"; {len(self.newly_overflowing)} reps would newly stop taking records "
                     f"({', '.join(self.newly_overflowing[:5])})")
        return text + "."


def overflow_summary(decisions: pl.DataFrame) -> pl.DataFrame:
    """Overflow decisions per queue (or backup owner), largest first."""
    return (
        decisions.filter(pl.col("rule") == "overflow_queue")
        .group_by(pl.coalesce("queue", "owner_id").alias("queue"))
        .agg(records=pl.len().cast(pl.Int64))
        .sort(["records", "queue"], descending=[True, False])
    )


def newly_overflowing(before: pl.DataFrame, after: pl.DataFrame) -> list[str]:
    """Reps overflowing in ``after`` that were not in ``before`` (rep_state frames)."""
    was = before.filter(pl.col("is_overflowing").fill_null(False)).select("rep_id")
    return (
        after.filter(pl.col("is_overflowing").fill_null(False))
        .join(was, on="rep_id", how="anti")
        .get_column("rep_id").sort().to_list()
    )


def latest_as_of(warehouse_path: Path) -> datetime | None:
    """The as-of of the latest run in the warehouse (the book a what-if replays), if any."""
    if not warehouse_path.is_file():
        return None
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        if not warehouse.table_exists(con, "routing.runs"):
            return None
        rows = con.execute("select max(as_of) from routing.runs").fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


def whatif(
    snapshot: Path | str,
    warehouse_path: Path | str,
    config_path: Path | str | None = None,
    mapping: str | None = None,
    territories: Path | str | None = None,
    as_of: str | datetime | None = None,
    members: Path | str | None = None,
    allow_backdated: bool = False,
    runner: stages.Runner = stages.run_direct,
) -> WhatIfDiff:
    """The diff the current book would see under the new config and/or territory plan.

    Without ``as_of`` it replays the latest run's as-of, which may be older than the export
    and is accepted as such; an explicit one is checked like a run's (switchboard.asof)
    unless ``allow_backdated``. ``runner`` runs each stage (a Prefect flow passes its
    task runner; by default the stages are called directly)."""
    replacements: dict[str, Path] = {}
    for entity, source in (("territories", territories), ("territory_members", members)):
        if source is not None:
            if not Path(source).is_file():
                raise FileNotFoundError(f"{source} is not a file")
            replacements[entity] = Path(source)
    snapshot = Path(snapshot)
    if not snapshot.is_dir():
        raise FileNotFoundError(f"snapshot {snapshot} is not a folder")
    overlay = pipeline.overlay_snapshot(snapshot, replacements) if replacements else None
    real = Path(warehouse_path)
    config = load_config(config_path, mapping)
    with warehouse.run_lock(real):  # a consistent copy, not one taken mid-run
        ctx = pipeline.make_context(
            snapshot=overlay or snapshot, warehouse_path=real, outbox=real.parent / "outbox",
            config=config, as_of=as_of if as_of is not None else latest_as_of(real),
            mode="territory_change", dry_run=True,
            allow_backdated=allow_backdated or as_of is None,
        )
        ctx = pipeline.scratch(ctx)
    try:
        con = warehouse.connect(ctx.warehouse)
        try:
            before = (warehouse.query(con, "select rep_id, is_overflowing from routing.rep_state")
                      if warehouse.table_exists(con, "routing.rep_state")
                      else pl.DataFrame(schema={"rep_id": pl.String, "is_overflowing": pl.Boolean}))
        finally:
            con.close()
        routed = stages.run(ctx, runner)
    finally:
        shutil.rmtree(ctx.warehouse.parent, ignore_errors=True)
        if overlay is not None:
            shutil.rmtree(overlay, ignore_errors=True)
    assert isinstance(routed, pipeline.Routed)  # a dry run returns what it decided
    assert routed.diff is not None  # a dry run always carries its diff
    diff = routed.diff
    return WhatIfDiff(
        moved=diff.moved, flagged=diff.flagged, per_rep=diff.per_rep,
        conflicts=diff.conflicts, unchanged=diff.unchanged,
        overflow=overflow_summary(routed.decisions),
        newly_overflowing=newly_overflowing(before, routed.rep_state),
    )
