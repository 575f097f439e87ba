"""Snapshot ingest: header aliases, casting, quarantine with reasons, reconciliation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard.contracts import load_contracts
from switchboard.errors import SnapshotError
from switchboard.ingest import IngestReport, check_snapshot, ingest_snapshot
from switchboard.ingest.arrivals import lead_touches
from switchboard.ingest.parse import parse
from switchboard.ingest.snapshot import ingest_order
from switchboard.ingest.validate import QUARANTINE_SCHEMA
from switchboard.warehouse import read_table, table_exists
from tests.paths import FIXTURES

BROKEN = FIXTURES / "broken_snapshot"
SALESFORCE = FIXTURES / "salesforce_snapshot"
CONTRACTS = load_contracts()

# A minimal clean snapshot of the required entities; tests override single files.
CLEAN: dict[str, str] = {
    "accounts.csv": "account_id,name,created_at\nA1,Acme,2024-01-05\nA2,Beta,2024-01-06\n",
    "reps.csv": "rep_id,name,email,role\nR1,Ada,ada@example.com,AE\n",
    "hr.csv": "email,status\nada@example.com,active\n",
    "territories.csv": "territory_id,name,priority\nT1,West,1\n",
    "territory_members.csv": "territory_id,rep_id\nT1,R1\n",
}


def make_snapshot(folder: Path, files: Mapping[str, str | bytes | None]) -> Path:
    """CLEAN plus overrides; a None value removes that file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in {**CLEAN, **files}.items():
        if content is None:
            continue
        data = content.encode("utf-8") if isinstance(content, str) else content
        (folder / name).write_bytes(data)
    return folder


def raw(con: duckdb.DuckDBPyConnection, entity: str) -> pl.DataFrame:
    return read_table(con, f"raw.{entity}").collect()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def broken() -> Iterator[tuple[duckdb.DuckDBPyConnection, IngestReport]]:
    connection = duckdb.connect()
    report = ingest_snapshot(BROKEN, connection, "run-1")
    yield connection, report
    connection.close()


# --------------------------------------------------------------------------- broken snapshot

EXPECTED_QUARANTINE = [
    # entity, row, column, expectation, value, reason, action
    ("accounts", 3, "account_id", "expect_column_values_to_not_be_null", None,
     "account_id is required but empty", "row_quarantined"),
    # A bad value in an optional column clears that cell only: the account still loads.
    ("accounts", 4, "employees", "expect_column_values_to_be_of_type", "lots",
     "employees 'lots' is not an integer; the cell was cleared and the row kept",
     "cell_cleared"),
    ("accounts", 5, "account_id", "expect_column_values_to_be_unique", "A1",
     "account_id 'A1' repeats row 1", "row_quarantined"),
    ("accounts", 6, "created_at", "expect_column_values_to_be_of_type", "yesterday",
     "created_at 'yesterday' is not an ISO 8601 timestamp", "row_quarantined"),
    ("accounts", 7, "tier", "expect_column_values_to_be_in_set", "7",
     "tier '7' is not one of 1, 2, 3; the cell was cleared and the row kept", "cell_cleared"),
    ("hr", 3, "status", "expect_column_values_to_be_in_set", "retired",
     "status 'retired' is not one of active, leave, terminated", "row_quarantined"),
    ("leads", 2, "email", "expect_column_values_to_match_regex", "not-an-email",
     r"email 'not-an-email' does not match ^[^@\s]+@[^@\s]+\.[^@\s]+$", "row_quarantined"),
    ("opportunities", 2, "account_id", "expect_column_values_to_be_in_referenced_set", "A404",
     "account_id 'A404' is not among the loaded accounts", "row_quarantined"),
]  # fmt: skip


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


def test_ingest_order_puts_referenced_entities_first() -> None:
    order = ingest_order(CONTRACTS)
    assert sorted(order) == sorted(CONTRACTS)
    assert order.index("accounts") < order.index("opportunities")
    assert order.index("territories") < order.index("territory_members")
    assert order.index("reps") < order.index("territory_members")


def test_check_snapshot_reports_without_writing(con: duckdb.DuckDBPyConnection) -> None:
    report = check_snapshot(BROKEN)
    assert report.quarantine.height == len(EXPECTED_QUARANTINE)
    assert report.as_dict()["accounts"]["loaded_rows"] == 5
    assert not table_exists(con, "raw.accounts")


# --------------------------------------------------------------------------- aliases


