"""The command line: exit codes and one clear line on stderr when a run is stopped."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from switchboard.cli import EXIT_GUARD, EXIT_INPUT, app
from tests.e2e.conftest import AS_OF

pytestmark = pytest.mark.e2e
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
runner = CliRunner()


def test_check_lists_what_would_be_quarantined(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.cli import running

    # Wide enough for the reasons whatever terminal (or none) the test runs in.
    monkeypatch.setattr(running.console, "width", 160)
    result = runner.invoke(
        app,
        [
            "check",
            "--snapshot",
            str(FIXTURES / "broken_snapshot"),
            "--warehouse",
            str(tmp_path / "c.duckdb"),
        ],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    assert "Would be quarantined" in result.output
    assert "'lots'" in result.output and "repeats row 1" in result.output
    assert "first rows" in result.output and "by column and reason" in result.output


def test_missing_required_file_stops_with_one_line(org: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    (snap / "reps.csv").unlink()
    result = runner.invoke(
        app,
        [
            "run",
            "hourly",
            "--snapshot",
            str(snap),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--outbox",
            str(tmp_path / "outbox"),
        ],
    )
    assert result.exit_code == EXIT_INPUT
    assert "reps.csv" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "outbox").exists()


def test_an_as_of_older_than_the_export_stops_before_dbt_with_one_line(
    org: Path, tmp_path: Path
) -> None:
    """The org's records were created up to AS_OF; an as-of months earlier is not its time."""
    result = runner.invoke(
        app,
        [
            "run",
            "hourly",
            "--snapshot",
            str(org),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--outbox",
            str(tmp_path / "outbox"),
            "--as-of",
            "2026-06-01",
        ],
    )
    assert result.exit_code == EXIT_INPUT, result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: --as-of 2026-06-01 00:00:00 is earlier than the export")
    assert "--allow-backdated" in line
    assert "dbt build" not in result.output  # stopped after ingest
    assert not (tmp_path / "outbox").exists()


def _empty(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.head(0)


def _all_terminated(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(status=pl.lit("terminated"), status_start=pl.lit("2026-11-01"))


@pytest.mark.parametrize(
    ("entity", "damage", "guard"),
    [
        # a header-only required file stops at ingest, before anything is loaded
        ("territories", _empty, "empty_export"),
        ("reps", _empty, "empty_export"),
        ("hr", _all_terminated, "no_available_reps"),
    ],
)
def test_broken_exports_trip_a_guard_and_publish_nothing(
    org: Path,
    tmp_path: Path,
    entity: str,
    damage: Callable[[pl.DataFrame], pl.DataFrame],
    guard: str,
) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    damage(pl.read_csv(snap / f"{entity}.csv", infer_schema=False)).write_csv(
        snap / f"{entity}.csv"
    )
    result = runner.invoke(
        app,
        [
            "run",
            "hourly",
            "--snapshot",
            str(snap),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--outbox",
            str(tmp_path / "outbox"),
            "--as-of",
            AS_OF.isoformat(),
        ],
    )
    assert result.exit_code == EXIT_GUARD, result.output
    assert f"guard {guard}" in result.stderr
    (folder,) = (tmp_path / "outbox").iterdir()
    assert (folder / "reassignments.csv").read_text().count("\n") == 1  # header only
    alerts = [json.loads(x) for x in (folder / "alerts.jsonl").read_text().splitlines()]
    assert [a["type"] for a in alerts] == ["guard_tripped"]


def test_check_warehouse_runs_every_data_test_and_keeps_the_outcomes(
    routed_org: Path, tmp_path: Path
) -> None:
    import duckdb

    from switchboard.cli import EXIT_CHECK
    from tests.e2e.conftest import copy_warehouse, q

    wh = copy_warehouse(routed_org, tmp_path)
    ok = runner.invoke(app, ["check", "--warehouse", str(wh)])
    assert ok.exit_code == 0, ok.output
    assert "data tests on" in ok.output
    con = duckdb.connect(str(wh))
    try:  # an account twice in the mart the engine reads
        con.execute("insert into marts.dim_accounts select * from marts.dim_accounts limit 1")
    finally:
        con.close()
    broken = runner.invoke(app, ["check", "--warehouse", str(wh)])
    assert broken.exit_code == EXIT_CHECK
    assert "unique_dim_accounts_account_id" in broken.output
    kept = q(
        wh,
        "select status, count(*) as n from routing.data_tests "
        "where suite = 'on_demand' group by status",
    )
    statuses = dict(kept.rows())
    assert statuses.get("fail", 0) >= 1 and statuses["pass"] > 100
