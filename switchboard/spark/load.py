"""Copy the tables the dbt project reads from a DuckDB warehouse into Spark tables.

The dbt sources (dbt_project/models/staging/_sources.yml, rendered by
switchboard.dbt_sources from the contracts and switchboard/tables.py): the raw entities,
what ingest keeps between exports (raw.rep_roster, raw.changes), the reference lookups and
the routing state. The seed is not copied: `dbt seed` writes it on Spark as on DuckDB.

DuckDB writes each table as Parquet under ``<home>/sources/<schema>/<table>/`` and Spark
registers a table over that folder (``CREATE TABLE ... USING parquet LOCATION``), so the
rows never pass through Python. Columns keep their types; DuckDB's TIMESTAMP (UTC, without
time zone) is written as a UTC instant, which Spark reads as its TIMESTAMP (its session
time zone is UTC, switchboard.spark.session). A source the warehouse does not have yet
(routing.decisions before the first run publishes) becomes an empty table with the
declared columns.

The tables a run writes by run (``RUN_TABLES``: routing.decisions, routing.conflicts and
routing.alerts) are partitioned by ``run_id``: DuckDB writes one folder per run
(``<table>/run_id=<run_id>/``), and Spark declares the table with its columns and
registers the partitions found. switchboard.spark.publish records a run into the same
tables, replacing that run's partition only. Once runs record on Spark, the routing state
they write (``RECORDED``) lives there: ``keep_recorded`` (``--keep-recorded``) loads
everything else (the run ledger among it, which stays in the DuckDB warehouse) and leaves
those tables as they are.

``python -m switchboard.spark.load WAREHOUSE [--home HOME]`` loads from the command line.
"""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from switchboard import tables
from switchboard.dbt_sources import sources_dict
from switchboard.spark.session import local_session, spark_home

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SOURCES_FOLDER = "sources"


@dataclass(frozen=True)
class SourceTable:
    """One table a dbt source reads: where it lives and its declared columns."""

    schema: str
    table: str
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type) as _sources.yml declares

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class LoadedTable:
    name: str
    rows: int
    from_warehouse: bool  # False: the warehouse had no such table; created empty


# Read by the route stage but by no dbt model (switchboard/pipeline/routing.py): where
# each round-robin rotation stopped. Columns from switchboard/engine/schema.py.
ROUTE_STATE = (tables.ROUND_ROBIN,)
# Written run by run: partitioned by run_id, so that recording a run replaces its rows only.
RUN_TABLES = (tables.DECISIONS, tables.CONFLICTS, tables.ALERTS)
PARTITION = "run_id"
# What a run records on Spark (switchboard.spark.publish.record_on_spark).
RECORDED = (*RUN_TABLES, tables.REP_STATE, tables.ROUND_ROBIN)
_DUCKDB_TYPES = {
    pl.String: "VARCHAR",
    pl.Int64: "BIGINT",
    pl.Float64: "DOUBLE",
    pl.Boolean: "BOOLEAN",
}


def _duckdb_type(dtype: pl.DataType) -> str:
    return "TIMESTAMP" if isinstance(dtype, pl.Datetime) else _DUCKDB_TYPES[type(dtype)]


def source_tables() -> tuple[SourceTable, ...]:
    """Every table the dbt sources declare, in _sources.yml order, then the route stage's
    state tables no model reads (ROUTE_STATE)."""
    from switchboard.engine.schema import ROUTING_TABLES

    found: list[SourceTable] = []
    for source in sources_dict()["sources"]:
        for table in source["tables"]:
            columns = tuple((c["name"], c["data_type"]) for c in table["columns"])
            found.append(SourceTable(source["schema"], table["name"], columns))
    for name in ROUTE_STATE:
        schema, _, table = name.partition(".")
        columns = tuple((c, _duckdb_type(t)) for c, t in ROUTING_TABLES[name].items())
        found.append(SourceTable(schema, table, columns))
    return tuple(found)


def table_folder(home: Path | str | None, name: str) -> Path:
    """Where the Spark table ``name`` (schema.table) keeps its Parquet files."""
    schema, _, table = name.partition(".")
    return spark_home(home) / SOURCES_FOLDER / schema / table


def create_run_table(spark: SparkSession, name: str, folder: Path) -> None:
    """Declare the run-partitioned table ``name`` (RUN_TABLES) over ``folder`` with its
    declared columns (switchboard/tables.py), unless it exists, and register the run
    partitions the folder holds."""
    from switchboard.spark.arrow import spark_schema

    declared = tables.TABLE_BY_NAME[name].columns()
    if declared is None:
        raise ValueError(f"{name} declares no columns")
    schema, _, table = name.partition(".")
    columns = ", ".join(
        f"`{field.name}` {field.dataType.simpleString()}" for field in spark_schema(declared).fields
    )
    spark.sql(f"create database if not exists `{schema}`")
    spark.sql(
        f"create table if not exists `{schema}`.`{table}` ({columns}) using parquet "
        f"partitioned by ({PARTITION}) location '{folder.as_posix()}'"
    )
    spark.sql(f"msck repair table `{schema}`.`{table}`")


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _existing_columns(con: duckdb.DuckDBPyConnection, table: SourceTable) -> dict[str, str]:
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [table.schema, table.table],
    ).fetchall()
    return {str(name): str(dtype) for name, dtype in rows}


