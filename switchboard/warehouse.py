"""The DuckDB warehouse: one connection, table reads as LazyFrames, Arrow writes, a run lock.

SQL transformations live in dbt. This module only moves frames in and out of tables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import duckdb
import polars as pl

SCHEMAS = ("raw", "reference", "staging", "intermediate", "marts", "routing")


class WarehouseLocked(RuntimeError):
    """Another Switchboard run holds the warehouse."""


def connect(path: Path | str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating it and its schemas on first use."""
    path = Path(path)
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")
    return con


def _quote(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, _, table = name.rpartition(".")
    # fetchall, not fetchone: DuckDB 2.0 keeps a half-read result open on the connection.
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema or "main", table],
    ).fetchall()
    return bool(rows and rows[0][0])


def read_table(
    con: duckdb.DuckDBPyConnection, name: str, columns: list[str] | None = None
) -> pl.LazyFrame:
    """A table as a LazyFrame (materialised through Arrow, zero-copy where possible)."""
    cols = ", ".join(f'"{c}"' for c in columns) if columns else "*"
    return con.sql(f"select {cols} from {_quote(name)}").pl().lazy()


def write_table(
    con: duckdb.DuckDBPyConnection,
    name: str,
    frame: pl.DataFrame,
    mode: Literal["replace", "append"] = "replace",
) -> int:
    """Write a frame to a table through Arrow; returns the rows written."""
    arrow = frame.to_arrow()  # noqa: F841 - referenced by name in the SQL below
    target = _quote(name)
    if mode == "replace" or not table_exists(con, name):
        con.execute(f"create or replace table {target} as select * from arrow")
    else:
        add_missing_columns(con, name, frame.schema)
        con.execute(f"insert into {target} by name select * from arrow")
    return frame.height


def add_missing_columns(
    con: duckdb.DuckDBPyConnection, name: str, schema: Mapping[str, pl.DataType]
) -> list[str]:
    """Add to an existing table the columns of ``schema`` it lacks (a warehouse written by an
    earlier version); returns their names. Existing rows read NULL there."""
    schema_name, _, table = name.rpartition(".")
    have = {
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ?",
            [schema_name or "main", table],
        ).fetchall()
    }
    added = [column for column in schema if column not in have]
    for column in added:
        con.execute(f'alter table {_quote(name)} add column "{column}" {_sql_type(schema[column])}')
    return added


def _sql_type(dtype: pl.DataType) -> str:
    """DuckDB's name for a Polars type, through an empty Arrow table."""
    con = duckdb.connect()
    try:
        con.register("probe", pl.DataFrame(schema={"c": dtype}).to_arrow())
        return str(con.execute("select c from probe").description[0][1])
    finally:
        con.close()


@contextmanager
def run_lock(warehouse: Path | str, wait_seconds: float = 0) -> Iterator[None]:
    """Hold an exclusive lock beside the warehouse for the length of a run.

    DuckDB allows one writer per file; two runs at once must not interleave their
    stages. The second run waits up to ``wait_seconds`` and then raises WarehouseLocked,
    naming the holder's pid (written into the lock file). The lock is the operating
    system's (flock on Linux and macOS, LockFileEx on Windows, through filelock), so a
    holder that dies, however it dies, releases it.
    """
    from filelock import FileLock, Timeout

    lock_path = Path(f"{warehouse}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)

    def name_the_holder(fd: int) -> None:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()}".encode(), 0)
        except OSError as exc:  # a full disk: name the file, as open() would have
            raise OSError(exc.errno, exc.strerror, str(lock_path)) from exc

    lock = FileLock(
        lock_path,
        timeout=wait_seconds,
        poll_interval=0.2,
        thread_local=False,
        preserve_lock_file=True,
        on_acquired=name_the_holder,
    )
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = lock_path.read_text(encoding="utf-8").strip()
        except OSError:
            holder = ""
        raise WarehouseLocked(
            f"warehouse {warehouse} is in use by {holder or 'another process'}; "
            "wait for it to finish or pass --wait"
        ) from None
    try:
        yield
    finally:
        lock.release()


def ensure_routing_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the routing.* tables (empty) so dbt sources and readers always find them, and
    add the columns a newer schema declares to the tables of an existing warehouse."""
    from switchboard import tables
    from switchboard.engine.schema import ROUTING_TABLES, empty

    # The engine's tables, and every other routing table a dbt model reads (routing.builds).
    sources = {t.name: t.columns() for t in tables.dbt_source_tables("routing")}
    declared = {**ROUTING_TABLES, **{n: c for n, c in sources.items() if c is not None}}
    con.execute("create schema if not exists routing")
    for name, schema in declared.items():
        if not table_exists(con, name):
            write_table(con, name, empty(schema))
        else:
            add_missing_columns(con, name, schema)


def query(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[object] | None = None
) -> pl.DataFrame:
    """A small parameterised read (ledger lookups, one run's rows) as a DataFrame."""
    return con.sql(sql, params=params).pl()
