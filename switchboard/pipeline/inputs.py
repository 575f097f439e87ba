"""What the engine reads for a run: the marts' frames (for an arrivals pass, only its
scope and the records they need as context), owners published but not yet in the export,
the records settled in a queue, and what earlier passes of the day gave each rep.

Which records those are is the dbt project's to decide (the views named below, documented
in dbt_project/models); this module reads them and moves frames."""

from __future__ import annotations

import duckdb
import polars as pl

from switchboard import queued, warehouse
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


# The first-touch clocks that may have run out at the run's as-of (routing.yml sla:); the
# engine decides which did (switchboard.engine.sla).
SLA_CLOCKS_DUE = "intermediate.int_lead_sla_clocks_due"


def sla_clocks(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The first-touch clocks that may have run out at the as-of
    (intermediate.int_lead_sla_clocks_due: of a listed source, started within the engine's
    horizon and at least ``sla.first_touch_minutes`` ago, not touched by the as-of). Empty
    without ``sla:`` or before the model was first built."""
    from switchboard.engine.inputs import FRAME_COLUMNS

    if not warehouse.table_exists(con, SLA_CLOCKS_DUE):
        return pl.DataFrame(schema=FRAME_COLUMNS["sla_clocks"])
    return warehouse.read_table(con, SLA_CLOCKS_DUE).collect()


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


# What an arrivals pass reads instead of the whole marts (dbt_project/models/marts/
# *_arrival_*.sql): the records in its scope, the leads whose first-touch clock may have
# run out, the accounts they need as context (a lead's matched account, the named
# accounts), and only those records' matches and pipeline (int_arrival_records).
ARRIVAL_TABLES = {
    **ENGINE_TABLES,
    "accounts": "marts.dim_arrival_accounts",
    "leads": "marts.dim_arrival_leads",
    "opportunities": "marts.fct_arrival_open_opportunities",
    "territory_matches": "marts.fct_arrival_territory_matches",
}
# The records the pass may decide (routing.arrival_scope, one row each).
ARRIVAL_SCOPE = "intermediate.int_arrival_scope"


def arrival_frames(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, pl.LazyFrame], pl.LazyFrame]:
    """The engine's frames for an arrivals pass, and the records it may decide (the SLA's
    leads join the scope in the engine, when their clock ran out)."""
    frames = {name: warehouse.read_table(con, table) for name, table in ARRIVAL_TABLES.items()}
    return frames, warehouse.read_table(con, ARRIVAL_SCOPE)


# Owners published in the last days that the CRM export may not show yet.
PENDING_OWNERS = "intermediate.int_pending_owners"


def pending_owners(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Each record's latest published decision of the days before the as-of that gave it
    a rep (intermediate.int_pending_owners): record_type, record_id, the owner it replaced
    and the owner it gave."""
    return warehouse.read_table(con, PENDING_OWNERS).collect()


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


# Records given to reps since the marts were built.
RECENT_ASSIGNMENTS = "intermediate.int_recent_assignments"


def recent_assignments(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Records given to reps by runs that started after the marts were built (earlier
    arrivals passes of the day, intermediate.int_recent_assignments): the workload index
    has not counted them yet. Columns record_type, rep_id."""
    return warehouse.read_table(con, RECENT_ASSIGNMENTS).collect()
