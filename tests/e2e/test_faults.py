"""Faults of the machine through the real command line, in its own process: a full disk,
a read-only warehouse (a one-shot run without a Prefect API), a read-only outbox (a flow
run on a Prefect server). Each is one line on stderr naming the cause and the path, no
traceback, exit code 6."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from switchboard.cli import EXIT_INFRA
from tests.e2e.conftest import AS_OF
from tests.mounts import tmpfs

pytestmark = pytest.mark.e2e


def switchboard(*args: str, orchestrated: bool) -> subprocess.CompletedProcess[str]:
    """The CLI in a fresh process: orchestrated, a flow run on the session's Prefect server
    (no server start-up); else the one-shot run of a CLI without a Prefect API, each stage
    called directly (what `switchboard run` does by default)."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ)
    env.pop("SWITCHBOARD_DEBUG", None)
    env.pop("PREFECT_API_URL", None)
    if orchestrated:
        env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    return subprocess.run(
        [sys.executable, "-c", "from switchboard.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def run_hourly(
    org: Path, warehouse: Path, outbox: Path, *, orchestrated: bool = False
) -> subprocess.CompletedProcess[str]:
    return switchboard(
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
        orchestrated=orchestrated,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == EXIT_INFRA, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_full_disk_under_the_warehouse(org: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "tiny", "size=1m") as tiny:
        line = one_line(run_hourly(org, tiny / "w.duckdb", tmp_path / "outbox"))
    assert line.startswith(f"error: no space left on device writing {tiny}/w.duckdb")
    assert not (tmp_path / "outbox").exists()


def test_a_read_only_warehouse(org: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro") as read_only:
        line = one_line(run_hourly(org, read_only / "w.duckdb", tmp_path / "outbox"))
    assert line.startswith(f"error: read-only file system: {read_only}/w.duckdb")


def test_a_read_only_outbox_stops_publishing_and_keeps_the_decisions(
    org: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    with tmpfs(tmp_path / "ro", "ro") as read_only:
        # Through Prefect: the fault leaves a failed publish task run and flow run behind,
        # and the CLI still says it in one line.
        line = one_line(run_hourly(org, warehouse, read_only / "outbox", orchestrated=True))
    assert line.startswith(f"error: read-only file system: {read_only}/outbox")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        # Recorded, not published: the next run with a writable outbox resumes at publishing.
        assert con.execute("select status from routing.runs").fetchall() == [("decided",)]
        assert con.execute("select count(*) from routing.decisions").fetchall()[0][0] > 0
    finally:
        con.close()