def test_salesforce_headers_load_unchanged(con: duckdb.DuckDBPyConnection) -> None:
    report = ingest_snapshot(SALESFORCE, con, "sf")
    assert report.quarantine.height == 0
    assert report["accounts"].ignored_columns == ("IsDeleted", "SystemModstamp")
    expected = pl.DataFrame(
        {
            "account_id": ["0015g00000AcmeAAA", "0015g00000WestAAA", "0015g00000GoodAAA"],
            "name": ["Acme Corp", "Acme West, Inc.", "Good Co"],
            "created_at": [
                datetime(2024, 1, 5, 10, 0),
                datetime(2024, 1, 6, 9, 30),
                datetime(2024, 1, 11, 6, 0),
            ],
            "domain": ["https://www.acme.com", "acme-west.com", None],
            "parent_account_id": [None, "0015g00000AcmeAAA", None],
            "country": ["United States", "United States", "Germany"],
            "state": ["New York", "CA", None],
            "postal_code": ["10001", "94105", "10115"],
            "industry": ["Manufacturing", "Manufacturing", None],
            "employees": [1200, 300, None],
            "annual_revenue": [5000000.0, None, None],
            "tier": [None, None, None],
            "owner_id": ["0055g00000AdaAAA", "0055g00000GraceAA", None],
            "_row_number": [1, 2, 3],
        },
        schema={**CONTRACTS["accounts"].polars_schema, "_row_number": pl.Int64},
    )
    assert_frame_equal(raw(con, "accounts"), expected)
    assert raw(con, "reps").select("rep_id", "role", "team", "is_active").rows() == [
        ("0055g00000AdaAAA", "Account Executive", "West", True),
        ("0055g00000GraceAA", "Account Executive", "East", True),
    ]
    assert raw(con, "hr").select("email", "status", "status_start", "role").rows() == [
        ("ada@example.com", "active", date(2020, 1, 1), "Account Executive"),
        ("grace@example.com", "active", date(2021, 6, 1), "Account Executive"),
    ]
    assert raw(con, "territories")["states"].to_list() == [["CA", "WA", "OR"], ["NY", "MA"]]


