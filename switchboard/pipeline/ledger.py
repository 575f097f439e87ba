"""The run ledger (routing.runs) around a run's start: registering it, resuming or
closing earlier attempts, an arrivals pass's watermark, and a re-run of an export already
published answered before anything starts."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

import duckdb

from switchboard import publish, warehouse
from switchboard.pipeline.context import RunContext, build_settings, connection, run_id_for
from switchboard.pipeline.publishing import done_summary
from switchboard.summary import RunSummary


def prepare(ctx: RunContext) -> tuple[RunContext, str]:
    """Register the run. Returns the context (with the run_id of an earlier attempt when
    resuming) and what to do: 'route', 'publish' (decided, not yet published) or 'done'.

    An earlier attempt on the same inputs that died before deciding ('started') is run
    again under its run_id; runs of other inputs left 'started' are closed as 'abandoned'.
    """
    with connection(ctx) as con:
        publish.ensure_tables(con)
        if ctx.plan.arrivals_only:
            ctx = _plan_arrivals(con, ctx)
        if ctx.dry_run:
            return ctx, "route"
        earlier = publish.find_run(con, ctx.fingerprint)
        # A run of these inputs still 'started' died before deciding: run it again, as is.
        retry = None if earlier else publish.find_started(con, ctx.fingerprint)
        ctx = replace(ctx, run_id=earlier.run_id if earlier else retry or ctx.run_id)
        # The caller holds the run lock: any other run still 'started' is dead.
        publish.abandon_started(con, keep=ctx.run_id, noticed_by=ctx.run_id)
        if earlier and earlier.status == "published":
            return ctx, "done"
        if earlier and earlier.status == "decided":
            return ctx, "publish"
        publish.start_run(
            con,
            run_id=ctx.run_id,
            fp=ctx.fingerprint,
            mode=ctx.mode,
            snapshot=ctx.snapshot,
            as_of=ctx.as_of,
            rules_version=ctx.config.rules_version,
            accepted_guards=ctx.accepted_guards,
        )
    return ctx, "route"


def _plan_arrivals(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> RunContext:
    """Where an arrivals pass starts (the watermark) and whether it can increment the marts.

    Incremental needs a published run to start from and marts built today under the same
    settings and version (the workload index is per day); otherwise the pass rebuilds, as
    the first pass of a day does, and still routes only the records its ingest found new.

    A pass is identified by its snapshot *and* its watermark: a retry of a pass that died
    keeps the watermark (nothing was published since) and so resumes that pass, while the
    same export after a published pass is a new pass (its scope may hold records carried
    over from a pass that stopped, see switchboard.ingest.load.write_raw).
    """
    since = watermark(con)
    rows = con.execute("select build_key from routing.builds").fetchall()
    same_build = (
        bool(rows)
        and rows[0][0] is not None
        and build_settings(rows[0][0]) == build_settings(ctx.build_key)
    )
    fp = hashlib.sha256(f"{ctx.fingerprint}|since={since}".encode()).hexdigest()
    return replace(
        ctx,
        arrivals_since=since,
        incremental=since is not None and same_build,
        fingerprint=fp,
        run_id=run_id_for(ctx.as_of, ctx.mode, fp),
    )


def watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The as-of of the last published hourly or arrivals run: an arrivals pass looks for
    new records from ARRIVALS_LOOK_BACK before it."""
    rows = con.execute(
        "select max(as_of) from routing.runs where status = 'published' "
        "and mode in ('hourly', 'arrivals')"
    ).fetchall()
    return rows[0][0] if rows else None


def answer_from_ledger(ctx: RunContext, lock_wait_seconds: float = 0) -> RunSummary | None:
    """The published run of this very export, settings and mode, if there is one: its
    summary, after delivering what earlier runs left pending (done_summary). None when the
    run has work to do (or is an arrivals pass or a dry run, whose identity prepare sets).

    A re-run on an unchanged export then costs a hash of the snapshot and a ledger lookup:
    the CLI calls this before it starts Prefect or imports dbt and Great Expectations."""
    if not ctx.plan.answers_from_ledger or ctx.dry_run or not ctx.warehouse.is_file():
        return None
    with warehouse.run_lock(ctx.warehouse, wait_seconds=lock_wait_seconds):
        with connection(ctx) as con:
            if not warehouse.table_exists(con, "routing.runs"):
                return None
            earlier = publish.find_run(con, ctx.fingerprint)
        if earlier is None or earlier.status != "published":
            return None
        return done_summary(replace(ctx, run_id=earlier.run_id))
