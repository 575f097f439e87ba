"""The stages of a routing run as plain functions; flows/ wraps each in a Prefect task.

Every stage opens its own warehouse connection and closes it before returning, because
DuckDB allows one writer per file and dbt opens the file itself between our stages.
The caller holds ``warehouse.run_lock`` for the whole run.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from switchboard import (
    __version__,
    asof,
    changes,
    notify,
    preflight,
    publish,
    queued,
    warehouse,
)
from switchboard.alerts import build_alerts, delivery_failed, guard_tripped
from switchboard.config import RoutingConfig
from switchboard.engine.schema import CONFLICTS, DECISIONS, empty
from switchboard.guards import (
    GUARD_NAMES,
    ExportGuard,
    GuardReport,
    GuardTripped,
    check,
    check_inputs,
    measure,
    previous_availability,
)
from switchboard.plans import Mode, Plan, plan_for
from switchboard.summary import RunSummary, summarize

ENGINE_TABLES = {
    "accounts": "marts.dim_accounts",
    "leads": "marts.dim_leads",
    "opportunities": "marts.fct_open_opportunities",
    "named_accounts": "marts.dim_named_accounts",
    "reps": "marts.dim_reps",
    "territory_matches": "marts.fct_territory_matches",
    "territory_members": "marts.dim_territory_members",
}


utc_now = asof.utc_now


def parse_as_of(value: str | datetime | None, option: str = "--as-of") -> datetime:
    """ISO 8601 (no offset = UTC) or None for now; returned naive UTC. Anything else raises
    asof.AsOfError naming ``option``."""
    if value is None:
        return utc_now()
    return asof.parse_time(value, option)


@dataclass(frozen=True)
class RunContext:
    snapshot: Path
    warehouse: Path
    outbox: Path
    config: RoutingConfig
    as_of: datetime
    mode: Mode = "hourly"
    leaver_rep_ids: tuple[str, ...] = ()
    dry_run: bool = False
    fingerprint: str = ""
    build_key: str = ""
    run_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    # Arrivals passes (set by prepare): `arrivals_since` is the watermark (None: no run was
    # published yet, so the pass routes every record); the pass routes the records its
    # ingest finds new (routing.arrival_scope). `incremental`: the marts of this day and
    # these settings exist, so only the new records are ingested and transformed.
    arrivals_since: datetime | None = None
    incremental: bool = False
    # Guards the user accepted for this run (--accept-guard), logged in routing.runs.
    accepted_guards: tuple[str, ...] = ()
    # The as-of may lie more than a day ahead of the clock or before the export (a
    # deliberate replay); see switchboard.asof.
    allow_backdated: bool = False

    @property
    def plan(self) -> Plan:
        return plan_for(self.mode)


def make_context(
    *,
    snapshot: Path | str,
    warehouse_path: Path | str,
    outbox: Path | str,
    config: RoutingConfig,
    as_of: str | datetime | None = None,
    mode: Mode = "hourly",
    leaver_rep_ids: tuple[str, ...] = (),
    dry_run: bool = False,
    accepted_guards: Sequence[str] = (),
    allow_backdated: bool = False,
) -> RunContext:
    """The run's identity and settings. An as-of more than a day ahead of the clock stops
    the run here, before anything starts, unless ``allow_backdated`` (see switchboard.asof;
    whether the export agrees with the as-of is checked after ingest)."""
    unknown = sorted(set(accepted_guards) - set(GUARD_NAMES))
    if unknown:
        raise ValueError(f"--accept-guard: no guard named {', '.join(unknown)}; "
                         f"the guards are {', '.join(GUARD_NAMES)}")
    snapshot = Path(snapshot)
    if not snapshot.is_dir():
        raise FileNotFoundError(f"snapshot {snapshot} is not a folder")
    when = parse_as_of(as_of, as_of_option(mode))
    if as_of is not None and not allow_backdated:
        asof.check_not_future(when, option=as_of_option(mode))
    # A run that decides the leavers' books needs leavers the export lists (a typo is not a
    # no-op).
    if plan_for(mode).selection.leavers_only:
        preflight.check_leavers(snapshot, leaver_rep_ids, mapping=config.mapping)
    snapshot_fp = publish.fingerprint(snapshot)
    fp = hashlib.sha256("|".join([
        snapshot_fp, mode, ",".join(sorted(leaver_rep_ids)), config.rules_version, __version__,
    ]).encode()).hexdigest()
    # The marts depend on the snapshot, the settings and the as-of date, nothing else.
    build_key = f"{snapshot_fp}|{config.rules_version}|{when.date().isoformat()}|{__version__}"
    return RunContext(
        snapshot=snapshot,
        warehouse=Path(warehouse_path),
        outbox=Path(outbox),
        config=config,
        as_of=when,
        mode=mode,
        leaver_rep_ids=tuple(leaver_rep_ids),
        dry_run=dry_run,
        fingerprint=fp,
        run_id=_run_id(when, mode, fp),
        build_key=build_key,
        accepted_guards=tuple(sorted(set(accepted_guards))),
        allow_backdated=allow_backdated,
    )


def as_of_option(mode: str) -> str:
    """The command-line option that carries a run's as-of, for messages."""
    return plan_for(mode).as_of_option


