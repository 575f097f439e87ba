"""Snapshot ingest's checks (switchboard.ingest.validate): quarantine with reasons,
reconciliation, uniqueness, references and activities."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard.ingest import IngestReport, ingest_snapshot
from switchboard.ingest.arrivals import lead_touches
from switchboard.ingest.validate import QUARANTINE_SCHEMA
from switchboard.warehouse import read_table
from tests.snapshots import make_snapshot

from .conftest import BROKEN, CONTRACTS, EXPECTED_QUARANTINE, raw


@pytest.fixture(scope="module")
def broken() -> Iterator[tuple[duckdb.DuckDBPyConnection, IngestReport]]:
    connection = duckdb.connect()
    report = ingest_snapshot(BROKEN, connection, "run-1")
    yield connection, report
    connection.close()


def test_broken_snapshot_quarantines_exactly_the_bad_rows(
    broken: tuple[duckdb.DuckDBPyConnection, IngestReport],
) -> None:
    _, report = broken
    got = report.quarantine.drop("run_id").sort("entity", "row_number").rows()
    assert got == sorted(EXPECTED_QUARANTINE, key=lambda r: (r[0], r[1]))


def test_broken_snapshot_loads_the_good_rows(
    broken: tuple[duckdb.DuckDBPyConnection, IngestReport],
) -> None:
    con, _ = broken
    accounts = raw(con, "accounts")
    assert accounts.select("account_id", "name", "employees", "tier", "_row_number").rows() == [
        ("A1", "Acme Corp", 1200, 1, 1),  # the first A1 stays; its repeat on row 5 is quarantined
        ("A2", "Acme West", 300, 2, 2),
        ("A4", "Lots Ltd", None, 3, 4),  # employees 'lots' cleared
        ("A7", "Seven Tier", 40, None, 7),  # tier 7 cleared
        ("A8", "Good Co", 500, 2, 8),
    ]
    assert raw(con, "hr")["email"].to_list() == ["ada@example.com", "grace@example.com"]
    assert raw(con, "leads")["lead_id"].to_list() == ["L1"]
    assert raw(con, "opportunities")["opportunity_id"].to_list() == ["O1", "O3"]
    assert raw(con, "reps").height == 3


def test_reconciliation_holds_for_every_entity(
    broken: tuple[duckdb.DuckDBPyConnection, IngestReport],
) -> None:
    con, report = broken
    log = read_table(con, "raw.ingest_log").collect()
    assert sorted(log["entity"].to_list()) == sorted(CONTRACTS)
    for row in log.iter_rows(named=True):
        assert row["input_rows"] == row["loaded_rows"] + row["quarantined_rows"], row
        assert row["loaded_rows"] == raw(con, row["entity"]).height
        entity = report[row["entity"]]
        assert (entity.input_rows, entity.loaded_rows, entity.quarantined_rows) == (
            row["input_rows"],
            row["loaded_rows"],
            row["quarantined_rows"],
        )
    accounts = report["accounts"]
    assert (accounts.input_rows, accounts.loaded_rows, accounts.quarantined_rows) == (8, 5, 3)
    assert accounts.source_file == str(BROKEN / "accounts.csv")


def test_quarantine_table_has_exactly_the_documented_columns(
    broken: tuple[duckdb.DuckDBPyConnection, IngestReport],
) -> None:
    con, report = broken
    table = read_table(con, "raw.quarantine").collect()
    assert table.schema == pl.Schema(QUARANTINE_SCHEMA)
    assert_frame_equal(
        table.sort("entity", "row_number"), report.quarantine.sort("entity", "row_number")
    )
    assert set(table["run_id"]) == {"run-1"}


def test_raw_tables_follow_the_contract_columns_and_types(
    broken: tuple[duckdb.DuckDBPyConnection, IngestReport],
) -> None:
    con, _ = broken
    for entity, contract in CONTRACTS.items():
        described = con.sql(f"describe raw.{entity}").fetchall()
        columns = [(name, kind) for name, kind, *_ in described]
        expected = [(c.name, c.duckdb_type.upper()) for c in contract.columns]
        assert columns == [*expected, ("_row_number", "BIGINT")], entity


def test_missing_optional_entities_are_empty_tables(
    broken: tuple[duckdb.DuckDBPyConnection, IngestReport],
) -> None:
    con, report = broken
    for entity in ("activities", "named_accounts"):
        assert raw(con, entity).height == 0
        assert report[entity].source_file is None
        assert report[entity].input_rows == 0


def test_a_row_failing_several_checks_is_listed_per_check_and_counted_once(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = "account_id,name,created_at,employees,tier\nA1,,someday,-5,9\nA2,Beta,2024-01-06,,\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    rows = report["accounts"].quarantine.select("row_number", "column_name", "expectation").rows()
    assert sorted(rows) == sorted(
        [
            (1, "name", "expect_column_values_to_not_be_null"),
            (1, "created_at", "expect_column_values_to_be_of_type"),
            (1, "employees", "expect_column_values_to_be_between"),
            (1, "tier", "expect_column_values_to_be_in_set"),
        ]
    )
    assert report["accounts"].quarantined_rows == 1
    assert report["accounts"].loaded_rows == 1
    reasons = report["accounts"].quarantine["reason"].to_list()
    assert "employees '-5' is below the minimum 0" in reasons


def test_reingesting_the_same_run_replaces_its_quarantine_and_log_rows(
    con: duckdb.DuckDBPyConnection,
) -> None:
    ingest_snapshot(BROKEN, con, "same-run")
    ingest_snapshot(BROKEN, con, "same-run")
    ingest_snapshot(BROKEN, con, "next-run")
    counts = dict(con.sql("select run_id, count(*) from raw.quarantine group by 1").fetchall())
    assert counts == {"same-run": len(EXPECTED_QUARANTINE), "next-run": len(EXPECTED_QUARANTINE)}
    logs = dict(con.sql("select run_id, count(*) from raw.ingest_log group by 1").fetchall())
    assert logs == {"same-run": len(CONTRACTS), "next-run": len(CONTRACTS)}


def test_duplicate_compound_key_is_quarantined(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    members = "territory_id,rep_id\nT1,R1\nT1,R1\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"territory_members.csv": members}), con, "r")
    assert report["territory_members"].quarantine.select(
        "row_number", "column_name", "expectation", "value", "reason"
    ).rows() == [
        (2, "territory_id, rep_id", "expect_compound_columns_to_be_unique", "T1, R1",
         "territory_id, rep_id 'T1, R1' repeats row 1"),
    ]  # fmt: skip


def test_uniqueness_keeps_the_first_good_row_not_the_first_row(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = "account_id,name,created_at\nA1,Bad,never\nA1,Good,2024-01-01\nA1,Again,2024-01-02\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert raw(con, "accounts").select("name", "_row_number").rows() == [("Good", 2)]
    assert report["accounts"].quarantine.select("row_number", "expectation").rows() == [
        (1, "expect_column_values_to_be_of_type"),
        (3, "expect_column_values_to_be_unique"),
    ]


ACTIVITIES = (
    "account_id,lead_id,rep_id,occurred_at,type\n"
    "A1,,R1,2026-11-23T09:00:00,call\n"  # on an account
    ",L1,R1,2026-11-23T09:10:00,email\n"  # on a lead
    "A2,L1,R1,2026-11-23T09:20:00,meeting\n"  # on both
    " , ,R1,2026-11-23T09:30:00,call\n"  # on neither
)


def test_an_activity_is_on_an_account_a_lead_or_both_never_neither(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    from switchboard.quality import runner, specs, stages

    report = ingest_snapshot(make_snapshot(tmp_path, {"activities.csv": ACTIVITIES}), con, "r")
    assert raw(con, "activities").select("account_id", "lead_id", "_row_number").rows() == [
        ("A1", None, 1),
        (None, "L1", 2),
        ("A2", "L1", 3),
    ]
    assert report["activities"].quarantine.select(
        "row_number", "column_name", "expectation", "reason", "action"
    ).rows() == [
        (4, "account_id, lead_id", "expect_column_values_to_not_be_null",
         "neither account_id nor lead_id is set: the row needs at least one of them",
         "row_quarantined"),
    ]  # fmt: skip
    stages.check_raw(con)  # GX checks the same rule on the loaded rows
    with pytest.raises(runner.StageCheckFailed, match=r"lead_id where account_id\.isnull\(\)"):
        runner.check_frame(
            pl.DataFrame(
                {"account_id": [None], "lead_id": [None], "_row_number": [7]},
                schema={"account_id": pl.String, "lead_id": pl.String, "_row_number": pl.Int64},
            ),
            [specs.one_of_spec(["account_id", "lead_id"])],
            "raw.activities",
            row_id="_row_number",
        )


def test_lead_touches_reads_a_leads_activities_from_the_export(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """What an arrivals pass reads for the first-touch SLA: the listed leads' good rows."""
    activities = ACTIVITIES + ",L2,R2,2026-11-23T09:40:00,call\n,L1,R1,not-a-time,call\n"
    snapshot = make_snapshot(tmp_path, {"activities.csv": activities})
    touches = lead_touches(snapshot, con, ["L1"])
    assert touches.rows() == [
        ("L1", "R1", datetime(2026, 11, 23, 9, 10)),
        ("L1", "R1", datetime(2026, 11, 23, 9, 20)),
    ]
    assert lead_touches(snapshot, con, []).is_empty()
    without = make_snapshot(tmp_path / "none", {})
    assert lead_touches(without, con, ["L1"]).columns == ["lead_id", "rep_id", "occurred_at"]


