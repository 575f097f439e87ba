"""End-to-end set-up: one Prefect test harness per worker process; one generated org and
one hourly run of it per test session, shared by the xdist workers."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
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


def _shared(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A folder every xdist worker of this test session sees (next to the workers' own base
    temp folders), or this process's own without xdist."""
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / f"shared-{name}"


@contextmanager
def _build_once(folder: Path) -> Iterator[bool]:
    """Under a lock the workers share: yields True when `folder` still has to be built
    (it is then empty; the caller builds it), False when another worker built it. A worker
    that died while building left no marker: the next one builds it again."""
    done = folder.with_name(folder.name + ".done")
    with open(folder.with_name(folder.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.exists():
            yield False
            return
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        yield True
        done.touch()


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo org (the stories included), written once per test session (one folder
    for every xdist worker) and never modified."""
    from switchboard.generate import generate_org

    out = _shared(tmp_path_factory, "org")
    with _build_once(out) as build:
        if build:
            generate_org(out, accounts=800, reps=60, seed=11, as_of=AS_OF)
    return out


@pytest.fixture(scope="session")
def routed_org(org: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse after one published hourly run of `org` at AS_OF. Read it as it is;
    copy the file (`copy_warehouse`) to run anything more on it. The run is made once per
    test session; each worker gets its own copy of the warehouse and outbox."""
    from flows.hourly_routing import hourly_routing

    shared = _shared(tmp_path_factory, "routed")
    with _build_once(shared) as build:
        if build:
            summary = hourly_routing(
                snapshot=str(org),
                warehouse=str(shared / "w.duckdb"),
                outbox=str(shared / "outbox"),
                as_of=AS_OF.isoformat(),
            )
            assert summary.status == "published"
    tmp = tmp_path_factory.mktemp("routed")
    shutil.copytree(shared, tmp, dirs_exist_ok=True)
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
        ((run_id,),) = con.execute(
            "select run_id from routing.runs where status = 'published'"
        ).fetchall()
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


def with_one_new_account(org: Path, folder: Path) -> Path:
    """A copy of the export with one new account, created an hour before AS_OF."""
    shutil.copytree(org, folder)
    accounts = pl.read_csv(folder / "accounts.csv", infer_schema=False)
    new = {c: None for c in accounts.columns} | {
        "account_id": "ACC-RELIABILITY-NEW",
        "name": "Reliability Newco",
        "created_at": (AS_OF - timedelta(hours=1)).isoformat(),
    }
    pl.concat([accounts, pl.DataFrame([new], schema=accounts.schema)]).write_csv(
        folder / "accounts.csv"
    )
    return folder