def _run_id(when: datetime, mode: str, fp: str) -> str:
    return f"{when:%Y%m%dT%H%M%S}-{mode}-{fp[:8]}"


def warm_up() -> None:
    """Import dbt and Great Expectations now (about 6 s in a fresh process) rather than
    inside the first stage that needs them. An arrivals pass calls this before it reads
    the clock: its as-of decides which records it routes, so the imports then delay no
    record's owner — a served deployment starts every pass in a fresh process.

    Great Expectations first: ingest's raw check needs it before the build needs dbt."""
    from switchboard.quality import import_great_expectations

    import_great_expectations()
    importlib.import_module("dbt.cli.main")


def warm_up_in_background() -> threading.Thread:
    """:func:`warm_up` in a thread, so that the imports (mostly Python, holding the GIL)
    overlap the first stages (reading and checking files in Polars and DuckDB, which
    release it). A stage that imports dbt or GX meanwhile waits for that import to finish
    (Python's per-module import locks). pandas and pyarrow, which both sides import, are
    imported here first, so the two threads never wait for each other's modules."""
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401

    thread = threading.Thread(target=warm_up, name="switchboard-warm-up", daemon=True)
    thread.start()
    return thread


def snapshot_signature(snapshot: Path | str) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every file in the snapshot folder: what changes
    when an export lands, read without opening a file."""
    return tuple(sorted(
        (path.name, stat.st_size, stat.st_mtime_ns)
        for path in Path(snapshot).iterdir()
        if path.is_file() and (stat := path.stat())
    ))


def wait_for_export(snapshot: Path | str, seen: tuple[tuple[str, int, int], ...],
                    until: float, poll_seconds: float) -> bool:
    """Poll the snapshot folder until its signature differs from `seen` (True) or the
    monotonic clock would pass `until` before the next poll (False). Exports should land
    whole (written elsewhere, then moved in), as for every run."""
    while time.monotonic() + poll_seconds <= until:
        time.sleep(poll_seconds)
        if snapshot_signature(snapshot) != seen:
            return True
    return False


@contextmanager
def connection(ctx: RunContext) -> Iterator[duckdb.DuckDBPyConnection]:
    con = warehouse.connect(ctx.warehouse)
    try:
        yield con
    finally:
        con.close()


# ---------------------------------------------------------------- stages


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
            con, run_id=ctx.run_id, fp=ctx.fingerprint, mode=ctx.mode, snapshot=ctx.snapshot,
            as_of=ctx.as_of, rules_version=ctx.config.rules_version,
            accepted_guards=ctx.accepted_guards,
        )
    return ctx, "route"


def _build_settings(build_key: str) -> str:
    """The part of a build key that is not the snapshot: settings, day, version."""
    return build_key.partition("|")[2]


def _plan_arrivals(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> RunContext:
    """Where an arrivals pass starts (the watermark) and whether it can increment the marts.

    Incremental needs a published run to start from and marts built today under the same
    settings and version (the workload index is per day); otherwise the pass rebuilds, as
    the first pass of a day does, and still routes only the records its ingest found new.

    A pass is identified by its snapshot *and* its watermark: a retry of a pass that died
    keeps the watermark (nothing was published since) and so resumes that pass, while the
    same export after a published pass is a new pass (its scope may hold records carried
    over from a pass that stopped, see switchboard.ingest._write).
    """
    since = _watermark(con)
    rows = con.execute("select build_key from routing.builds").fetchall()
    same_build = (bool(rows) and rows[0][0] is not None
                  and _build_settings(rows[0][0]) == _build_settings(ctx.build_key))
    fp = hashlib.sha256(f"{ctx.fingerprint}|since={since}".encode()).hexdigest()
    return replace(ctx, arrivals_since=since, incremental=since is not None and same_build,
                   fingerprint=fp, run_id=_run_id(ctx.as_of, ctx.mode, fp))


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


def _set_build_key(con: duckdb.DuckDBPyConnection, key: str | None, *,
                   raw_run_id: str | None = None, settings_key: str | None = None,
                   build: str | None = None) -> None:
    """Record the marts' build; with key None, only that raw is newer than the marts (the
    load they were built from stays known, for the next incremental build)."""
    if key is None:
        con.execute("update routing.builds set build_key = null")
        return
    con.execute("delete from routing.builds")
    con.execute(
        "insert into routing.builds by name select ? as build_key, ? as built_at, "
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
            counts = ingest_arrivals(ctx.snapshot, con, ctx.run_id, ctx.arrivals_since,
                                     mapping=ctx.config.mapping).as_dict()
            check_export_time(con, ctx)
            return counts
        _set_build_key(con, None)  # the marts no longer match raw until dbt has run
        reference.load_reference_tables(con)
        # Records new to raw join the arrivals scope, except in an hourly run, which
        # routes every record needing an owner and so empties the scope.
        routes_all = ctx.plan.routes_every_record and not ctx.dry_run
        if routes_all:
            con.execute("delete from routing.arrival_scope")
        since = (None if routes_all else
                 ctx.arrivals_since if ctx.plan.arrivals_only else _watermark(con))
        report = ingest_snapshot(ctx.snapshot, con, ctx.run_id, arrivals_since=since,
                                 guard=export_guard(ctx), mapping=ctx.config.mapping)
        check_export_time(con, ctx)
        # The rows an earlier load brought passed then: only what this export changed.
        quality.check_raw(con, load_contracts(),
                          changed_only=report.base_run_id is not None)
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
_DATED_ENTITIES = ("accounts", "leads")


def check_export_time(con: duckdb.DuckDBPyConnection, ctx: RunContext) -> None:
    """Stop before dbt when raw holds accounts or leads created more than a day after the
    run's as-of: the as-of is not the export's (asof.check_not_before_export). A departure
    is exempt (its effective time may lie before today's export), and so is a run that
    allows a backdated as-of."""
    if ctx.allow_backdated or not ctx.plan.checks_export_time:
        return
    newest = {
        entity: con.execute(f"select max(created_at) from raw.{entity}").fetchall()[0][0]
        for entity in _DATED_ENTITIES
        if warehouse.table_exists(con, f"raw.{entity}")
    }
    asof.check_not_before_export(ctx.as_of, newest, option=as_of_option(ctx.mode))


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
        dbt.run_arrivals(ctx.warehouse, ctx.config)
        with connection(ctx) as con:
            con.execute("update routing.builds set raw_run_id = ?", [built])
        return
    suite_key = f"{_build_settings(ctx.build_key)}|{project_digest()[:16]}"
    settings = changes.settings_key(dbt.dbt_vars(ctx.as_of, ctx.config), project_digest())
    with connection(ctx) as con:
        full = not data_tests.full_suite_passed(con, suite_key)
        incremental, why = changes.incremental_reason(con, ctx.run_id, settings)
        _unmark_built_load(con)
    suite = "full" if full else "blocking"
    try:
        # A later run's blocking tests check what it changed; the day's first, everything.
        result = dbt.build(ctx.warehouse, ctx.as_of, ctx.config, changes=incremental,
                           data_tests_on_changes=incremental and not full,
                           selector=dbt.FIRST_RUN_OF_DAY if full else dbt.LATER_RUN_OF_DAY)
    except dbt.DbtBuildFailed as failed:
        with connection(ctx) as con:  # keep what failed for the analyst, then stop
            data_tests.record(con, run_id=ctx.run_id, suite=suite, suite_key=suite_key,
                              nodes=failed.nodes, tested_at=utc_now())
        raise
    with connection(ctx) as con:
        quality.check_marts(con, ctx.as_of.date())
        data_tests.record(con, run_id=ctx.run_id, suite=suite, suite_key=suite_key,
                          nodes=result.nodes, tested_at=utc_now())
        _set_build_key(con, ctx.build_key, raw_run_id=ctx.run_id, settings_key=settings,
                       build=f"{'incremental' if incremental else 'full'}: {why}")


@dataclass
class Routed:
    """What the engine decided, with the frames later stages need."""

    decisions: pl.DataFrame
    conflicts: pl.DataFrame
    rep_state: pl.DataFrame
    alerts: pl.DataFrame
    guard: GuardReport
    recent_assignments: pl.DataFrame | None = None  # arrivals: given since the marts build
    round_robin: pl.DataFrame | None = None  # where round-robin rotations stand after it


def route(ctx: RunContext) -> Routed:
    """Marts → engine → alerts. Pure computation apart from the reads."""
    from switchboard.engine import EngineInputs
    from switchboard.engine import route as engine_route

    scoped = ctx.plan.arrivals_only and ctx.arrivals_since is not None
    with connection(ctx) as con:
        clocks = (sla_clocks(con, ctx.config, ctx.as_of)
                  if ctx.plan.selection.checks_sla(ctx.config) else None)
        if clocks is not None and scoped and ctx.incremental and clocks.height:
            clocks = _with_fresh_touches(clocks, ctx, con)
        if scoped:
            frames, scope = _arrival_frames(con, clocks)
        else:
            frames = {name: warehouse.read_table(con, table)
                      for name, table in ENGINE_TABLES.items()}
            scope = None
        reps_df = frames["reps"].collect()
        territory_count = con.execute("select count(*) from raw.territories").fetchall()[0]
        # An arrivals pass raises no unowned or overload alerts (the hourly run does), so it
        # reads only the day's workload row per rep, not the history.
        history = warehouse.query(
            con, "select * from marts.fct_rep_workload where ? or as_of_date = ?",
            [not scoped, ctx.as_of.date()],
        ).lazy()
        rep_state = warehouse.read_table(con, "routing.rep_state")
        round_robin = warehouse.read_table(con, "routing.round_robin")
        gaps = warehouse.query(
            con, "select * from marts.fct_ownership_gaps where ?", [not scoped]
        ).lazy()
        recent = _recent_assignments(con) if scoped and ctx.incremental else None
        pending = pending_owners(con, ctx.as_of)
        plan = queued.plan_fingerprint(con, ctx.config.rules_version)
        # An arrivals pass decides records new to raw: none has an earlier decision.
        settled = None if scoped else queued.settled(con, ctx.as_of, plan)
        previous = previous_availability(con, ctx.as_of)
    frames["accounts"] = _with_pending_owners(frames["accounts"], pending, "account",
                                              "account_id")
    frames["leads"] = _with_pending_owners(frames["leads"], pending, "lead", "lead_id")
    check_inputs(
        rep_count=reps_df.height,
        carrying_rep_count=reps_df.filter(pl.col("is_available")).height,
        territory_count=int(territory_count[0]) if territory_count else 0,
    )
    workload = history.filter(pl.col("as_of_date") == ctx.as_of.date())
    inputs = EngineInputs(
        accounts=frames["accounts"],
        leads=frames["leads"],
        opportunities=frames["opportunities"],
        named_accounts=frames["named_accounts"],
        reps=reps_df.lazy(),
        territory_matches=frames["territory_matches"],
        territory_members=frames["territory_members"],
        workload=workload,
        rep_state=rep_state,
        round_robin=round_robin,
        **({"recent_assignments": recent.lazy()} if recent is not None else {}),
        **({"sla_clocks": clocks.lazy()} if clocks is not None else {}),
        scope=_without_settled(frames, scope, settled),
    )
    result = engine_route(
        inputs, ctx.config, run_id=ctx.run_id, as_of=ctx.as_of, selection=ctx.plan.selection,
        leaver_rep_ids=ctx.leaver_rep_ids,
    )
    with connection(ctx) as con:
        decisions = queued.with_input_hashes(con, result.decisions, plan)
    conflicts = result.conflicts
    alerts = build_alerts(
        decisions=decisions, conflicts=conflicts, reps=reps_df.lazy(), gaps=gaps,
        workload_history=history, config=ctx.config, run_id=ctx.run_id, as_of=ctx.as_of,
        skill_gaps=result.skill_gaps, sla_breaches=result.sla_breaches,
    )
    accounts_in_scope = (
        frames["accounts"].join(scope.filter(pl.col("record_type") == "account"),
                                left_on="account_id", right_on="record_id", how="semi")
        if scope is not None else frames["accounts"]
    )
    guard = measure(
        decisions=decisions, accounts=accounts_in_scope, reps=reps_df.lazy(),
        exempt_rep_ids=ctx.leaver_rep_ids, previous=previous,
    )
    return Routed(decisions, conflicts, result.rep_state, alerts, guard,
                  recent_assignments=recent, round_robin=result.round_robin)


def _without_settled(frames: dict[str, pl.LazyFrame], scope: pl.LazyFrame | None,
                     settled: pl.DataFrame | None) -> pl.LazyFrame | None:
    """The records the engine may decide: the arrivals scope (None: every record), less
    the records settled in a queue (switchboard.queued), which keep their last decision."""
    if settled is None or settled.is_empty():
        return scope
    every = scope if scope is not None else pl.concat([
        frames["accounts"].select(record_type=pl.lit("account"), record_id="account_id"),
        frames["leads"].select(record_type=pl.lit("lead"), record_id="lead_id"),
    ])
    return every.join(settled.lazy(), on=queued.KEYS, how="anti")


# The first-touch clocks a run reads (intermediate.int_lead_sla_clocks): the engine decides
# which ran out (switchboard.engine.sla); this only leaves out what cannot have.
SLA_CLOCKS = "intermediate.int_lead_sla_clocks"


def sla_clocks(con: duckdb.DuckDBPyConnection, config: RoutingConfig, as_of: datetime
               ) -> pl.DataFrame:
    """The first-touch clocks that may have run out at ``as_of``: of a listed source,
    started within the engine's horizon and at least ``sla.first_touch_minutes`` of wall
    time ago (working time never exceeds it), and not touched by ``as_of``. Empty without
    ``sla:`` or before the model was first built."""
    from switchboard.engine.inputs import FRAME_COLUMNS
    from switchboard.engine.sla import HORIZON

    if config.sla is None or not warehouse.table_exists(con, SLA_CLOCKS):
        return pl.DataFrame(schema=FRAME_COLUMNS["sla_clocks"])
    due = as_of - timedelta(minutes=config.sla.first_touch_minutes)
    sources = config.sla.source_keys
    return warehouse.query(con, f"""
        select * from {SLA_CLOCKS}
        where clock_started_at > ? and clock_started_at <= ?
          and (first_touch_at is null or first_touch_at > ?)
          and (? or lower(trim(source)) in (select unnest(?::varchar[])))
    """, [as_of - HORIZON, due, as_of, not sources, sources])


def _with_fresh_touches(clocks: pl.DataFrame, ctx: RunContext,
                        con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """An arrivals pass's clocks with the touches the export lists now: raw.activities
    holds the last full ingest's, and a rep may have touched the lead since
    (switchboard.ingest.lead_touches). A touch is the owner's activity on the lead at or
    after the clock started."""
    from switchboard.ingest import lead_touches

    touches = lead_touches(ctx.snapshot, con, clocks["lead_id"].to_list(),
                           mapping=ctx.config.mapping)
    fresh = (
        touches.lazy()
        .join(clocks.lazy().select("lead_id", "owner_id", "clock_started_at"), on="lead_id")
        .filter((pl.col("rep_id") == pl.col("owner_id"))
                & (pl.col("occurred_at") >= pl.col("clock_started_at")))
        .group_by("lead_id")
        .agg(_fresh=pl.col("occurred_at").min())
    )
    return (
        clocks.lazy()
        .join(fresh, on="lead_id", how="left")
        .with_columns(first_touch_at=pl.min_horizontal("first_touch_at", "_fresh"))
        .drop("_fresh")
        .collect()
    )


# What an arrivals pass reads: the records in its scope (routing.arrival_scope, written by
# its ingest), the accounts they need as context (a new lead's matched account, the named
# accounts), and only those records' matches and pipeline. Leads whose first-touch clock
# may have run out (registered as _sla_clock_leads) are read too: the pass checks them.
_NEW_ACCOUNTS = ("select record_id from routing.arrival_scope "
                 "where record_type = 'account'")
_NEW_LEADS = ("select record_id from routing.arrival_scope where record_type = 'lead' "
              "union all select lead_id from _sla_clock_leads")
_CONTEXT_ACCOUNTS = f"""
    {_NEW_ACCOUNTS}
    union select matched_account_id from marts.dim_leads
        where lead_id in ({_NEW_LEADS}) and matched_account_id is not null
    union select account_id from marts.dim_named_accounts
"""
_ARRIVAL_QUERIES = {
    "accounts": f"select * from marts.dim_accounts where account_id in ({_CONTEXT_ACCOUNTS})",
    "leads": f"select * from marts.dim_leads where lead_id in ({_NEW_LEADS})",
    "opportunities": "select * from marts.fct_open_opportunities "
                     f"where account_id in ({_CONTEXT_ACCOUNTS})",
    "territory_matches": f"""
        select * from marts.fct_territory_matches
        where (record_type = 'account' and record_id in ({_NEW_ACCOUNTS}))
           or (record_type = 'lead' and record_id in ({_NEW_LEADS}))""",
}
_ARRIVAL_SCOPE = "select distinct record_type, record_id from routing.arrival_scope"


def _arrival_frames(
    con: duckdb.DuckDBPyConnection, clocks: pl.DataFrame | None = None,
) -> tuple[dict[str, pl.LazyFrame], pl.LazyFrame]:
    """The engine's frames for an arrivals pass, and the records it may decide (the SLA's
    leads join the scope in the engine, when their clock ran out)."""
    sla_leads = (clocks.select("lead_id") if clocks is not None and clocks.height
                 else pl.DataFrame(schema={"lead_id": pl.String()}))
    con.register("_sla_clock_leads", sla_leads)
    try:
        frames = {
            name: (con.sql(_ARRIVAL_QUERIES[name]).pl().lazy()
                   if name in _ARRIVAL_QUERIES else warehouse.read_table(con, table))
            for name, table in ENGINE_TABLES.items()
        }
    finally:
        con.unregister("_sla_clock_leads")
    return frames, con.sql(_ARRIVAL_SCOPE).pl().lazy()


# A decision that gives the record to a rep: not a queue, and not a manager review (which
# keeps the old owner until the manager hands the account over).
_GIVES_A_REP = "decisions.owner_id is not null and decisions.rule <> 'manager_review'"


# How long a published decision the CRM export does not show yet still stands for the
# record's owner; after that the export is believed again.
PENDING_DAYS = 7


def pending_owners(con: duckdb.DuckDBPyConnection, as_of: datetime) -> pl.DataFrame:
    """Each record's latest published decision of the PENDING_DAYS before `as_of` that gave
    it a rep (not a queue, not a manager review): record_type, record_id, the owner it
    replaced and the owner it gave. Runs at `as_of` itself do not count: a what-if replays
    the latest run's book at that run's as-of, seeing what that run saw."""
    return warehouse.query(con, f"""
        select record_type, record_id, previous_owner_id, owner_id
        from (
            select
                decisions.record_type,
                decisions.record_id,
                decisions.previous_owner_id,
                decisions.owner_id,
                {_GIVES_A_REP} as gives_a_rep
            from routing.decisions as decisions
            inner join routing.runs as runs on decisions.run_id = runs.run_id
            where runs.status = 'published'
              and runs.as_of > ? - to_days(?) and runs.as_of < ?
            qualify row_number() over (
                partition by decisions.record_type, decisions.record_id
                order by runs.as_of desc, runs.started_at desc) = 1
        )
        where gives_a_rep
    """, [as_of, PENDING_DAYS, as_of])


def _with_pending_owners(records: pl.LazyFrame, pending: pl.DataFrame, record_type: str,
                         key: str) -> pl.LazyFrame:
    """A record's owner as Switchboard last set it, where the CRM has not applied that
    decision yet (the export still shows the owner it replaced): the hourly run after an
    arrivals pass or a departure then does not decide the same record again, perhaps
    differently. An owner the CRM changed since (to anyone else) is the CRM's."""
    mine = pending.lazy().filter(pl.col("record_type") == record_type).select(
        pl.col("record_id").alias(key),
        _replaced=pl.col("previous_owner_id"),
        _pending=pl.col("owner_id"),
    )
    return (
        records.join(mine, on=key, how="left", maintain_order="left")
        .with_columns(
            owner_id=pl.when(pl.col("_pending").is_not_null()
                             & pl.col("owner_id").eq_missing(pl.col("_replaced")))
            .then(pl.col("_pending"))
            .otherwise(pl.col("owner_id"))
        )
        .drop("_replaced", "_pending")
    )