def test_headers_match_aliases_case_insensitively_and_trimmed(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = " ID ,NAME,createddate\nA1,Acme,2024-01-05\n"
    ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert raw(con, "accounts").select("account_id", "name").rows() == [("A1", "Acme")]


# --------------------------------------------------------------------------- casting

BOOLEAN_CASES = [
    ("true", True), ("TRUE", True), ("Yes", True), ("1", True),
    ("false", False), ("No", False), ("0", False), (" no ", False),
    ("maybe", None), ("2", None),
]  # fmt: skip
TIMESTAMP_CASES = [
    ("2024-01-05", datetime(2024, 1, 5)),
    ("2024-01-05T10:11:12", datetime(2024, 1, 5, 10, 11, 12)),
    ("2024-01-05 10:11", datetime(2024, 1, 5, 10, 11)),
    ("2024-01-05T10:11:12Z", datetime(2024, 1, 5, 10, 11, 12)),
    ("2024-01-05t10:11:12.5z", datetime(2024, 1, 5, 10, 11, 12, 500000)),
    ("2024-01-05T10:11:12+02:00", datetime(2024, 1, 5, 8, 11, 12)),
    ("2024-01-05T01:00:00.000-0530", datetime(2024, 1, 5, 6, 30)),
    ("2024-01-05T10:11:12.123456789+00", datetime(2024, 1, 5, 10, 11, 12, 123456)),
    ("2024-01-05 10:11:12.000500+01:00", datetime(2024, 1, 5, 9, 11, 12, 500)),
    ("2024-01-01T00:30:00+01:00", datetime(2023, 12, 31, 23, 30)),
    ("2024-02-30", None),
    ("2024-01-05T25:00:00", None),
    ("2024-01-05T10:11:12+25:00", None),
    ("05/01/2024", None),
    ("20240105", None),
    ("yesterday", None),
]
INTEGER_CASES = [("1200", 1200), ("1200.0", 1200), ("+7", 7), ("-3", -3),
                 ("1,200", None), ("12.5", None), ("1e3", None), ("lots", None)]  # fmt: skip
NUMBER_CASES = [("2500000.50", 2500000.5), ("-1", -1.0), (".5", 0.5), ("1e3", 1000.0),
                ("1,5", None), ("nan", None), ("inf", None), ("1e999", None)]  # fmt: skip
DATE_CASES = [("2024-03-01", date(2024, 3, 1)), ("2024-3-1", None), ("2024-03-01T00:00", None)]
LIST_CASES = [("CA;WA", ["CA", "WA"]), (" NY ; MA ;; ", ["NY", "MA"]), (";;", None),
              ("solo", ["solo"])]  # fmt: skip


@pytest.mark.parametrize(
    ("column_type", "text", "expected"),
    [("boolean", t, e) for t, e in BOOLEAN_CASES]
    + [("timestamp", t, e) for t, e in TIMESTAMP_CASES]
    + [("integer", t, e) for t, e in INTEGER_CASES]
    + [("number", t, e) for t, e in NUMBER_CASES]
    + [("date", t, e) for t, e in DATE_CASES]
    + [("list", t, e) for t, e in LIST_CASES],
)
def test_parse(column_type: str, text: str, expected: object) -> None:
    frame = pl.DataFrame({"v": [text]}).lazy()
    parsed = frame.select(parse(pl.col("v").str.strip_chars(), column_type)).collect()
    assert parsed.to_series().to_list() == [expected]


def test_casts_through_ingest(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    reps = (
        "rep_id,name,email,role,capacity,skills,is_active\n"
        "R1,Ada,ada@example.com,AE,150.0,enterprise; manufacturing ;,Yes\n"
        "R2,Bob,bob@example.com,AE,,,0\n"
        "R3,Cy,cy@example.com,AE,,,\n"
    )
    hr = "email,status,updated_at\nada@example.com,active,2024-03-01T12:00:00+02:00\n"
    folder = make_snapshot(tmp_path, {"reps.csv": reps, "hr.csv": hr})
    ingest_snapshot(folder, con, "r")
    assert raw(con, "reps").select("rep_id", "capacity", "skills", "is_active").rows() == [
        ("R1", 150, ["enterprise", "manufacturing"], True),
        ("R2", None, None, False),
        ("R3", None, None, None),
    ]
    assert raw(con, "hr")["updated_at"].to_list() == [datetime(2024, 3, 1, 10, 0)]


def test_nan_is_missing_in_numeric_columns_only(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = "account_id,name,created_at,employees,annual_revenue\nA1,NaN,2024-01-05,nan,NaN\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert report.quarantine.height == 0
    assert raw(con, "accounts").select("name", "employees", "annual_revenue").rows() == [
        ("NaN", None, None)
    ]


def test_whitespace_is_stripped_and_empty_is_null(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = 'account_id,name,created_at,domain\n  A1 , Acme ,2024-01-05,"   "\n'
    ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert raw(con, "accounts").select("account_id", "name", "domain").rows() == [
        ("A1", "Acme", None)
    ]


# --------------------------------------------------------------------------- structure errors


def test_missing_required_file_names_the_file(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    folder = make_snapshot(tmp_path, {"hr.csv": None})
    with pytest.raises(SnapshotError) as raised:
        ingest_snapshot(folder, con, "r")
    assert str(raised.value) == f"snapshot {folder}: required file hr.csv (or .parquet) is missing"
    assert not table_exists(con, "raw.accounts")  # nothing was written


def test_missing_required_column_names_the_column_and_its_aliases(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    folder = make_snapshot(tmp_path, {"accounts.csv": "name,created_at\nAcme,2024-01-05\n"})
    with pytest.raises(SnapshotError) as raised:
        ingest_snapshot(folder, con, "r")
    assert str(raised.value) == (
        f"snapshot {folder}: accounts.csv has no column account_id "
        "(or an alias: Id, AccountId, account id)"
    )
    assert not table_exists(con, "raw.reps")


def test_two_headers_for_one_column_is_an_error(tmp_path: Path) -> None:
    folder = make_snapshot(
        tmp_path, {"accounts.csv": "Id,account_id,name,created_at\n1,1,A,2024-01-01\n"}
    )
    with pytest.raises(
        SnapshotError, match=r"accounts.csv has two columns for account_id: 'Id' and 'account_id'"
    ):
        check_snapshot(folder)


def test_repeated_header_is_an_error(tmp_path: Path) -> None:
    folder = make_snapshot(tmp_path, {"accounts.csv": "Id,Id,name,created_at\n1,2,A,2024-01-01\n"})
    with pytest.raises(SnapshotError, match="two columns for account_id"):
        check_snapshot(folder)


def test_csv_and_parquet_for_one_entity_is_an_error(tmp_path: Path) -> None:
    folder = make_snapshot(tmp_path, {})
    pl.DataFrame({"rep_id": ["R1"]}).write_parquet(folder / "reps.parquet")
    with pytest.raises(SnapshotError, match=r"both reps.csv and reps.parquet exist"):
        check_snapshot(folder)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "accounts.csv is empty"),
        # An unterminated quote swallows the rest of the file: no line to quarantine.
        (
            b'account_id,name,created_at\nA1,"Acme,2024-01-05\nA2,Beta,2024-01-06\n',
            "cannot read accounts.csv",
        ),
    ],
)
def test_unreadable_file_names_the_file(tmp_path: Path, content: bytes, message: str) -> None:
    folder = make_snapshot(tmp_path, {"accounts.csv": content})
    with pytest.raises(SnapshotError, match=message) as raised:
        check_snapshot(folder)
    assert "\n" not in str(raised.value)


def test_unreadable_parquet_names_the_file(tmp_path: Path) -> None:
    folder = make_snapshot(tmp_path, {"accounts.csv": None, "accounts.parquet": b"not parquet"})
    with pytest.raises(SnapshotError, match=r"cannot read accounts\.parquet"):
        check_snapshot(folder)


def test_missing_snapshot_folder(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="folder does not exist"):
        check_snapshot(tmp_path / "nope")


# --------------------------------------------------------------------------- file formats


def test_bom_cp1252_crlf_and_quoted_newlines(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    cp1252 = (
        "account_id,name,created_at,industry\r\n"
        'A1,"Caf\u00e9 M\u00fcller \u20ac",2024-01-05,"Food\r\nand drink"\r\n'
        'A2,=HYPERLINK("http://x"),2024-01-06,\r\n'
    ).encode("cp1252")
    bom = "\ufeffrep_id,name,email,role\r\nR1,J\u00fcrgen,j@example.com,AE\r\n".encode()
    folder = make_snapshot(tmp_path, {"accounts.csv": cp1252, "reps.csv": bom})
    report = ingest_snapshot(folder, con, "r")
    assert report.quarantine.height == 0
    assert raw(con, "accounts").select("name", "industry").rows() == [
        ("Caf\u00e9 M\u00fcller \u20ac", "Food\r\nand drink"),
        ('=HYPERLINK("http://x")', None),
    ]
    assert raw(con, "reps").select("rep_id", "name").rows() == [("R1", "J\u00fcrgen")]


def test_header_only_file_loads_no_rows(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    folder = make_snapshot(tmp_path, {"accounts.csv": "account_id,name,created_at\n"})
    report = ingest_snapshot(folder, con, "r")
    assert (report["accounts"].input_rows, report["accounts"].loaded_rows) == (0, 0)
    assert raw(con, "accounts").columns == [*CONTRACTS["accounts"].column_names, "_row_number"]


def test_blank_lines_are_not_rows_but_keep_numbering(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = "account_id,name,created_at\nA1,Acme,2024-01-05\n\nA3,Gamma,2024-01-07\n\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert report["accounts"].input_rows == 2
    assert raw(con, "accounts").select("account_id", "_row_number").rows() == [("A1", 1), ("A3", 3)]


def _as_text_parquet(source: Path, target: Path) -> Path:
    target.mkdir()
    for csv in source.glob("*.csv"):
        frame = pl.read_csv(csv, infer_schema=False)
        frame.write_parquet(target / f"{csv.stem}.parquet")
    return target


def test_parquet_snapshot_loads_the_same_rows_as_csv(tmp_path: Path) -> None:
    from_csv, from_parquet = duckdb.connect(), duckdb.connect()
    csv_report = ingest_snapshot(BROKEN, from_csv, "r")
    parquet_report = ingest_snapshot(_as_text_parquet(BROKEN, tmp_path / "pq"), from_parquet, "r")
    assert_frame_equal(parquet_report.quarantine, csv_report.quarantine)
    for entity in CONTRACTS:
        assert_frame_equal(raw(from_parquet, entity), raw(from_csv, entity))


def test_typed_parquet_round_trips(tmp_path: Path) -> None:
    """Native Parquet types (zoned timestamps, lists, booleans, floats, NaN) load as the
    same values the CSV gave."""
    first, second = duckdb.connect(), duckdb.connect()
    ingest_snapshot(SALESFORCE, first, "r")
    folder = tmp_path / "typed"
    folder.mkdir()
    for entity in ("accounts", "reps", "hr", "territories", "territory_members"):
        frame = raw(first, entity).drop("_row_number")
        if entity == "accounts":
            frame = frame.with_columns(
                pl.col("created_at").dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Tokyo"),
                pl.col("employees").cast(pl.Float64),
                pl.col("annual_revenue").fill_null(float("nan")),  # numpy's "missing"
            )
        frame.write_parquet(folder / f"{entity}.parquet")
    report = ingest_snapshot(folder, second, "r")
    assert report.quarantine.height == 0
    for entity in ("accounts", "reps", "hr", "territories", "territory_members"):
        assert_frame_equal(raw(second, entity), raw(first, entity))


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
