"""`switchboard whatif` (and `run territory-change --dry-run`, the same thing with a new
plan): what a new routing.yml and/or territory plan would change on the current export.

The export is routed twice on one throw-away copy of the warehouse, both times as a dry run
of the territory-change plan with the same engine: first under the current config and the
export's own plan, then under the new config and plan. switchboard.diff compares the two
outcomes record by record, so records both configs decide alike (a leaver's book, a new
lead) are no change: only the edit's effect shows. Nothing is recorded or published; the
real warehouse is only read.

A side whose marts the warehouse already holds (same export, settings and day) routes on
them without a dbt build, so a what-if of the unchanged config costs two engine passes,
and a new plan one build. `save` writes the diff as whatif/<id>/moves.csv and index.html.

The pipeline stages are called directly (no Prefect) unless the caller passes a runner,
so a what-if needs no server.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from switchboard import pipeline, stages, warehouse
from switchboard.config import RoutingConfig, load_config
from switchboard.diff.comparison import compare, moved_records
from switchboard.diff.model import KEYS, NAMES_SCHEMA, REPS_SCHEMA, WAITING_SCHEMA, PlanDiff, Side
from switchboard.diff.page import render_html
from switchboard.engine.capacity.state import delta_columns
from switchboard.pipeline.scratch import overlay_snapshot, scratch

MOVES_FILE = "moves.csv"
PAGE_FILE = "index.html"


@dataclass(frozen=True)
class WhatIf:
    """A what-if's diff, what it compared, and where its files are (``folder``: None
    when it was not saved)."""

    id: str
    as_of: datetime
    diff: PlanDiff
    current: str  # the current config and plan, in words
    proposed: str  # the new ones
    notes: tuple[str, ...] = ()
    folder: Path | None = None

    def headline(self) -> str:
        return self.diff.headline()

    def facts(self) -> dict[str, str]:
        return {
            "what-if": self.id,
            "book as of": f"{self.as_of:%Y-%m-%d %H:%M} UTC",
            "current": self.current,
            "new": self.proposed,
        }


def latest_run(warehouse_path: Path) -> tuple[datetime, str] | None:
    """The as-of and rules_version of the latest run in the warehouse, if any."""
    if not warehouse_path.is_file():
        return None
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        if not warehouse.table_exists(con, "routing.runs"):
            return None
        rows = con.execute(
            "select as_of, rules_version from routing.runs "
            "order by as_of desc, started_at desc limit 1"
        ).fetchall()
    finally:
        con.close()
    return (rows[0][0], rows[0][1]) if rows else None


def latest_as_of(warehouse_path: Path) -> datetime | None:
    """The as-of of the latest run in the warehouse (the book a what-if replays), if any."""
    latest = latest_run(warehouse_path)
    return latest[0] if latest else None


def whatif_id(as_of: datetime, current: pipeline.RunContext, proposed: pipeline.RunContext) -> str:
    """Readable and stable: the book's as-of, then a digest of both sides' inputs (export
    and plan files, settings), so the same what-if lands in the same folder."""
    digest = hashlib.sha256(f"{current.fingerprint}|{proposed.fingerprint}".encode())
    return f"{as_of:%Y%m%dT%H%M%S}-{digest.hexdigest()[:8]}"


def _describe(config_path: Path | str | None, config: RoutingConfig, plan: dict[str, Path]) -> str:
    where = str(config_path) if config_path else "the shipped routing.yml"
    files = ", ".join(f"{entity} {path}" for entity, path in plan.items())
    return f"{where} (rules_version {config.rules_version}); " + (
        files or "the export's territory plan"
    )


def _labelled(runner: stages.Runner, side: str) -> stages.Runner:
    """The runner, each stage's progress label naming the side it routes."""

    def run(stage: stages.Stage, *args: Any) -> Any:
        return runner(replace(stage, label=f"{stage.label} ({side})"), *args)

    return run


