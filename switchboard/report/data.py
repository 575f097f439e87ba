"""The reports' reads of the warehouse: a handful of small read-only queries of the marts
and the run ledger, restricted to the report window where it applies."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from switchboard import warehouse

WINDOW_DAYS = 7
# marts.fct_territory_fairness's columns: empty, they stand in for the mart on a warehouse
# last built before it existed.
FAIRNESS_SCHEMA: dict[str, pl.DataType] = {
    "territory_id": pl.String(),
    "territory_name": pl.String(),
    "window_days": pl.Int32(),
    "window_start": pl.Date(),
    "window_end": pl.Date(),
    "rep_id": pl.String(),
    "rep_name": pl.String(),
    "weight": pl.Float64(),
    "available_days": pl.Int64(),
    "weighted_available_days": pl.Float64(),
    "records": pl.Int64(),
    "territory_records": pl.Int64(),
    "expected_share": pl.Float64(),
    "expected_records": pl.Float64(),
    "drift_records": pl.Float64(),
    "records_per_weighted_day": pl.Float64(),
    "territory_max_abs_drift_records": pl.Float64(),
    "territory_gini": pl.Float64(),
}


@dataclass(frozen=True)
class ReportData:
    """The warehouse frames the reports read, restricted to the window where it applies."""

    since: datetime
    latest: datetime | None
    decisions: pl.DataFrame  # marts.fct_routing_decisions in the window
    conflicts: pl.DataFrame  # marts.fct_routing_conflicts in the window, plus day (the
    #                              run's as-of date)
    workload: pl.DataFrame  # latest marts.fct_rep_workload row per rep
    reps: pl.DataFrame  # rep_id, rep_name, team, carries_accounts (+ availability,
    #                              is_valid_owner)
    accounts: pl.DataFrame  # account_id, account_name, parent ids, country_code, segment
    #                              (+ owner_id, has_valid_owner)
    leads: pl.DataFrame  # lead_id, matched_account_id, country_code (+ email, owner_id)
    named_accounts: pl.DataFrame  # account_id
    # The coverage report's frames (latest build, no window); None when not loaded.
    coverage: CoverageData | None = field(default=None)
    # marts.fct_territory_fairness (its own 7- and 30-day windows, ending at the latest
    # build's as-of); None when not loaded.
    fairness: pl.DataFrame | None = field(default=None)


@dataclass(frozen=True)
class CoverageData:
    """The territory coverage marts, as the latest build wrote them (sorted as the report
    shows them)."""

    overlaps: pl.DataFrame  # marts.fct_territory_overlaps: territory pairs overlapping at
    #                          equal priority, most shared records first
    gaps: pl.DataFrame  # marts.fct_territory_coverage_gaps: records no territory
    #                          matches by record type and country, largest first
    unstaffed: pl.DataFrame  # marts.fct_unstaffed_territories: territories without an
    #                          available member, most matched records first


# The coverage marts (CoverageData's fields) and the order the report lists their rows in.
COVERAGE_MARTS: dict[str, tuple[str, str]] = {
    "overlaps": ("marts.fct_territory_overlaps", "records desc, territory_a, territory_b"),
    "gaps": ("marts.fct_territory_coverage_gaps", "records desc, record_type, country"),
    "unstaffed": ("marts.fct_unstaffed_territories", "matched_records desc, territory_id"),
}


def read_coverage(con: duckdb.DuckDBPyConnection) -> CoverageData:
    """The coverage marts, sorted as the report lists them."""
    frames: dict[str, pl.DataFrame] = {}
    for field_name, (table, order) in COVERAGE_MARTS.items():
        if not warehouse.table_exists(con, table):
            raise FileNotFoundError(
                f"{table} does not exist: the warehouse was last built before the coverage "
                "marts; run `switchboard run hourly` to build them"
            )
        frames[field_name] = warehouse.query(con, f"select * from {table} order by {order}")
    return CoverageData(**frames)


def load(
    warehouse_path: Path | str, since: datetime | None = None, *, coverage: bool = True
) -> ReportData:
    """Read what the reports need; ``since`` defaults to 7 days before the latest run.

    ``coverage=False`` skips the territory coverage marts, which only the coverage report
    reads."""
    path = Path(warehouse_path)
    if not path.is_file():
        raise FileNotFoundError(f"warehouse {path} does not exist; run `switchboard run` first")
    con = warehouse.connect(path, read_only=True)
    try:
        rows = con.execute("select max(as_of) from routing.runs").fetchall()
        latest: datetime | None = rows[0][0] if rows else None
        start = since or (latest or datetime.now()) - timedelta(days=WINDOW_DAYS)
        decisions = warehouse.query(
            con, "select * from marts.fct_routing_decisions where decided_at >= ?", [start]
        )
        conflicts = warehouse.query(
            con,
            "select *, run_date as day from marts.fct_routing_conflicts where run_as_of >= ?",
            [start],
        )
        workload = warehouse.query(
            con,
            "select * from marts.fct_rep_workload "
            "qualify row_number() over (partition by rep_id order by as_of_date desc) = 1",
        )
        reps = warehouse.query(
            con,
            "select rep_id, rep_name, team, carries_accounts, availability, "
            "is_valid_owner from marts.dim_reps",
        )
        accounts = warehouse.query(
            con,
            "select account_id, account_name, parent_account_id, ultimate_parent_account_id, "
            "country_code, segment, owner_id, has_valid_owner from marts.dim_accounts",
        )
        leads = warehouse.query(
            con,
            "select lead_id, matched_account_id, country_code, email, owner_id "
            "from marts.dim_leads",
        )
        named = warehouse.query(con, "select account_id from marts.dim_named_accounts")
        plan = read_coverage(con) if coverage else None
        # a warehouse last built before the fairness mart existed has none until its next run
        fairness = (
            warehouse.query(con, "select * from marts.fct_territory_fairness")
            if warehouse.table_exists(con, "marts.fct_territory_fairness")
            else pl.DataFrame(schema=FAIRNESS_SCHEMA)
        )
    finally:
        con.close()
    return ReportData(
        since=start,
        latest=latest,
        decisions=decisions,
        conflicts=conflicts,
        workload=workload,
        reps=reps,
        accounts=accounts,
        leads=leads,
        named_accounts=named,
        coverage=plan,
        fairness=fairness,
    )
