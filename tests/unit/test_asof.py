"""The time a run acts at: options that are not a time, an as-of far ahead of the clock and
an as-of before the export stop the run in one line, before anything slow starts."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from switchboard import cli, pipeline
from switchboard.asof import AsOfError, check_not_before_export, check_not_future, parse_time
from switchboard.cli import data, reports, routing
from switchboard.config import RoutingConfig
from switchboard.pipeline.context import connection, parse_as_of, utc_now
from switchboard.pipeline.marts import check_export_time
from switchboard.summary import RunSummary

SALESFORCE = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce_snapshot"
NOW = datetime(2026, 11, 23, 9, 0)
runner = CliRunner()


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T09:00:00", datetime(2026, 11, 23, 9, 0)),
        ("2026-11-23", datetime(2026, 11, 23)),
        ("2026-11-23T10:00:00+01:00", datetime(2026, 11, 23, 9, 0)),
        ("2026-11-23T09:00:00Z", datetime(2026, 11, 23, 9, 0)),
    ],
)
def test_iso_dates_and_times_are_read_as_naive_utc(text: str, expected: datetime) -> None:
    assert parse_time(text) == expected
    assert parse_as_of(text) == expected


@pytest.mark.parametrize("text", ["next tuesday", "yesterday", "23/11/2026", ""])
def test_anything_else_names_the_option_and_the_format(text: str) -> None:
    with pytest.raises(AsOfError) as caught:
        parse_time(text, "--since")
    message = str(caught.value)
    assert message.startswith(f"--since {text!r} is not a date or time")
    assert "2026-11-23T09:00:00" in message and "\n" not in message


# ---------------------------------------------------------------- the clock


def test_an_as_of_up_to_a_day_ahead_of_the_clock_is_accepted() -> None:
    check_not_future(NOW + timedelta(hours=23), now=NOW)
    check_not_future(NOW - timedelta(days=3650), now=NOW)  # the past is the export's business


def test_an_as_of_more_than_a_day_ahead_stops_the_run() -> None:
    with pytest.raises(
        AsOfError,
        match=r"--effective 2026-11-24 09:00:01 is more than a day "
        r"after now \(2026-11-23 09:00:00 UTC\)",
    ):
        check_not_future(NOW + timedelta(days=1, seconds=1), option="--effective", now=NOW)


def test_make_context_refuses_a_future_as_of_unless_allowed(tmp_path: Path) -> None:
    far = (utc_now() + timedelta(days=30)).isoformat()
    common: dict[str, Any] = {
        "snapshot": SALESFORCE,
        "warehouse_path": tmp_path / "w.duckdb",
        "outbox": tmp_path / "outbox",
        "config": RoutingConfig(),
    }
    with pytest.raises(AsOfError, match=r"^--as-of .* is more than a day after now"):
        pipeline.make_context(**common, as_of=far)
    with pytest.raises(AsOfError, match=r"^--effective "):
        pipeline.make_context(**common, as_of=far, mode="departure", leaver_rep_ids=("R",))
    with pytest.raises(AsOfError, match=r"^--as-of 'next tuesday' is not a date or time"):
        pipeline.make_context(**common, as_of="next tuesday")
    ctx = pipeline.make_context(**common, as_of=far, allow_backdated=True)
    assert ctx.allow_backdated and ctx.as_of == datetime.fromisoformat(far)
    assert not pipeline.make_context(**common).allow_backdated  # now: nothing to check


# ---------------------------------------------------------------- the export


def test_records_created_up_to_a_day_after_the_as_of_are_normal() -> None:
    # an arrivals pass reads the export after fixing its as-of
    check_not_before_export(NOW, {"accounts": NOW + timedelta(hours=23), "leads": None})


def test_records_created_more_than_a_day_after_the_as_of_stop_the_run() -> None:
    newest = {"accounts": NOW - timedelta(days=1), "leads": NOW + timedelta(days=40)}
    with pytest.raises(AsOfError) as caught:
        check_not_before_export(NOW, newest)
    assert str(caught.value) == (
        "--as-of 2026-11-23 09:00:00 is earlier than the export: leads were created up to "
        "2027-01-02 09:00:00, more than a day later; use the export's time, or pass "
        "--allow-backdated to replay the past"
    )


def test_ingest_stops_before_dbt_on_an_as_of_older_than_the_export(tmp_path: Path) -> None:
    """The Salesforce fixture's accounts were created in January 2024."""
    ctx = pipeline.make_context(
        snapshot=SALESFORCE,
        warehouse_path=tmp_path / "w.duckdb",
        outbox=tmp_path / "outbox",
        config=RoutingConfig(),
        as_of="2023-06-01",
    )
    ctx, todo = pipeline.prepare(ctx)
    assert todo == "route"
    with pytest.raises(
        AsOfError,
        match=r"^--as-of 2023-06-01 00:00:00 is earlier than the "
        "export: accounts were created up to 2024-",
    ):
        pipeline.ingest(ctx)
    with connection(ctx) as con:
        # nothing was decided, and the marts are not marked as built from this export
        assert con.execute("select count(*) from routing.decisions").fetchall() == [(0,)]
        assert con.execute("select count(*) from routing.builds").fetchall() == [(0,)]
        assert con.execute("select status from routing.runs").fetchall() == [("started",)]
        # the same raw, checked for a replay, a departure and the export's own time
        check_export_time(con, replace(ctx, allow_backdated=True))
        check_export_time(con, replace(ctx, mode="departure"))
        check_export_time(con, replace(ctx, as_of=datetime(2024, 3, 1)))
        with pytest.raises(AsOfError):
            check_export_time(con, replace(ctx, mode="territory_change"))


