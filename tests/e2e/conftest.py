"""End-to-end set-up: one Prefect test harness and one generated org per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

AS_OF = datetime(2026, 11, 23, 9, 0)


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo org (the stories included), written once and never modified."""
    from switchboard.generate import generate_org

    out = tmp_path_factory.mktemp("org")
    generate_org(out, accounts=800, reps=60, seed=11, as_of=AS_OF)
    return out


@pytest.fixture(scope="session")
def routed_org(org: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse after one published hourly run of `org` at AS_OF. Read it as it is;
    copy the file (`copy_warehouse`) to run anything more on it."""
    from flows.hourly_routing import hourly_routing

    tmp = tmp_path_factory.mktemp("routed")
    summary = hourly_routing(snapshot=str(org), warehouse=str(tmp / "w.duckdb"),
                             outbox=str(tmp / "outbox"), as_of=AS_OF.isoformat())
    assert summary.status == "published"
    return tmp / "w.duckdb"


def copy_warehouse(source: Path, folder: Path) -> Path:
    """A copy of a warehouse file to change (DuckDB checkpoints on close: one file)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copyfile(source, target)
    return target


@pytest.fixture(scope="session")
def clean_hourly(routed_org: Path) -> tuple[Path, str]:
    """routed_org's folder (w.duckdb, outbox/) and the run_id of its one published run."""
    con = duckdb.connect(str(routed_org), read_only=True)
    try:
        (run_id,), = con.execute(
            "select run_id from routing.runs where status = 'published'").fetchall()
    finally:
        con.close()
    return routed_org.parent, run_id


def q(warehouse: Path, sql: str, params: list[object] | None = None) -> pl.DataFrame:
    """A read-only query on a test's warehouse file, as a DataFrame."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql, params=params).pl()
    finally:
        con.close()
