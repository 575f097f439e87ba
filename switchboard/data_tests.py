"""Which dbt data tests a run builds with, and the kept results of every test that ran.

dbt's data tests guard the project's SQL and the data it reads. The SQL changes only with
a new version or new settings, so the whole suite (163 tests) runs in the first routing
run of each day under a version and settings, and with `switchboard check --warehouse`;
every later run of the day runs only the error-level tests on the marts the engine reads
(dbt_project/selectors.yml), and the Great Expectations checks at the engine's boundary
still run every time. Each test's outcome is kept in routing.data_tests, so an analyst can
see when the suite last passed and what failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from switchboard import tables, warehouse
from switchboard.config import RoutingConfig

if TYPE_CHECKING:
    from switchboard.dbt import NodeResult

TABLE = tables.DATA_TESTS
DATA_TESTS: dict[str, pl.DataType] = {
    "run_id": pl.String(),  # the routing run, or "check" for an on-demand suite
    "suite": pl.String(),  # full | blocking | on_demand
    "suite_key": pl.String(),  # the day, settings and version the suite ran under
    "tested_at": pl.Datetime("us"),
    "unique_id": pl.String(),
    "name": pl.String(),
    "status": pl.String(),  # pass | warn | fail | error | skipped
    "failures": pl.Int64(),
    "message": pl.String(),
}


def full_suite_passed(con: duckdb.DuckDBPyConnection, suite_key: str) -> bool:
    """True when the whole suite already ran under ``suite_key`` without an error-level
    failure (a failing suite stopped its run; the next run tries the whole suite again)."""
    if not warehouse.table_exists(con, TABLE):
        return False
    rows = con.execute(
        f"""select count(*) filter (where status in ('fail', 'error')), count(*)
            from {TABLE} where suite = 'full' and suite_key = ?""",
        [suite_key],
    ).fetchall()
    failed, ran = rows[0]
    return bool(ran) and not failed


_OUTCOME = ("unique_id", "name", "status", "failures", "message")


def outcomes(nodes: Sequence[NodeResult]) -> pl.DataFrame:
    """The data tests among ``nodes``: unique_id, name, status, failures, message."""
    return pl.DataFrame(
        [{k: getattr(n, k) for k in _OUTCOME} for n in nodes if n.resource_type == "test"],
        schema={k: DATA_TESTS[k] for k in _OUTCOME},
    )


def record(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    suite: str,
    suite_key: str,
    nodes: Sequence[NodeResult],
    tested_at: datetime,
) -> int:
    """Append the data tests among ``nodes``; returns how many."""
    frame = outcomes(nodes)
    if frame.is_empty():
        return 0
    frame = frame.with_columns(
        run_id=pl.lit(run_id),
        suite=pl.lit(suite),
        suite_key=pl.lit(suite_key),
        tested_at=pl.lit(tested_at, pl.Datetime("us")),
    ).select(list(DATA_TESTS))
    warehouse.write_table(con, TABLE, frame, mode="append")
    return frame.height


def run_on_demand(warehouse_path: Path, as_of: datetime, config: RoutingConfig) -> pl.DataFrame:
    """Every data test of the project against the warehouse as it is (`switchboard check
    --warehouse`): nothing is rebuilt, every outcome is kept (suite ``on_demand``, run_id
    ``check``), and the outcomes are returned (unique_id, name, status, failures,
    message). A failing test does not raise: the caller reads the statuses."""
    from switchboard import dbt

    try:
        nodes = dbt.test(warehouse_path, as_of, config).nodes
    except dbt.DbtBuildFailed as failed:
        if not failed.failures:  # dbt could not start: not a test outcome
            raise
        nodes = failed.nodes
    con = warehouse.connect(warehouse_path)
    try:
        record(
            con,
            run_id="check",
            suite="on_demand",
            suite_key=f"on_demand|{as_of.date()}",
            nodes=nodes,
            tested_at=datetime.now(UTC).replace(tzinfo=None),
        )
    finally:
        con.close()
    return outcomes(nodes)
