"""Getting the marts ready: the ingest stage (snapshot → raw, checked against the
contracts, the export guards and the as-of), the transform stage (dbt build, then Great
Expectations on the marts) and routing.builds, which says what the marts were built from,
so that a run may reuse them or build incrementally."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import duckdb

from switchboard import asof, changes, tables, warehouse
from switchboard.guards import ExportGuard
from switchboard.pipeline.context import (
    RunContext,
    as_of_option,
    build_settings,
    connection,
    utc_now,
)
from switchboard.pipeline.ledger import watermark


def marts_are_current(ctx: RunContext) -> bool:
    """True when the marts were built from this snapshot, settings and as-of date and the
    run may reuse them: its plan says so (Plan.reuses_marts), or it is a dry run, which
    records nothing (a what-if's side on the export the warehouse was last built from
    routes without a build). The hourly run always rebuilds (it also refreshes the
    workload history)."""
    if not (ctx.plan.reuses_marts or ctx.dry_run):
        return False
    with connection(ctx) as con:
        rows = con.execute("select build_key from routing.builds").fetchall()
    return bool(rows) and rows[0][0] == ctx.build_key


def _set_build_key(
    con: duckdb.DuckDBPyConnection,
    key: str | None,
    *,
    raw_run_id: str | None = None,
    settings_key: str | None = None,
    build: str | None = None,
) -> None:
    """Record the marts' build; with key None, only that raw is newer than the marts (the
    load they were built from stays known, for the next incremental build)."""
    if key is None:
        con.execute("update routing.builds set build_key = null")
        return
    con.execute(f"delete from {tables.BUILDS}")
    con.execute(
        f"insert into {tables.BUILDS} by name select ? as build_key, ? as built_at, "
        "? as raw_run_id, ? as settings_key, ? as build",
        [key, utc_now(), raw_run_id, settings_key, build],
    )


def ingest(ctx: RunContext) -> dict[str, dict[str, int]]:
    """Snapshot → raw.* (+ quarantine), reference tables, raw contract check."""
    from switchboard import quality, reference
    from switchboard.contracts import load_contracts
    from switchboard.ingest import ingest_arrivals, ingest_snapshot

    with connection(ctx) as con:
        if ctx.incremental and ctx.arrivals_since is not None:
            # The new rows pass the same contract expectations row by row; the table-level
            # GX suite ran on the full load.
            counts = ingest_arrivals(
                ctx.snapshot, con, ctx.run_id, ctx.arrivals_since, mapping=ctx.config.mapping
            ).as_dict()
            check_export_time(con, ctx)
            return counts
        _set_build_key(con, None)  # the marts no longer match raw until dbt has run
        reference.load_reference_tables(con)
        # Records new to raw join the arrivals scope, except in an hourly run, which
        # routes every record needing an owner and so empties the scope.
        routes_all = ctx.plan.routes_every_record and not ctx.dry_run
        if routes_all:
            con.execute("delete from routing.arrival_scope")
        since = (
            None if routes_all else ctx.arrivals_since if ctx.plan.arrivals_only else watermark(con)
        )
        report = ingest_snapshot(
            ctx.snapshot,
            con,
            ctx.run_id,
            arrivals_since=since,
            guard=export_guard(ctx),
            mapping=ctx.config.mapping,
        )
        check_export_time(con, ctx)
        # The rows an earlier load brought passed then: only what this export changed.
        quality.check_raw(con, load_contracts(), changed_only=report.base_run_id is not None)
    return report.as_dict()


def export_guard(ctx: RunContext) -> ExportGuard:
    """The guards on this run's files. The entities a run replaces on purpose (a territory
    change's plan files) may lose rows."""
    from switchboard.contracts import load_contracts

    limits = ctx.config.guards
    return ExportGuard(
        max_row_drop=limits.max_row_drop,
        min_row_drop=limits.min_row_drop,
        required=tuple(e for e, c in load_contracts().items() if c.required),
        accepted=frozenset(ctx.accepted_guards),
        exempt=frozenset(ctx.plan.replaces),
    )


# The entities whose created_at says when the export was taken.
DATED_ENTITIES = ("accounts", "leads")


