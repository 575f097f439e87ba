"""Raw tables written straight from rows, as a full ingest would leave them: tests that
build the dbt project on hand-made data use this instead of CSV files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from switchboard import warehouse
from switchboard.contracts import load_contracts
from switchboard.roster import PROBLEM, update_roster


def raw_frame(entity: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows for raw.<entity>: the contract's columns and types plus _row_number."""
    contract = load_contracts()[entity]
    schema = {**contract.polars_schema, "_row_number": pl.Int64()}
    unknown = {key for row in rows for key in row} - set(schema)
    if unknown:
        raise KeyError(f"{entity} has no columns {sorted(unknown)}")
    records = [
        {**dict.fromkeys(contract.column_names), **row, "_row_number": number}
        for number, row in enumerate(rows, start=1)
    ]
    return pl.DataFrame(records, schema=schema, orient="row")


def write_raw_tables(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, Sequence[Mapping[str, Any]]]
) -> None:
    """Replace every raw.<entity> (absent entities empty) and update raw.rep_roster as a
    full ingest of these rows (a new export, nothing set aside) would."""
    contracts = load_contracts()
    frames = {entity: raw_frame(entity, tables.get(entity, ())) for entity in contracts}
    for entity, frame in frames.items():
        warehouse.write_table(con, f"raw.{entity}", frame)
    previous = (
        con.sql("select * from raw.rep_roster").pl()
        if warehouse.table_exists(con, "raw.rep_roster")
        else pl.DataFrame()
    )

    def nothing(entity: str) -> pl.DataFrame:
        return (
            frames[entity]
            .head(0)
            .with_columns(pl.lit(None, pl.String).alias(name) for name in PROBLEM)
        )

    roster = update_roster(
        previous,
        reps_contract=contracts["reps"],
        reps=frames["reps"],
        reps_rejected=nothing("reps"),
        hr=frames["hr"],
        hr_rejected=nothing("hr"),
        new_reps_export=True,
        new_hr_export=True,
        now=datetime(2026, 1, 1),
    )
    warehouse.write_table(con, "raw.rep_roster", roster)
