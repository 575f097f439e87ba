"""Writing an ingest into the warehouse, all or nothing: raw.<entity> replaced (or
appended to), the quarantine, ingest log and export history, the rep roster, the change
set and the arrivals scope, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Literal

import duckdb
import polars as pl

from switchboard import tables
from switchboard.changes import ChangeSet, record_arrivals
from switchboard.ingest.result import IngestReport
from switchboard.warehouse import ensure_routing_tables, table_exists, write_table


def write_raw(
    con: duckdb.DuckDBPyConnection,
    report: IngestReport,
    loaded: Mapping[str, pl.DataFrame],
    mode: Literal["replace", "append"] = "replace",
    scope: pl.DataFrame | None = None,
    roster: pl.DataFrame | None = None,
    changes: ChangeSet | None = None,
    arrived: pl.DataFrame | None = None,
) -> None:
    """Replace (or append to) raw.<entity>, append quarantine and log rows and, with
    `scope`, add those records to routing.arrival_scope; all or nothing.

    The scope keeps the rows of runs that have not routed them: an arrivals or hourly run
    still 'started' (it died or is this one) or closed as 'abandoned' (it died), or a run
    of another mode (a departure's full ingest routes no new record). They are stamped
    with this run, so they leave the scope once it decides; rows of a run that stopped on
    a failed check leave too (the hourly run routes them) rather than stopping every later
    pass.

    A full load (``mode="replace"``) also appends its files to raw.export_history and,
    with ``roster``, replaces raw.rep_roster; with ``changes``, it keeps what the load
    changed (switchboard.changes). An arrivals pass (``mode="append"``) passes the hashes
    of the rows it appends as ``arrived``: the change set becomes the records of its scope
    (switchboard.changes.record_arrivals).
    """
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    history = report.export_history(ingested_at)
    if mode != "replace":
        history = history.clear()
    log = report.ingest_log(ingested_at)
    con.execute("create schema if not exists raw")
    if scope is not None:
        ensure_routing_tables(con)
    con.begin()
    try:
        for entity, frame in loaded.items():
            write_table(con, f"raw.{entity}", frame, mode=mode)
        for table, frame in (
            (tables.RAW_QUARANTINE, report.quarantine),
            (tables.RAW_INGEST_LOG, log),
            (tables.RAW_EXPORT_HISTORY, history),
        ):
            if table_exists(con, table):
                con.execute(f"delete from {table} where run_id = ?", [report.run_id])
            write_table(con, table, frame, mode="append")
        if roster is not None:
            write_table(con, tables.RAW_REP_ROSTER, roster)
        if changes is not None:
            changes.write(con)
        if scope is not None:
            con.execute("""
                delete from routing.arrival_scope where run_id in (
                    select run_id from routing.runs
                    where mode in ('hourly', 'arrivals')
                      and status not in ('started', 'abandoned'))
            """)
            con.execute("update routing.arrival_scope set run_id = ?", [report.run_id])
            write_table(con, tables.ARRIVAL_SCOPE, scope, mode="append")
            if arrived is not None:  # an arrivals pass: its dbt run updates these records
                record_arrivals(con, report.run_id, arrived)
        con.commit()
    except BaseException:
        con.rollback()
        raise