@contextmanager
def _connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def _side(ctx: pipeline.RunContext, routed: pipeline.Routed) -> Side:
    """The routed side with the roster and plan its marts describe (read before the next
    side rebuilds them)."""
    with _connection(ctx.warehouse) as con:
        reps = warehouse.query(
            con,
            """
            select reps.rep_id, reps.rep_name, reps.team,
                   coalesce(reps.is_available, false) as is_available,
                   workload.workload_index, reps.capacity
            from marts.dim_reps as reps
            left join (select rep_id, max(workload_index) as workload_index
                       from marts.fct_rep_workload where as_of_date = ? group by rep_id)
                as workload on reps.rep_id = workload.rep_id
        """,
            [ctx.as_of.date()],
        )
        members = warehouse.query(
            con, "select territory_id, rep_id from marts.dim_territory_members"
        )
        territories = warehouse.query(
            con, "select territory_id, territory_name from marts.dim_territories"
        )
    default = float(ctx.config.workload.default_capacity)
    reps = (
        reps.with_columns(
            capacity=pl.when(pl.col("capacity") > 0)
            .then(pl.col("capacity").cast(pl.Float64))
            .otherwise(default)
        )
        .with_columns(**delta_columns(ctx.config))
        .select(REPS_SCHEMA.keys())
        .cast(REPS_SCHEMA)  # type: ignore[arg-type]
    )
    return Side(
        decisions=routed.decisions,
        conflicts=routed.conflicts,
        rep_state=routed.rep_state,
        reps=reps,
        members=members,
        territories=territories,
    )


def _keyed_query(
    con: duckdb.DuckDBPyConnection,
    keys: pl.DataFrame,
    sql: str,
    params: list[object],
    schema: dict[str, pl.DataType],
) -> pl.DataFrame:
    """``sql`` over the records ``keys`` lists (registered as ``_whatif_keys``)."""
    if keys.is_empty():
        return pl.DataFrame(schema=schema)
    con.register("_whatif_keys", keys.select(KEYS).unique().to_arrow())
    try:
        return warehouse.query(con, sql, params).cast(schema)  # type: ignore[arg-type]
    finally:
        con.unregister("_whatif_keys")


