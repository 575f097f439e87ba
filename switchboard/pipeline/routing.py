"""The route stage (marts → engine → alerts) and the checks on what it decided: Great
Expectations on the engine's output, then the guards."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from switchboard import queued, warehouse
from switchboard.alerts import build_alerts
from switchboard.guards import GuardReport, check, check_inputs, measure, previous_availability
from switchboard.pipeline.context import RunContext, connection
from switchboard.pipeline.inputs import (
    ENGINE_TABLES,
    arrival_frames,
    pending_owners,
    recent_assignments,
    sla_clocks,
    with_fresh_touches,
    with_pending_owners,
    without_settled,
)


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
        clocks = sla_clocks(con) if ctx.plan.selection.checks_sla(ctx.config) else None
        if clocks is not None and scoped and ctx.incremental and clocks.height:
            clocks = with_fresh_touches(clocks, ctx, con)
        if scoped:
            frames, scope = arrival_frames(con)
        else:
            frames = {
                name: warehouse.read_table(con, table) for name, table in ENGINE_TABLES.items()
            }
            scope = None
        reps_df = frames["reps"].collect()
        territory_count = con.execute("select count(*) from raw.territories").fetchall()[0]
        # An arrivals pass raises no unowned or overload alerts (the hourly run does), so it
        # reads only the day's workload row per rep, not the history.
        history = warehouse.query(
            con,
            "select * from marts.fct_rep_workload where ? or as_of_date = ?",
            [not scoped, ctx.as_of.date()],
        ).lazy()
        rep_state = warehouse.read_table(con, "routing.rep_state")
        round_robin = warehouse.read_table(con, "routing.round_robin")
        gaps = warehouse.query(
            con, "select * from marts.fct_ownership_gaps where ?", [not scoped]
        ).lazy()
        recent = recent_assignments(con) if scoped and ctx.incremental else None
        pending = pending_owners(con)
        plan = queued.plan_fingerprint(con, ctx.config.rules_version)
        # An arrivals pass decides records new to raw: none has an earlier decision.
        settled = None if scoped else queued.settled(con, ctx.as_of, plan)
        previous = previous_availability(con, ctx.as_of)
    frames["accounts"] = with_pending_owners(frames["accounts"], pending, "account", "account_id")
    frames["leads"] = with_pending_owners(frames["leads"], pending, "lead", "lead_id")
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
        scope=without_settled(frames, scope, settled),
    )
    result = engine_route(
        inputs,
        ctx.config,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        selection=ctx.plan.selection,
        leaver_rep_ids=ctx.leaver_rep_ids,
    )
    with connection(ctx) as con:
        decisions = queued.with_input_hashes(con, result.decisions, plan)
    conflicts = result.conflicts
    alerts = build_alerts(
        decisions=decisions,
        conflicts=conflicts,
        reps=reps_df.lazy(),
        gaps=gaps,
        workload_history=history,
        config=ctx.config,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        skill_gaps=result.skill_gaps,
        sla_breaches=result.sla_breaches,
    )
    accounts_in_scope = (
        frames["accounts"].join(
            scope.filter(pl.col("record_type") == "account"),
            left_on="account_id",
            right_on="record_id",
            how="semi",
        )
        if scope is not None
        else frames["accounts"]
    )
    guard = measure(
        decisions=decisions,
        accounts=accounts_in_scope,
        reps=reps_df.lazy(),
        exempt_rep_ids=ctx.leaver_rep_ids,
        previous=previous,
    )
    return Routed(
        decisions,
        conflicts,
        result.rep_state,
        alerts,
        guard,
        recent_assignments=recent,
        round_robin=result.round_robin,
    )


def check_output(ctx: RunContext, routed: Routed) -> None:
    """Great Expectations on the engine's output; raises StageCheckFailed."""
    from switchboard import quality

    with connection(ctx) as con:
        quality.check_engine_output(
            con,
            routed.decisions,
            ctx.config,
            as_of_date=ctx.as_of.date(),
            leaver_rep_ids=ctx.leaver_rep_ids,
            recent_assignments=routed.recent_assignments,
        )


def guard(ctx: RunContext, routed: Routed) -> None:
    check(routed.guard, ctx.config, ctx.accepted_guards)
