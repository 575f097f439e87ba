"""Each flow end to end through Prefect on a generated org: decisions, alerts, outbox,
idempotency and guards. Crash recovery: test_reliability.py; later runs on a routed
warehouse: test_flows_later_runs.py; dry runs (what-ifs): test_whatif.py."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.departure_redistribution import departure_redistribution
from flows.hourly_routing import hourly_routing
from switchboard.guards import GuardTripped, previous_availability
from switchboard.summary import RunSummary
from tests.e2e.conftest import AS_OF, copy_warehouse

pytestmark = pytest.mark.e2e


def q(warehouse: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def run_hourly(org: Path, tmp: Path, **kw: object) -> RunSummary:
    kw.setdefault("as_of", AS_OF.isoformat())
    return hourly_routing(
        snapshot=str(org), warehouse=str(tmp / "w.duckdb"), outbox=str(tmp / "outbox"), **kw
    )


def test_hourly_routes_the_stories_and_publishes_once(
    org: Path, clean_hourly: tuple[Path, str], tmp_path: Path
) -> None:
    """The session's hourly run of `org` at AS_OF (routed_org, read as it is), then the
    same export again on a copy of its warehouse and outbox."""
    routed, run_id = clean_hourly
    wh = routed / "w.duckdb"
    d = q(wh, "select * from routing.decisions")
    assert d.height > 0 and set(d["run_id"]) == {run_id}
    # Every record decided once; nothing unassigned.
    assert d.select(pl.struct("record_type", "record_id").is_unique().all()).item()
    assert d.filter(pl.col("owner_id").is_null() & pl.col("queue").is_null()).is_empty()

    acme = d.filter(pl.col("record_id") == "LEAD-ACME-CA").row(0, named=True)
    assert (acme["owner_id"], acme["rule"], acme["conflict"]) == (
        "REP-DANA",
        "open_opportunity",
        True,
    )
    acme_conflicts = q(
        wh,
        "select conflict_type, candidates from routing.conflicts where record_id = 'LEAD-ACME-CA'",
    )
    assert "multi_territory" in acme_conflicts["conflict_type"].to_list()
    globex = d.filter(pl.col("record_id") == "ACC-GLOBEX-EU").row(0, named=True)
    assert (globex["owner_id"], globex["rule"]) == ("REP-NAMED", "named_parent")
    assert d.filter(pl.col("owner_id") == "REP-LEAVE").is_empty()
    territory = d.filter(pl.col("rule") == "territory")
    assert territory.filter(pl.col("owner_id") == "REP-OVER").is_empty()
    assert territory.filter(pl.col("owner_id") == "REP-LIGHT").height > 0
    leaver = d.filter(pl.col("previous_owner_id") == "REP-LEAVER")
    assert set(leaver["rule"]) >= {"manager_review", "territory_pool"}
    assert leaver.filter(pl.col("rule") == "manager_review")["owner_id"].unique().to_list() == [
        "REP-LEAVER"
    ]
    assert (
        leaver.filter(pl.col("rule") != "manager_review")["owner_id"]
        .drop_nulls()
        .is_in(["REP-LEAVER"])
        .sum()
        == 0
    )

    assert sorted(p.name for p in (routed / "outbox").iterdir()) == [run_id]
    folder = routed / "outbox" / run_id
    rows = list(csv.DictReader((folder / "reassignments.csv").open()))
    moved = d.filter(pl.col("rule") != "manager_review")
    assert len(rows) == moved.height
    alerts = [json.loads(x) for x in (folder / "alerts.jsonl").read_text().splitlines()]
    handoffs = [a for a in alerts if a["type"] == "pipeline_handoff"]
    assert len(handoffs) == leaver.filter(pl.col("rule") == "manager_review").height
    assert {a["recipient_id"] for a in handoffs} == {"REP-MGR-EAST"}
    assert "routed" in (folder / "summary.md").read_text()

    # Same snapshot again: nothing new is decided or published.
    copy = copy_warehouse(wh, tmp_path)
    shutil.copytree(routed / "outbox", tmp_path / "outbox")
    again = run_hourly(org, tmp_path)
    assert again.run_id == run_id and again.records == d.height
    assert "nothing new" in again.message
    assert q(copy, "select count(*) n from routing.decisions")["n"][0] == d.height
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == [run_id]
    assert (tmp_path / "outbox" / run_id / "reassignments.csv").read_bytes() == (
        folder / "reassignments.csv"
    ).read_bytes()


def test_departure_redistributes_a_named_reps_book(org: Path, tmp_path: Path) -> None:
    accounts = pl.read_csv(org / "accounts.csv", infer_schema=False)
    leaver = "REP-DANA"  # active in HR: the command acts before HR shows the departure
    book = accounts.filter(pl.col("owner_id") == leaver).height
    summary = departure_redistribution(
        snapshot=str(org),
        rep=leaver,
        effective=AS_OF.isoformat(),
        warehouse=str(tmp_path / "w.duckdb"),
        outbox=str(tmp_path / "outbox"),
    )
    d = q(tmp_path / "w.duckdb", "select * from routing.decisions")
    mine = d.filter(pl.col("record_type") == "account")
    assert mine.height == book and (mine["previous_owner_id"] == leaver).all()
    # ACC-ACME has the $180K open opportunity: kept for manager review, not moved.
    acme = mine.filter(pl.col("record_id") == "ACC-ACME").row(0, named=True)
    assert (acme["rule"], acme["owner_id"]) == ("manager_review", leaver)
    moved = mine.filter(pl.col("rule") != "manager_review")
    assert moved["owner_id"].drop_nulls().is_in([leaver]).sum() == 0
    assert summary.by_rule.get("manager_review", 0) >= 1


def test_truncated_hr_export_trips_the_guard(org: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    hr = pl.read_csv(snap / "hr.csv", infer_schema=False)
    hr.head(10).write_csv(snap / "hr.csv")
    with pytest.raises(GuardTripped, match="max_invalid_rep_share"):
        run_hourly(snap, tmp_path)
    wh = tmp_path / "w.duckdb"
    assert q(wh, "select count(*) n from routing.decisions")["n"][0] == 0
    assert q(wh, "select status from routing.runs")["status"].to_list() == ["stopped"]
    (folder,) = (tmp_path / "outbox").iterdir()
    alerts = [json.loads(x) for x in (folder / "alerts.jsonl").read_text().splitlines()]
    assert [a["type"] for a in alerts] == ["guard_tripped"]
    assert list(csv.DictReader((folder / "reassignments.csv").open())) == []


def test_the_invalid_rep_guard_compares_with_the_last_published_run(
    routed_org: Path, org: Path, tmp_path: Path
) -> None:
    """The availability snapshot read at the last published run's as-of is what that run
    saw of the reps; a later truncated HR export is judged against it."""
    wh = copy_warehouse(routed_org, tmp_path)
    later = AS_OF + timedelta(hours=1)
    con = duckdb.connect(str(wh), read_only=True)
    try:
        history = previous_availability(con, later)
        seen = con.sql("select rep_id, availability from marts.dim_reps").pl()
    finally:
        con.close()
    assert history is not None and history.as_of == AS_OF
    assert history.reps.collect().sort("rep_id").equals(seen.sort("rep_id"))

    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    pl.read_csv(snap / "hr.csv", infer_schema=False).head(10).write_csv(snap / "hr.csv")
    with pytest.raises(GuardTripped, match=r"since the last published run \(2026-11-23 09:00\)"):
        # max_row_drop would stop it first, on the file alone
        run_hourly(snap, tmp_path, as_of=later.isoformat(), accept_guards=["max_row_drop"])
