"""kill -9 in the middle of a run's dbt build: the run is left 'started'; the next run
closes it as 'abandoned' and completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from flows.hourly_routing import hourly_routing
from tests.e2e.conftest import AS_OF, with_one_new_account

pytestmark = pytest.mark.e2e
PATIENCE = 300.0  # seconds for a fresh process to import everything and reach dbt


def runs(warehouse: Path) -> dict[str, tuple[str, str | None]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select run_id, status, message from routing.runs").fetchall()
    finally:
        con.close()
    return {run_id: (status, message) for run_id, status, message in rows}


def kill_during_dbt_build(org: Path, warehouse: Path, outbox: Path) -> None:
    """Run `switchboard run hourly` in its own process and SIGKILL it once dbt is writing
    the warehouse (its progress line says the build began, then DuckDB's WAL appears)."""
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from switchboard.cli import main; main()",
            "run",
            "hourly",
            "--snapshot",
            str(org),
            "--warehouse",
            str(warehouse),
            "--outbox",
            str(outbox),
            "--as-of",
            AS_OF.isoformat(),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + PATIENCE
        for line in process.stdout:
            if "dbt build" in line:
                break
            assert time.monotonic() < deadline, "the run never reached dbt build"
        else:
            pytest.fail(f"the run ended before dbt build (exit {process.wait()})")
        wal = Path(f"{warehouse}.wal")
        while not wal.exists():
            assert process.poll() is None, "the run ended before dbt wrote anything"
            assert time.monotonic() < deadline, "dbt never wrote the warehouse"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_run_killed_during_dbt_build_is_closed_as_abandoned_by_the_next(
    org: Path, tmp_path: Path
) -> None:
    warehouse, outbox = tmp_path / "w.duckdb", tmp_path / "outbox"
    kill_during_dbt_build(org, warehouse, outbox)
    ((killed, (status, _)),) = runs(warehouse).items()
    assert status == "started"

    # The CRM exported again meanwhile: other inputs, so the killed run is not resumed.
    snapshot = with_one_new_account(org, tmp_path / "snap")
    summary = hourly_routing(
        snapshot=str(snapshot),
        warehouse=str(warehouse),
        outbox=str(outbox),
        as_of=AS_OF.isoformat(),
    )
    assert summary.status == "published" and summary.records > 0
    ledger = runs(warehouse)
    assert ledger[summary.run_id] == ("published", None)
    status, message = ledger[killed]
    assert status == "abandoned"
    assert message is not None and f"when run {summary.run_id} took the warehouse" in message
    assert sorted(p.name for p in outbox.iterdir()) == [summary.run_id]