def test_references_check_the_loaded_parent_rows(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    members = "territory_id,rep_id\nT1,R1\nT9,R1\nT1,R9\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"territory_members.csv": members}), con, "r")
    assert report["territory_members"].quarantine.select(
        "row_number", "column_name", "value"
    ).rows() == [(2, "territory_id", "T9"), (3, "rep_id", "R9")]


def test_long_values_are_truncated(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    long = "x" * 500
    accounts = f"account_id,name,created_at\nA1,Acme,{long}\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    entry = report["accounts"].quarantine.row(0, named=True)
    assert entry["value"] == "x" * 200
    assert len(entry["reason"]) < 120


def test_a_line_with_more_fields_than_the_header_is_quarantined_not_the_file(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """An unquoted comma shifts a line's values into the wrong columns: the line goes to
    quarantine with the fields past the header; the other lines, blank ones included in
    the numbering, load as Polars' own reader would load them."""
    accounts = (
        "account_id,name,created_at\n"
        "A1,Acme,2024-01-05\n"
        "A2,Beta, Inc.,2024-01-06\n"  # unquoted comma: four fields
        "\n"
        'A4,"Delta, Ltd",2024-01-08\n'  # quoted: fine
        "A5,Epsilon,2024-01-09,,\n"
    )  # empty trailing fields: fine
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")

    entity = report["accounts"]
    assert (entity.input_rows, entity.loaded_rows, entity.quarantined_rows) == (4, 3, 1)
    assert raw(con, "accounts").select("account_id", "name", "_row_number").rows() == [
        ("A1", "Acme", 1),
        ("A4", "Delta, Ltd", 4),
        ("A5", "Epsilon", 5),
    ]
    line = report.quarantine.filter(pl.col("column_name") == "_row").row(0, named=True)
    assert (line["row_number"], line["expectation"], line["value"]) == (
        2,
        "expect_row_field_count_to_equal_header",
        "2024-01-06",
    )
    assert line["reason"].startswith("the line has 1 more field(s) than the header")
    assert entity.ignored_columns == ()
