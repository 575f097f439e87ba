"""Reports on a routed org: the CLI tables and the HTML page (in headless Chromium:
test_report_browser.py), and a what-if that leaves the real warehouse untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from switchboard.cli import app
from switchboard.whatif import whatif

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def routed(routed_org: Path) -> Path:
    return routed_org  # read only: the what-if works on a copy and must leave it as it is


def test_report_commands_print_tables_and_write_the_page(routed: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "out" / "r.html"
    for kind, expected in (
        ("routing", "Records routed by rule"),
        ("workload", "Workload index per rep"),
        ("conflicts", "Suggested rule changes"),
        ("coverage", "Records no territory matches"),
    ):
        result = runner.invoke(
            app,
            [
                "report",
                kind,
                "--warehouse",
                str(routed),
                "--since",
                "2026-11-01",
                "--html",
                str(out),
            ],
        )
        assert result.exit_code == 0, result.output
        assert expected in result.output
        if kind == "workload":
            assert "Territory fairness, last 7 days (largest drift first)" in result.output
        if kind == "coverage":  # the plan of the latest build, not a window
            assert "territory plan of the latest build" in result.output
            assert "records match no territory" in result.output
        else:
            assert "window: since 2026-11-01" in result.output
    page = out.read_text(encoding="utf-8")
    assert page.count('<figure class="chart"') >= 5 and "<script src=" not in page
    assert "<h2>Territory coverage</h2>" in page
    assert "<h2>Territory fairness</h2>" in page and 'id="fairness-members"' in page
    bad = runner.invoke(app, ["report", "nonsense", "--warehouse", str(routed)])
    assert bad.exit_code != 0


def test_whatif_with_a_lower_high_water_sends_more_to_overflow_and_publishes_nothing(
    org: Path, routed: Path, tmp_path: Path
) -> None:
    digest = hashlib.sha256(routed.read_bytes()).hexdigest()
    con = duckdb.connect(str(routed), read_only=True)
    try:
        runs = con.sql("select count(*) from routing.runs").fetchall()[0][0]
    finally:
        con.close()
    tight = tmp_path / "tight.yml"
    tight.write_text("workload:\n  high_water: 40\n  release: 35\n", encoding="utf-8")

    diff = whatif(org, routed, config_path=tight).diff

    assert diff.overflow_after > diff.overflow_before
    assert diff.newly_overflowing, "a high-water mark of 40 should stop reps taking records"
    assert diff.moves.height > 0 and diff.per_rep.height > 0
    assert f"overflow {diff.overflow_before} → {diff.overflow_after} records" in diff.headline()
    # Nothing published: the real warehouse is byte-for-byte what it was.
    assert hashlib.sha256(routed.read_bytes()).hexdigest() == digest
    con = duckdb.connect(str(routed), read_only=True)
    try:
        assert con.sql("select count(*) from routing.runs").fetchall()[0][0] == runs
    finally:
        con.close()


def test_routing_log_marts_show_the_published_run_with_names(routed: Path) -> None:
    """The hourly run's decisions, recorded after its dbt build, are in the views at once."""
    con = duckdb.connect(str(routed), read_only=True)
    try:
        decisions = con.sql("select count(*) from routing.decisions").fetchall()[0][0]
        conflicts = con.sql("select count(*) from routing.conflicts").fetchall()[0][0]
        log = con.sql("select * from marts.fct_routing_decisions").pl()
        logged = con.sql("select * from marts.fct_routing_conflicts").pl()
    finally:
        con.close()
    assert decisions > 0 and log.height == decisions
    assert conflicts > 0 and logged.height == conflicts
    assert set(log["run_status"]) == {"published"} and set(log["run_mode"]) == {"hourly"}
    # every routed record is in the snapshot: each has a name and a time to owner
    assert log["record_name"].null_count() == 0
    assert log["minutes_to_owner"].null_count() == 0
    owned = log.filter(log["owner_id"].is_not_null())
    assert owned["owner_name"].null_count() == 0 and owned["owner_team"].null_count() == 0
    leaver = log.filter(log["previous_owner_id"] == "REP-LEAVER")
    assert leaver.height > 0 and set(leaver["previous_owner_name"]) == {"Pat Leaver"}
    moved = leaver.filter(leaver["rule"] != "manager_review")
    assert moved["is_reassignment"].all()
    assert not leaver.filter(leaver["rule"] == "manager_review")["is_reassignment"].any()
    assert logged["record_name"].null_count() == 0


def test_territory_fairness_mart_adds_up_and_shows_the_drift_story(routed: Path) -> None:
    """fct_territory_fairness over the published run: every territory's member rows sum to
    its picks in each window, the expected records to the same total, and its picks are the
    territory decisions of the ledger; the demo's overload territory drifted (its
    returning rep, REP-LIGHT, took most of its picks)."""
    con = duckdb.connect(str(routed), read_only=True)
    try:
        fairness = con.sql("select * from marts.fct_territory_fairness").pl()
        picks = con.sql("""
            select decisions.territory_id, count(distinct record_type || record_id) as picks
            from routing.decisions join marts.dim_territory_members
                on decisions.territory_id = dim_territory_members.territory_id
                and decisions.owner_id = dim_territory_members.rep_id
            where rule = 'territory' group by all""").pl()
        members = con.sql("select count(*) from marts.dim_territory_members").fetchall()[0][0]
    finally:
        con.close()
    assert fairness.height == 2 * members
    assert set(fairness["window_days"]) == {7, 30}
    totals = fairness.group_by("territory_id", "window_days").agg(
        records=pl.col("records").sum(),
        expected=pl.col("expected_records").sum(),
        share=pl.col("expected_share").sum(),
        total=pl.col("territory_records").first(),
        members=pl.len(),
        max_drift=pl.col("territory_max_abs_drift_records").first(),
        largest=pl.col("drift_records").abs().max(),
    )
    assert (totals["records"] == totals["total"]).all()
    staffed = totals.filter(pl.col("share").is_not_null())
    assert staffed.height > 0
    assert ((staffed["expected"] - staffed["total"]).abs() < 1e-4).all()
    assert ((staffed["share"] - 1).abs() < 1e-4).all()
    assert ((totals["max_drift"] - totals["largest"]).abs() < 1e-6).all()
    # the one run is in both windows, so both count the ledger's territory picks
    ledger = dict(picks.iter_rows())
    for window in (7, 30):
        counted = totals.filter(pl.col("window_days") == window)
        assert dict(counted.select("territory_id", "total").iter_rows()) == {
            tid: ledger.get(tid, 0) for tid in counted["territory_id"]
        }
    light = fairness.filter(
        (pl.col("rep_id") == "REP-LIGHT")
        & (pl.col("window_days") == 7)
        & (pl.col("territory_records") > 0)
    )
    assert light.height == 1
    row = light.row(0, named=True)
    assert row["available_days"] == 4 and row["records"] > row["territory_records"] / 2
    assert row["drift_records"] > 2 + 0.1 * row["expected_records"]