def _recent_assignments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Records given to reps by runs that started after the marts were built (earlier
    arrivals passes of the day): the workload index has not counted them yet."""
    return warehouse.query(con, f"""
        select decisions.record_type, decisions.owner_id as rep_id
        from routing.decisions as decisions
        inner join routing.runs as runs on decisions.run_id = runs.run_id
        where runs.status in ('decided', 'published')
          and runs.started_at > (select max(built_at) from routing.builds)
          and {_GIVES_A_REP}
    """)


def _watermark(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """The as-of of the last published hourly or arrivals run: an arrivals pass looks for
    new records from ARRIVALS_LOOK_BACK before it."""
    rows = con.execute(
        "select max(as_of) from routing.runs where status = 'published' "
        "and mode in ('hourly', 'arrivals')"
    ).fetchall()
    return rows[0][0] if rows else None


def check_output(ctx: RunContext, routed: Routed) -> None:
    """Great Expectations on the engine's output; raises StageCheckFailed."""
    from switchboard import quality

    with connection(ctx) as con:
        quality.check_engine_output(con, routed.decisions, ctx.config,
                                    as_of_date=ctx.as_of.date(),
                                    leaver_rep_ids=ctx.leaver_rep_ids,
                                    recent_assignments=routed.recent_assignments)