def check_export_time(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> None:
    """Stop before dbt when raw holds accounts or leads created more than a day after the
    run's as-of: the as-of is not the export's (asof.check_not_before_export). A departure
    is exempt (its effective time may lie before today's export), and so is a run that
    allows a backdated as-of."""
    check_newest_records(
        ctx,
        lambda entity: (
            con.execute(f"select max(created_at) from raw.{entity}").fetchall()[0][0]
            if warehouse.table_exists(con, f"raw.{entity}")
            else None
        ),
    )


def check_newest_records(ctx: RunContext, newest: Callable[[str], datetime | None]) -> None:
    """check_export_time's rule on any store: ``newest(entity)`` is the latest created_at
    of raw.<entity> (None: no such table), for the entities that date an export."""
    if ctx.allow_backdated or not ctx.plan.checks_export_time:
        return
    found = {entity: newest(entity) for entity in DATED_ENTITIES}
    asof.check_not_before_export(
        ctx.as_of,
        {entity: when for entity, when in found.items() if when is not None},
        option=as_of_option(ctx.mode),
    )


def _unmark_built_load(con: duckdb.DuckDBPyConnection) -> str | None:
    """Until a build succeeds, the incremental models match no load: clear
    routing.builds.raw_run_id (no later build starts from them) and return what it was."""
    rows = con.execute("select raw_run_id from routing.builds").fetchall()
    con.execute("update routing.builds set raw_run_id = null")
    return rows[0][0] if rows else None


def transform(ctx: RunContext) -> None:
    """dbt build: staging → intermediate → marts, with dbt's data tests (the whole suite in
    the first run of a day, switchboard.data_tests); then GX on the marts."""
    from switchboard import data_tests, dbt, quality
    from switchboard.dbt_manifest import project_digest

    if ctx.incremental and ctx.arrivals_since is not None:
        # An incremental build of the models describing accounts and leads, on the pass's
        # change set (the new records); the marts checks and dbt's data tests ran on the
        # day's full build. Until it succeeds those models lack rows raw.row_hashes
        # already lists, so no later build may start from them.
        with connection(ctx) as con:
            built = _unmark_built_load(con)
        dbt.run_arrivals(ctx.warehouse, ctx.as_of, ctx.config)
        with connection(ctx) as con:
            con.execute("update routing.builds set raw_run_id = ?", [built])
        return
    suite_key = f"{build_settings(ctx.build_key)}|{project_digest()[:16]}"
    settings = changes.settings_key(dbt.dbt_vars(ctx.as_of, ctx.config), project_digest())
    with connection(ctx) as con:
        full = not data_tests.full_suite_passed(con, suite_key)
        incremental, why = changes.incremental_reason(con, ctx.run_id, settings)
        _unmark_built_load(con)
    suite = "full" if full else "blocking"
    try:
        # A later run's blocking tests check what it changed; the day's first, everything.
        result = dbt.build(
            ctx.warehouse,
            ctx.as_of,
            ctx.config,
            changes=incremental,
            data_tests_on_changes=incremental and not full,
            selector=dbt.FIRST_RUN_OF_DAY if full else dbt.LATER_RUN_OF_DAY,
        )
    except dbt.DbtBuildFailed as failed:
        with connection(ctx) as con:  # keep what failed for the analyst, then stop
            data_tests.record(
                con,
                run_id=ctx.run_id,
                suite=suite,
                suite_key=suite_key,
                nodes=failed.nodes,
                tested_at=utc_now(),
            )
        raise
    with connection(ctx) as con:
        quality.check_marts(con, ctx.as_of.date())
        data_tests.record(
            con,
            run_id=ctx.run_id,
            suite=suite,
            suite_key=suite_key,
            nodes=result.nodes,
            tested_at=utc_now(),
        )
        _set_build_key(
            con,
            ctx.build_key,
            raw_run_id=ctx.run_id,
            settings_key=settings,
            build=f"{'incremental' if incremental else 'full'}: {why}",
        )


def refresh_as_of_views(ctx: RunContext) -> None:
    """A run that reuses the day's marts (marts_are_current) routes at another as-of than
    the build that made them: the views that read the as-of (the pending owners, the
    first-touch clocks that may have run out) are recreated with this run's."""
    from switchboard import dbt

    dbt.refresh_as_of_views(ctx.warehouse, ctx.as_of, ctx.config)
