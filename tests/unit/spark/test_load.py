"""What switchboard.spark.load has DuckDB write for Spark, checked on DuckDB alone (no
pyspark): the tables it copies are the dbt sources, a missing one is written empty with
its declared columns, and timestamps leave as UTC instants."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import yaml

from switchboard import tables
from switchboard.dbt_sources import sources_path
from switchboard.spark.load import (
    RECORDED,
    ROUTE_STATE,
    RUN_TABLES,
    SourceTable,
    _copy_query,
    source_tables,
    write_parquet,
)


def test_the_loaded_tables_are_the_dbt_sources_and_the_route_state() -> None:
    declared = yaml.safe_load(sources_path().read_text(encoding="utf-8"))
    expected = {
        f"{source['schema']}.{table['name']}"
        for source in declared["sources"]
        for table in source["tables"]
    }
    assert {t.name for t in source_tables()} == expected | set(ROUTE_STATE)
    assert "routing.round_robin" in ROUTE_STATE
    assert {"raw.accounts", "raw.changes", "reference.countries", "routing.decisions"} <= expected


def _written(con: duckdb.DuckDBPyConnection, query: str, folder: Path) -> list[tuple[str, str]]:
    path = folder / "t.parquet"
    con.execute(f"copy ({query}) to '{path}' (format parquet)")
    return [
        (str(name), str(dtype))
        for name, dtype, *_ in con.execute(f"describe select * from '{path}'").fetchall()
    ]


def test_a_table_the_warehouse_lacks_is_written_empty_with_its_declared_columns(
    tmp_path: Path,
) -> None:
    decisions = next(t for t in source_tables() if t.name == "routing.decisions")
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    query, found = _copy_query(con, decisions)
    assert not found
    assert con.execute(f"select count(*) from ({query})").fetchone() == (0,)
    columns = dict(_written(con, query, tmp_path))
    assert list(columns) == [name for name, _ in decisions.columns]
    assert columns["decided_at"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["candidates"] == "VARCHAR[]"


def test_timestamps_leave_as_the_same_utc_instant(tmp_path: Path) -> None:
    """A naive warehouse timestamp is UTC: it is written as that instant (what Spark reads
    as its TIMESTAMP), lists and text unchanged."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")  # as load_from_duckdb sets it
    con.execute("create schema raw")
    con.execute(
        "create table raw.t as select 'a' as id, timestamp '2026-03-01 09:00:00' as seen, "
        "['x', 'y'] as tags"
    )
    columns = (("id", "varchar"), ("seen", "timestamp"), ("tags", "varchar[]"))
    query, found = _copy_query(con, SourceTable("raw", "t", columns))
    assert found
    assert _written(con, query, tmp_path) == [
        ("id", "VARCHAR"),
        ("seen", "TIMESTAMP WITH TIME ZONE"),
        ("tags", "VARCHAR[]"),
    ]
    written = con.execute(f"select epoch(seen), tags from '{tmp_path / 't.parquet'}'").fetchall()
    assert written == [(datetime(2026, 3, 1, 9, 0, tzinfo=UTC).timestamp(), ["x", "y"])]


def test_the_run_tables_are_written_one_folder_per_run(tmp_path: Path) -> None:
    """routing.decisions and routing.conflicts leave as one folder per run_id (the layout
    switchboard.spark.publish records into), the run_id in the folder name only; an empty
    one leaves an empty folder."""
    decisions = next(t for t in source_tables() if t.name == tables.DECISIONS)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create schema routing")
    columns = ", ".join(f"{name} {dtype}" for name, dtype in decisions.columns)
    con.execute(f"create table routing.decisions ({columns})")
    con.execute(
        "insert into routing.decisions (run_id, record_type, record_id, decided_at) values "
        "('r1', 'account', 'A1', timestamp '2026-03-01 09:00:00'), "
        "('r1', 'lead', 'L1', timestamp '2026-03-01 09:00:00'), "
        "('r2', 'account', 'A1', timestamp '2026-03-02 09:00:00')"
    )
    folder = tmp_path / "sources" / "routing" / "decisions"
    assert write_parquet(con, decisions, folder) == (3, True)
    assert sorted(p.name for p in folder.iterdir()) == ["run_id=r1", "run_id=r2"]
    first = con.sql(
        f"select * from read_parquet('{folder / 'run_id=r1'}/*.parquet', hive_partitioning = false)"
    ).pl()
    assert "run_id" not in first.columns
    assert first["record_id"].sort().to_list() == ["A1", "L1"]
    assert set(RUN_TABLES) <= set(RECORDED)
    assert tables.DECISIONS in RUN_TABLES and tables.CONFLICTS in RUN_TABLES

    empty = tmp_path / "conflicts"
    conflicts = next(t for t in source_tables() if t.name == tables.CONFLICTS)
    assert write_parquet(con, conflicts, empty) == (0, False)
    assert empty.is_dir() and not any(empty.iterdir())