def guard(ctx: RunContext, routed: Routed) -> None:
    check(routed.guard, ctx.config, ctx.accepted_guards)


def record(ctx: RunContext, routed: Routed) -> None:
    with connection(ctx) as con:
        publish.record_run(
            con, run_id=ctx.run_id, decisions=routed.decisions, conflicts=routed.conflicts,
            rep_state=routed.rep_state, alerts=routed.alerts, round_robin=routed.round_robin,
        )


def _stored_summary(con: duckdb.DuckDBPyConnection, ctx: RunContext, status: str,
                    message: str = "") -> RunSummary:
    def frame(table: str) -> pl.DataFrame:
        return warehouse.query(con, f"select * from {table} where run_id = ?", [ctx.run_id])

    return summarize(
        run_id=ctx.run_id, mode=ctx.mode, decisions=frame("routing.decisions"),
        conflicts=frame("routing.conflicts"), alerts=frame("routing.alerts"), status=status,
        message=message,
    )


def publish_run(ctx: RunContext) -> RunSummary:
    """Queue and deliver this run's messages (and anything left pending), mark published."""
    with connection(ctx) as con:
        summary = _stored_summary(con, ctx, "published")
        decisions = warehouse.query(con, "select * from routing.decisions where run_id = ?",
                                    [ctx.run_id])
        alerts = warehouse.query(con, "select * from routing.alerts where run_id = ?",
                                 [ctx.run_id])
        publish.queue_messages(con, run_id=ctx.run_id, decisions=decisions, alerts=alerts,
                               queues=ctx.config.queues)
        if ctx.config.sinks.files:
            publish.write_outbox(con, run_id=ctx.run_id, outbox=ctx.outbox,
                                 summary_markdown=summary.to_markdown(),
                                 writeback_settings=ctx.config.writeback)
        _notify(con, ctx, alerts, summary)
        summary = _deliver(con, ctx, summary)
        publish.set_status(con, ctx.run_id, "published")
    return summary