# ---------------------------------------------------------------- the command line


@pytest.fixture
def no_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a command got as far as starting Prefect (every command module
    that runs a flow looks _run_flow up in its own namespace)."""

    def started(call: object) -> object:
        raise AssertionError("the command started a flow")

    for commands in (data, reports, routing):
        monkeypatch.setattr(commands, "_run_flow", started)


def one_line_error(result: Any) -> str:
    assert result.exit_code == cli.EXIT_INPUT, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return str(lines[0])


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (["run", "hourly", "--as-of", "next tuesday"], "error: --as-of 'next tuesday' is not"),
        (["run", "arrivals", "--as-of", "soon"], "error: --as-of 'soon' is not"),
        (
            ["run", "departure", "--rep", "R", "--effective", "friday"],
            "error: --effective 'friday' is not",
        ),
        (
            ["run", "departure", "--rep", "R", "--effective", "2999-01-01"],
            "error: --effective 2999-01-01 00:00:00 is more than a day after now",
        ),
        (
            ["run", "hourly", "--as-of", "2999-01-01"],
            "error: --as-of 2999-01-01 00:00:00 is more than a day after now",
        ),
        (["whatif", "--as-of", "2999-01-01"], "error: --as-of 2999-01-01 00:00:00 is more than"),
        (["report", "routing", "--since", "yesterday"], "error: --since 'yesterday' is not"),
        (["generate", "--out", "x", "--as-of", "noon"], "error: --as-of 'noon' is not"),
    ],
)
def test_a_bad_time_option_fails_in_one_line_before_anything_starts(
    no_flow: None, tmp_path: Path, args: list[str], start: str
) -> None:
    if args[0] in ("run", "whatif"):
        args += ["--snapshot", str(SALESFORCE)]
    if args[0] != "generate":
        args += ["--warehouse", str(tmp_path / "w.duckdb")]
    line = one_line_error(runner.invoke(cli.app, args))
    assert line.startswith(start)
    assert "2026-11-23" in line or "--allow-backdated" in line  # the format, or the way out
    assert not (tmp_path / "w.duckdb").exists()


def test_allow_backdated_reaches_the_flow(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from switchboard import runs

    seen: dict[str, Any] = {}

    def flow(**kwargs: Any) -> RunSummary:
        seen.update(kwargs)
        return RunSummary(run_id="r", mode="hourly", status="published")

    monkeypatch.setattr(runs, "hourly", flow)
    monkeypatch.setattr(routing, "_run_flow", lambda call: call())
    result = runner.invoke(
        cli.app,
        [
            "run",
            "hourly",
            "--snapshot",
            str(SALESFORCE),
            "--warehouse",
            str(tmp_path / "w.duckdb"),
            "--as-of",
            "2999-01-01",
            "--allow-backdated",
        ],
    )
    assert result.exit_code == 0, result.output
    assert seen["as_of"] == "2999-01-01" and seen["allow_backdated"] is True