def _waiting(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Where the records among ``keys`` wait when their latest published decision before
    the as-of left them in a queue or pool (a run leaves such records there,
    switchboard.queued)."""
    return _keyed_query(
        con,
        keys,
        """
        select record_type, record_id, queue, rule, territory_id
        from (
            select decisions.*
            from routing.decisions as decisions
            semi join _whatif_keys using (record_type, record_id)
            inner join routing.runs as runs on decisions.run_id = runs.run_id
            where runs.status = 'published' and runs.as_of < ?
            qualify row_number() over (
                partition by decisions.record_type, decisions.record_id
                order by runs.as_of desc, runs.started_at desc) = 1
        )
        where owner_id is null and queue is not null
    """,
        [as_of],
        WAITING_SCHEMA,
    )


def _names(con: duckdb.DuckDBPyConnection, keys: pl.DataFrame) -> pl.DataFrame:
    return _keyed_query(
        con,
        keys,
        """
        select record_type, record_id, record_name from intermediate.int_records_named
        semi join _whatif_keys using (record_type, record_id)
    """,
        [],
        NAMES_SCHEMA,
    )


def _compare(ctx: pipeline.RunContext, before: Side, after: Side) -> PlanDiff:
    """compare() with where undecided queued records wait and the moved records' names."""
    decided_before = before.decisions.select(KEYS)
    decided_after = after.decisions.select(KEYS)
    one_sided = pl.concat(
        [
            decided_before.join(decided_after, on=KEYS, how="anti"),
            decided_after.join(decided_before, on=KEYS, how="anti"),
        ]
    )
    with _connection(ctx.warehouse) as con:
        waiting = _waiting(con, one_sided, ctx.as_of)
        moved = moved_records(before, after, waiting).filter("moved")
        names = _names(con, moved)
    return compare(before, after, waiting, names)


def _plan_files(territories: Path | str | None, members: Path | str | None) -> dict[str, Path]:
    plan: dict[str, Path] = {}
    for entity, source in (("territories", territories), ("territory_members", members)):
        if source is not None:
            if not Path(source).is_file():
                raise FileNotFoundError(f"{source} is not a file")
            plan[entity] = Path(source)
    return plan


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
    current_config: Path | str | None = None,
    out: Path | str | None = None,
) -> WhatIf:
    """What the book would look like under ``config_path`` (and the plan files
    ``territories`` / ``members``) compared with ``current_config`` and the export's plan,
    both by default the shipped routing.yml. With ``out``, the diff is saved in
    ``out/<id>/`` (`save`).

    Without ``as_of`` it replays the latest run's as-of, which may be older than the export
    and is accepted as such; an explicit one is checked like a run's (switchboard.asof)
    unless ``allow_backdated``. ``runner`` runs each stage (a Prefect flow passes its
    task runner; by default the stages are called directly)."""
    plan = _plan_files(territories, members)
    snapshot = Path(snapshot)
    if not snapshot.is_dir():
        raise FileNotFoundError(f"snapshot {snapshot} is not a folder")
    real = Path(warehouse_path)
    current = load_config(current_config, mapping)
    proposed = load_config(config_path, mapping)
    latest = latest_run(real)
    when = as_of if as_of is not None else latest[0] if latest else None
    overlay = overlay_snapshot(snapshot, plan) if plan else None
    try:

        def context(folder: Path, config: RoutingConfig) -> pipeline.RunContext:
            return pipeline.make_context(
                snapshot=folder,
                warehouse_path=real,
                outbox=real.parent / "outbox",
                config=config,
                as_of=when,
                mode="territory_change",
                dry_run=True,
                allow_backdated=allow_backdated or as_of is None,
            )

        before_ctx = context(snapshot, current)
        with warehouse.run_lock(real):  # a consistent copy, not one taken mid-run
            before_ctx = scratch(before_ctx)
        # Both sides route on the one copy, one after the other.
        after_ctx = replace(
            context(overlay or snapshot, proposed),
            warehouse=before_ctx.warehouse,
            outbox=before_ctx.outbox,
            dry_run=True,
        )
        try:
            if after_ctx.build_key != before_ctx.build_key:
                _unmark_marts(before_ctx.warehouse)
            before = _side(before_ctx, _routed(before_ctx, _labelled(runner, "current")))
            after = _side(after_ctx, _routed(after_ctx, _labelled(runner, "new")))
            diff = _compare(after_ctx, before, after)
        finally:
            shutil.rmtree(before_ctx.warehouse.parent, ignore_errors=True)
    finally:
        if overlay is not None:
            shutil.rmtree(overlay, ignore_errors=True)
    notes: tuple[str, ...] = ()
    if latest is not None and latest[1] != current.rules_version:
        notes = (
            f"The latest run decided under rules_version {latest[1]}, the current "
            f"side under {current.rules_version}: if that run's routing.yml is the one "
            "in use, pass it as the current config (--current-config).",
        )
    result = WhatIf(
        id=whatif_id(before_ctx.as_of, before_ctx, after_ctx),
        as_of=before_ctx.as_of,
        diff=diff,
        current=_describe(current_config, current, {}),
        proposed=_describe(config_path, proposed, plan),
        notes=notes,
    )
    return save(result, Path(out)) if out is not None else result


def _unmark_marts(path: Path) -> None:
    """Make the first side build its marts too. Marts built by a run differ from marts
    built now from the same export: the workload index counts the decisions recorded
    since (that run's own, at least). When the second side has to build (another plan or
    settings), the first builds the same way, so that only the edit differs; when both
    sides share the export, plan and settings, they share the marts, reused or built once
    (pipeline.marts_are_current)."""
    con = warehouse.connect(path)
    try:
        if warehouse.table_exists(con, "routing.builds"):  # else nothing was built yet
            con.execute("update routing.builds set build_key = null")
    finally:
        con.close()


def _routed(ctx: pipeline.RunContext, runner: stages.Runner) -> pipeline.Routed:
    routed = stages.run(ctx, runner)
    assert isinstance(routed, pipeline.Routed)  # a dry run returns what it decided
    return routed


def save(result: WhatIf, out: Path) -> WhatIf:
    """Write ``out/<id>/moves.csv`` (every move) and ``index.html`` (the page), each
    written whole and then renamed into place. Returns the result with its folder."""
    folder = out / result.id
    folder.mkdir(parents=True, exist_ok=True)
    page = render_html(result.diff, title=f"What-if {result.id}", facts=result.facts())
    _write_whole(folder / MOVES_FILE, result.diff.moves.write_csv)
    _write_whole(folder / PAGE_FILE, lambda path: path.write_text(page, encoding="utf-8"))
    return replace(result, folder=folder)


def _write_whole(target: Path, write: Callable[[Path], object]) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
