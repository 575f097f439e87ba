"""Every table switchboard.tables declares is in the warehouse after a routing run (those
created on demand once their module's ensure_tables ran), with the columns its module
declares."""

from __future__ import annotations

from pathlib import Path

import duckdb

from switchboard import notify, tables
from tests.e2e.conftest import copy_warehouse


def _columns(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    present: dict[str, set[str]] = {}
    for schema, name, column in con.execute(
        "select table_schema, table_name, column_name from information_schema.columns"
    ).fetchall():
        present.setdefault(f"{schema}.{name}", set()).add(column)
    return present


def test_every_declared_table_exists_with_its_columns(routed_org: Path, tmp_path: Path) -> None:
    con = duckdb.connect(str(copy_warehouse(routed_org, tmp_path)))
    try:
        after_run = _columns(con)
        notify.ensure_tables(con)  # the first delivery to a sink
        present = _columns(con)
    finally:
        con.close()
    missing = [t.name for t in tables.TABLES if not t.on_demand and t.name not in after_run]
    assert not missing, f"declared but not written by a run: {missing}"
    assert [t.name for t in tables.TABLES if t.name not in present] == []
    for table in tables.TABLES:
        declared = table.columns()
        if declared is not None:
            assert set(declared) <= present[table.name], table.name
