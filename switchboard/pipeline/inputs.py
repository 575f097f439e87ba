"""What the engine reads for a run: the marts' frames (for an arrivals pass, only its
scope and the records they need as context), owners published but not yet in the export,
the records settled in a queue, and what earlier passes of the day gave each rep."""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import polars as pl

from switchboard import queued, warehouse
from switchboard.config import RoutingConfig
from switchboard.pipeline.context import RunContext

ENGINE_TABLES = {
    "accounts": "marts.dim_accounts",
    "leads": "marts.dim_leads",
    "opportunities": "marts.fct_open_opportunities",
    "named_accounts": "marts.dim_named_accounts",
    "reps": "marts.dim_reps",
    "territory_matches": "marts.fct_territory_matches",
    "territory_members": "marts.dim_territory_members",
}


def without_settled(
    frames: dict[str, pl.LazyFrame], scope: pl.LazyFrame | None, settled: pl.DataFrame | None
) -> pl.LazyFrame | None:
    """The records the engine may decide: the arrivals scope (None: every record), less
    the records settled in a queue (switchboard.queued), which keep their last decision."""
    if settled is None or settled.is_empty():
        return scope
    every = (
        scope
        if scope is not None
        else pl.concat(
            [
                frames["accounts"].select(record_type=pl.lit("account"), record_id="account_id"),
                frames["leads"].select(record_type=pl.lit("lead"), record_id="lead_id"),
            ]
        )
    )
    return every.join(settled.lazy(), on=queued.KEYS, how="anti")


# The first-touch clocks a run reads (intermediate.int_lead_sla_clocks): the engine decides
# which ran out (switchboard.engine.sla); this only leaves out what cannot have.
SLA_CLOCKS = "intermediate.int_lead_sla_clocks"


def sla_clocks(
    con: duckdb.DuckDBPyConnection, config: RoutingConfig, as_of: datetime
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
    return warehouse.query(
        con,
        f"""
        select * from {SLA_CLOCKS}
        where clock_started_at > ? and clock_started_at <= ?
          and (first_touch_at is null or first_touch_at > ?)
          and (? or lower(trim(source)) in (select unnest(?::varchar[])))
    """,
        [as_of - HORIZON, due, as_of, not sources, sources],
    )


def with_fresh_touches(
    clocks: pl.DataFrame, ctx: RunContext, con: duckdb.DuckDBPyConnection
) -> pl.DataFrame:
    """An arrivals pass's clocks with the touches the export lists now: raw.activities
    holds the last full ingest's, and a rep may have touched the lead since
    (switchboard.ingest.arrivals.lead_touches). A touch is the owner's activity on the lead
    at or after the clock started."""
    from switchboard.ingest.arrivals import lead_touches

    touches = lead_touches(
        ctx.snapshot, con, clocks["lead_id"].to_list(), mapping=ctx.config.mapping
    )
    fresh = (
        touches.lazy()
        .join(clocks.lazy().select("lead_id", "owner_id", "clock_started_at"), on="lead_id")
        .filter(
            (pl.col("rep_id") == pl.col("owner_id"))
            & (pl.col("occurred_at") >= pl.col("clock_started_at"))
        )
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
_NEW_ACCOUNTS = "select record_id from routing.arrival_scope where record_type = 'account'"
_NEW_LEADS = (
    "select record_id from routing.arrival_scope where record_type = 'lead' "
    "union all select lead_id from _sla_clock_leads"
)
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


def arrival_frames(
    con: duckdb.DuckDBPyConnection, clocks: pl.DataFrame | None = None
) -> tuple[dict[str, pl.LazyFrame], pl.LazyFrame]:
    """The engine's frames for an arrivals pass, and the records it may decide (the SLA's
    leads join the scope in the engine, when their clock ran out)."""
    sla_leads = (
        clocks.select("lead_id")
        if clocks is not None and clocks.height
        else pl.DataFrame(schema={"lead_id": pl.String()})
    )
    con.register("_sla_clock_leads", sla_leads)
    try:
        frames = {
            name: (
                con.sql(_ARRIVAL_QUERIES[name]).pl().lazy()
                if name in _ARRIVAL_QUERIES
                else warehouse.read_table(con, table)
            )
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
    return warehouse.query(
        con,
        f"""
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
    """,
        [as_of, PENDING_DAYS, as_of],
    )


def with_pending_owners(
    records: pl.LazyFrame, pending: pl.DataFrame, record_type: str, key: str
) -> pl.LazyFrame:
    """A record's owner as Switchboard last set it, where the CRM has not applied that
    decision yet (the export still shows the owner it replaced): the hourly run after an
    arrivals pass or a departure then does not decide the same record again, perhaps
    differently. An owner the CRM changed since (to anyone else) is the CRM's."""
    mine = (
        pending.lazy()
        .filter(pl.col("record_type") == record_type)
        .select(
            pl.col("record_id").alias(key),
            _replaced=pl.col("previous_owner_id"),
            _pending=pl.col("owner_id"),
        )
    )
    return (
        records.join(mine, on=key, how="left", maintain_order="left")
        .with_columns(
            owner_id=pl.when(
                pl.col("_pending").is_not_null()
                & pl.col("owner_id").eq_missing(pl.col("_replaced"))
            )
            .then(pl.col("_pending"))
            .otherwise(pl.col("owner_id"))
        )
        .drop("_replaced", "_pending")
    )


def recent_assignments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Records given to reps by runs that started after the marts were built (earlier
    arrivals passes of the day): the workload index has not counted them yet."""
    return warehouse.query(
        con,
        f"""
        select decisions.record_type, decisions.owner_id as rep_id
        from routing.decisions as decisions
        inner join routing.runs as runs on decisions.run_id = runs.run_id
        where runs.status in ('decided', 'published')
          and runs.started_at > (select max(built_at) from routing.builds)
          and {_GIVES_A_REP}
    """,
    )