def _notify(con: duckdb.DuckDBPyConnection, ctx: RunContext, alerts: pl.DataFrame,
            summary: RunSummary) -> None:
    """Queue the run's messages to the notification sinks: one per recipient of its new
    alerts, and its summary (switchboard.notify)."""
    notify.queue(con, run_id=ctx.run_id, mode=ctx.mode, as_of=ctx.as_of, alerts=alerts,
                 summary=summary, config=ctx.config, outbox=ctx.outbox)


def deliver_pending(ctx: RunContext) -> publish.DeliveryReport:
    """Deliver what earlier runs left pending before this run does anything else, so a
    run that then fails (a broken export, a failed check) still gets them through."""
    with connection(ctx) as con:
        return notify.deliver(con, ctx.config.sinks)


def _deliver(con: duckdb.DuckDBPyConnection, ctx: RunContext, summary: RunSummary
             ) -> RunSummary:
    """Send every pending webhook message, this run's and any an outage held back, and make
    what stays pending visible instead of silent: on the returned summary (the CLI exits
    non-zero on it), in the run's summary.md, and, once messages have waited longer than
    alerts.pending_hours, as a delivery_failed alert in the run's alerts.jsonl. That alert
    goes to the files sink whatever `sinks.files` says: the webhook is what is failing."""
    report = notify.deliver(con, ctx.config.sinks)
    if report.pending:
        stale = delivery_failed(
            publish.pending_messages(con), run_id=ctx.run_id,
            recipient=ctx.config.alerts.revops_recipient,
            hours=ctx.config.alerts.pending_hours, now=utc_now(),
        )
        if publish.raise_alerts(con, run_id=ctx.run_id, alerts=stale, outbox=ctx.outbox):
            counts = dict(summary.alerts_by_type)
            counts["delivery_failed"] = counts.get("delivery_failed", 0) + 1
            summary = replace(summary, alerts_by_type=counts)
    summary = replace(summary, pending_messages=report.pending, pending_error=report.error,
                      pending_sinks=report.sinks)
    publish.write_summary(ctx.outbox, ctx.run_id, summary.to_markdown())
    return summary