def _select_list(columns: Sequence[tuple[str, str]]) -> str:
    """The columns as DuckDB writes them for Spark: timestamps as UTC instants."""
    items = []
    for name, dtype in columns:
        quoted = _quote(name)
        if dtype.strip().lower() in ("timestamp", "timestamp without time zone"):
            items.append(f"cast({quoted} as timestamptz) as {quoted}")
        else:
            items.append(quoted)
    return ", ".join(items)


def _copy_query(con: duckdb.DuckDBPyConnection, table: SourceTable) -> tuple[str, bool]:
    """The query DuckDB writes for the table, and whether the warehouse has it."""
    existing = _existing_columns(con, table)
    if existing:
        return (
            f"select {_select_list(list(existing.items()))} "
            f"from {_quote(table.schema)}.{_quote(table.table)}",
            True,
        )
    empty = ", ".join(f"cast(null as {dtype}) as {_quote(name)}" for name, dtype in table.columns)
    return f"select {_select_list(table.columns)} from (select {empty}) where false", False


def load_from_duckdb(
    warehouse: Path | str,
    home: Path | str | None = None,
    *,
    session: SparkSession | None = None,
    keep_recorded: bool = False,
    skip: Collection[str] = (),
) -> list[LoadedTable]:
    """Replace every dbt source table under Spark's `home` with the warehouse's copy.

    ``keep_recorded``: leave the tables runs record on Spark (RECORDED) as they are where
    Spark has them; ``skip``: tables (schema.table) written on Spark some other way, such
    as the raw tables an ingest on Spark wrote (switchboard.spark.stages). Opens the
    warehouse read-only (close other connections to it first).
    Returns what was loaded, one entry per table.
    """
    spark = session if session is not None else local_session(home)
    loaded: list[LoadedTable] = []
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # A naive timestamp is UTC: the cast to timestamptz must not shift it.
        con.execute("set TimeZone = 'UTC'")
        for table in source_tables():
            if keep_recorded and table.name in RECORDED and spark.catalog.tableExists(table.name):
                continue
            if table.name in skip:
                continue
            loaded.append(_load_table(spark, con, table, table_folder(home, table.name)))
    finally:
        con.close()
    return loaded


def write_parquet(
    con: duckdb.DuckDBPyConnection, table: SourceTable, folder: Path
) -> tuple[int, bool]:
    """Have DuckDB write the table's rows as Parquet into the empty or missing ``folder``:
    one file, or one folder per run (``run_id=<run_id>/``, the column itself left to the
    folder name) for the RUN_TABLES. Returns the rows written and whether the warehouse
    has the table."""
    query, found = _copy_query(con, table)
    counted = con.execute(f"select count(*) from ({query})").fetchone()
    rows = int(counted[0]) if counted else 0
    if table.name in RUN_TABLES:
        if rows:
            folder.parent.mkdir(parents=True, exist_ok=True)  # DuckDB makes the last level only
            con.execute(
                f"copy ({query}) to '{folder}' (format parquet, partition_by ({PARTITION}))"
            )
        folder.mkdir(parents=True, exist_ok=True)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy ({query}) to '{folder / 'data.parquet'}' (format parquet)")
    return rows, found


def _load_table(
    spark: SparkSession, con: duckdb.DuckDBPyConnection, table: SourceTable, folder: Path
) -> LoadedTable:
    spark.sql(f"create database if not exists `{table.schema}`")
    spark.sql(f"drop table if exists `{table.schema}`.`{table.table}`")
    shutil.rmtree(folder, ignore_errors=True)
    rows, found = write_parquet(con, table, folder)
    if table.name in RUN_TABLES:
        create_run_table(spark, table.name, folder)
    else:
        spark.sql(
            f"create table `{table.schema}`.`{table.table}` using parquet "
            f"location '{folder.as_posix()}'"
        )
    return LoadedTable(table.name, rows, found)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m switchboard.spark.load",
        description="Copy the dbt sources of a DuckDB warehouse into Spark tables.",
    )
    parser.add_argument("warehouse", type=Path, help="the DuckDB warehouse file")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="the Spark home (tables and metastore); default $SWITCHBOARD_SPARK_HOME "
        "or ./spark-warehouse",
    )
    parser.add_argument(
        "--keep-recorded",
        action="store_true",
        help="leave the routing tables runs record on Spark (decisions, conflicts, alerts, "
        "rep_state, round_robin) as they are where Spark has them",
    )
    args = parser.parse_args(argv)
    if not args.warehouse.is_file():
        parser.error(f"no warehouse file at {args.warehouse}")
    for table in load_from_duckdb(args.warehouse, args.home, keep_recorded=args.keep_recorded):
        note = "" if table.from_warehouse else " (not in the warehouse: created empty)"
        print(f"{table.name}: {table.rows} rows{note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
