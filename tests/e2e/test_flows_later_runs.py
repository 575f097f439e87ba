"""Later runs on the session's routed warehouse (routed_org, copied): a departure that
reuses the day's marts, arrivals passes between hourly runs, the first pass of a new day,
and the later hourly run of a day with its smaller data-test suite."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.departure_redistribution import departure_redistribution
from flows.hourly_routing import hourly_routing
from switchboard.summary import RunSummary
from tests.e2e.conftest import AS_OF, copy_warehouse, q
from tests.e2e.test_flows import run_hourly

pytestmark = pytest.mark.e2e


def test_departure_after_the_hourly_run_reuses_the_days_marts(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    copy_warehouse(routed_org, tmp_path)  # after the hourly run of `org` at AS_OF
    wh = tmp_path / "w.duckdb"
    summary = departure_redistribution(
        snapshot=str(org),
        rep="REP-DANA",
        effective=AS_OF.replace(hour=15).isoformat(),
        warehouse=str(wh),
        outbox=str(tmp_path / "outbox"),
    )
    # Same snapshot, settings and day: no second ingest or dbt build.
    log = q(wh, f"select * from raw.ingest_log where run_id = '{summary.run_id}'")
    assert log.is_empty()
    d = q(wh, f"select * from routing.decisions where run_id = '{summary.run_id}'")
    acme = d.filter(pl.col("record_id") == "ACC-ACME").row(0, named=True)
    assert (acme["rule"], acme["owner_id"]) == ("manager_review", "REP-DANA")
    assert (
        d.filter(pl.col("rule") != "manager_review")["owner_id"]
        .drop_nulls()
        .is_in(["REP-DANA"])
        .sum()
        == 0
    )


def _append_copy(
    path: Path, key: str, source_id: str, new_id: str, minutes: int, **changes: str | None
) -> None:
    """Append to a snapshot CSV a copy of one row under a new id, created AS_OF + minutes."""

    rows = pl.read_csv(path, infer_schema=False)
    copy = rows.filter(pl.col(key) == source_id).with_columns(
        pl.lit(new_id).alias(key),
        created_at=pl.lit((AS_OF + timedelta(minutes=minutes)).isoformat()),
        **{k: pl.lit(v, pl.String) for k, v in changes.items()},
    )
    pl.concat([rows, copy]).write_csv(path)


def test_arrivals_route_the_records_new_since_the_last_run(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    from flows.arrivals import arrivals

    copy_warehouse(routed_org, tmp_path)  # after the hourly run of `org` at AS_OF
    wh = tmp_path / "w.duckdb"
    book = q(wh, "select count(*) as n from marts.dim_accounts")["n"][0]
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    _append_copy(
        snap / "accounts.csv", "account_id", "ACC-ACME", "ACC-NEW-1", 1, name="Newco", owner_id=None
    )
    _append_copy(snap / "leads.csv", "lead_id", "LEAD-ACME-CA", "LEAD-NEW-1", 1)

    def run(minutes: int) -> RunSummary:
        return arrivals(
            snapshot=str(snap),
            warehouse=str(wh),
            outbox=str(tmp_path / "outbox"),
            as_of=(AS_OF + timedelta(minutes=minutes)).isoformat(),
        )

    summary = run(2)
    d = q(wh, f"select * from routing.decisions where run_id = '{summary.run_id}'")
    assert sorted(d["record_id"].to_list()) == ["ACC-NEW-1", "LEAD-NEW-1"]
    new_account = d.filter(pl.col("record_id") == "ACC-NEW-1").row(0, named=True)
    assert new_account["owner_id"] is not None and new_account["latency_seconds"] == 60.0
    # The new lead is routed like the story lead it copies: to the open opportunity's owner.
    lead = d.filter(pl.col("record_id") == "LEAD-NEW-1").row(0, named=True)
    assert (lead["owner_id"], lead["rule"]) == ("REP-DANA", "open_opportunity")

    # Incremental: only the two new rows were ingested, and the marts gained exactly them.
    log = q(
        wh,
        f"select entity, input_rows, loaded_rows from raw.ingest_log "
        f"where run_id = '{summary.run_id}' order by entity",
    )
    assert log.rows() == [("accounts", 1, 1), ("leads", 2, 1)]

    # The other lead is one the hourly run quarantined, created within the look-back: still
    # not in raw, so the pass checks it again and quarantines it for the same reasons.
    def quarantined(run_id: str) -> set[tuple[int, str]]:
        rows = q(
            wh,
            f"select row_number, expectation from raw.quarantine "
            f"where run_id = '{run_id}' and entity = 'leads'",
        )
        return set(rows.rows())

    hourly_run = q(wh, "select run_id from routing.runs where mode = 'hourly'")["run_id"][0]
    assert quarantined(summary.run_id) and quarantined(summary.run_id) <= quarantined(hourly_run)
    assert q(wh, "select count(*) as n from marts.dim_accounts")["n"][0] == book + 1
    dim = q(wh, "select * from marts.dim_accounts where account_id = 'ACC-NEW-1'")
    acme = q(wh, "select * from marts.dim_accounts where account_id = 'ACC-ACME'")
    assert dim["segment"].to_list() == acme["segment"].to_list()
    assert (
        q(
            wh,
            "select count(*) as n from marts.fct_territory_matches where record_id = 'LEAD-NEW-1'",
        )["n"][0]
        > 0
    )

    # The next pass routes what the export lists that raw lacked, nothing twice: here a
    # record created after the pass's own as-of (already exported when it read the file:
    # it waited no time) ...
    _append_copy(
        snap / "accounts.csv",
        "account_id",
        "ACC-ACME",
        "ACC-NEW-2",
        3,
        name="Laterco",
        owner_id=None,
    )
    _append_copy(
        snap / "accounts.csv",
        "account_id",
        "ACC-ACME",
        "ACC-NEW-3",
        5,
        name="Latestco",
        owner_id=None,
    )
    later = run(4)
    d2 = q(
        wh,
        f"select record_id, latency_seconds from routing.decisions "
        f"where run_id = '{later.run_id}' order by record_id",
    )
    assert d2.rows() == [("ACC-NEW-2", 60.0), ("ACC-NEW-3", 0.0)]
    log = q(
        wh,
        "select record_id, minutes_to_owner from marts.fct_routing_decisions "
        "where record_id in ('ACC-NEW-2', 'ACC-NEW-3') order by record_id",
    )
    assert log.rows() == [("ACC-NEW-2", 1.0), ("ACC-NEW-3", 0.0)]
    assert q(wh, "select count(*) as n from marts.dim_accounts")["n"][0] == book + 3
    # ... and one the CRM exported late, created before the previous pass's as-of.
    _append_copy(
        snap / "accounts.csv", "account_id", "ACC-ACME", "ACC-LATE", 3, name="Lateco", owner_id=None
    )
    last = run(6)
    d3 = q(wh, f"select record_id from routing.decisions where run_id = '{last.run_id}'")
    assert d3["record_id"].to_list() == ["ACC-LATE"]
    assert q(wh, "select count(*) as n from routing.arrival_scope")["n"][0] == 1

    # The next hourly run, on an export where the CRM has not applied the passes' owners
    # yet (the new accounts still unowned): it routes what is new to it and leaves the
    # records the passes decided with the owners they were given.
    _append_copy(
        snap / "accounts.csv",
        "account_id",
        "ACC-ACME",
        "ACC-HOURLY",
        30,
        name="Hourlyco",
        owner_id=None,
    )
    hourly = run_hourly(snap, tmp_path, as_of=(AS_OF + timedelta(hours=1)).isoformat())
    decided = q(wh, f"select record_id from routing.decisions where run_id = '{hourly.run_id}'")
    assert "ACC-HOURLY" in decided["record_id"].to_list()
    assert not set(decided["record_id"]) & {
        "ACC-NEW-1",
        "LEAD-NEW-1",
        "ACC-NEW-2",
        "ACC-NEW-3",
        "ACC-LATE",
    }
    assert q(wh, "select count(*) as n from routing.arrival_scope")["n"][0] == 0


def test_first_arrivals_pass_of_a_day_rebuilds_and_routes_only_new_records(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    """The marts of another day cannot be incremented (the workload index is per day): the
    pass ingests and builds everything, and still decides only the records new to raw."""

    from flows.arrivals import arrivals

    copy_warehouse(routed_org, tmp_path)  # after the hourly run of `org` at AS_OF
    wh = tmp_path / "w.duckdb"
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    _append_copy(
        snap / "accounts.csv",
        "account_id",
        "ACC-ACME",
        "ACC-NEXT-DAY",
        60 * 20,
        name="Nextday",
        owner_id=None,
    )
    summary = arrivals(
        snapshot=str(snap),
        warehouse=str(wh),
        outbox=str(tmp_path / "outbox"),
        as_of=(AS_OF + timedelta(days=1)).isoformat(),
    )
    d = q(wh, f"select record_id from routing.decisions where run_id = '{summary.run_id}'")
    assert d["record_id"].to_list() == ["ACC-NEXT-DAY"]
    log = q(wh, f"select entity, input_rows from raw.ingest_log where run_id = '{summary.run_id}'")
    assert len(log) > 2  # every entity was ingested again
    built = q(wh, "select max(as_of_date) as d from marts.fct_rep_workload")["d"][0]
    assert built == (AS_OF + timedelta(days=1)).date()


def test_the_whole_data_test_suite_runs_in_the_first_run_of_a_day_only(
    routed_org: Path, org: Path, tmp_path: Path
) -> None:
    """Later runs of the day build every model but run only the error-level data tests on
    the marts (dbt_project/selectors.yml); every test's outcome is kept."""

    wh = copy_warehouse(routed_org, tmp_path)
    snap = tmp_path / "snap"
    shutil.copytree(org, snap)
    _append_copy(
        snap / "accounts.csv",
        "account_id",
        "ACC-ACME",
        "ACC-LATER",
        30,
        name="Laterco",
        owner_id=None,
    )
    later = hourly_routing(
        snapshot=str(snap),
        warehouse=str(wh),
        outbox=str(tmp_path / "outbox"),
        as_of=(AS_OF + timedelta(hours=1)).isoformat(),
    )
    assert later.status == "published"
    tests = q(
        wh,
        """
        select runs.as_of, suite, count(*) as tests,
               count(*) filter (where data_tests.status in ('fail', 'error')) as failed,
               list(name) as names
        from routing.data_tests join routing.runs using (run_id)
        group by all order by runs.as_of""",
    )
    first, second = tests.rows(named=True)
    assert (first["suite"], first["failed"]) == ("full", 0) and first["tests"] > 100
    assert (second["suite"], second["failed"]) == ("blocking", 0)
    assert 0 < second["tests"] < first["tests"]
    assert not [name for name in second["names"] if "stg_" in name.split("_ref_")[0]]