def stop(ctx: RunContext, error: GuardTripped) -> RunSummary:
    """A tripped guard: record it, publish only the guard_tripped alert, nothing else."""
    alerts = guard_tripped(ctx.run_id, error.guard, error.message,
                           ctx.config.alerts.revops_recipient)
    with connection(ctx) as con:
        publish.record_stopped(con, run_id=ctx.run_id, alerts=alerts, message=error.message)
        summary = summarize(
            run_id=ctx.run_id, mode=ctx.mode, decisions=_no_decisions(),
            conflicts=empty(CONFLICTS), alerts=alerts, status="stopped",
            message=error.message,
        )
        publish.queue_messages(con, run_id=ctx.run_id, decisions=_no_decisions(),
                               alerts=alerts)
        publish.write_outbox(con, run_id=ctx.run_id, outbox=ctx.outbox,
                             summary_markdown=summary.to_markdown(),
                             writeback_settings=ctx.config.writeback)
        _notify(con, ctx, alerts, summary)
        return _deliver(con, ctx, summary)


def _no_decisions() -> pl.DataFrame:
    return empty(DECISIONS)


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


def done_summary(ctx: RunContext) -> RunSummary:
    """An unchanged export: nothing to decide, but what an outage held back is delivered
    now (once: message keys), so re-running the same export after the webhook recovers is
    enough."""
    with connection(ctx) as con:
        base = _stored_summary(con, ctx, "published")
        return _deliver(con, ctx, replace(
            base, message=f"snapshot unchanged since run {ctx.run_id}; nothing new to publish"
        ))


# ---------------------------------------------------------------- territory change


def overlay_snapshot(snapshot: Path, replacements: dict[str, Path]) -> Path:
    """A temporary snapshot: the original files, with some entities replaced."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-overlay-"))
    replaced = set(replacements)
    for path in Path(snapshot).iterdir():
        if path.is_file() and path.stem not in replaced:
            (folder / path.name).symlink_to(path.resolve())
    for entity, source in replacements.items():
        shutil.copyfile(source, folder / f"{entity}{source.suffix}")
    return folder


def scratch(ctx: RunContext) -> RunContext:
    """The same run against a throw-away copy of the warehouse (dry runs, what-ifs): it sees
    the real history (workload, hysteresis) and leaves the real warehouse untouched."""
    folder = Path(tempfile.mkdtemp(prefix="switchboard-scratch-"))
    copy = folder / ctx.warehouse.name
    if ctx.warehouse.exists():
        shutil.copyfile(ctx.warehouse, copy)
    return replace(ctx, warehouse=copy, outbox=folder / "outbox", dry_run=True)
