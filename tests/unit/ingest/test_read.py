"""Reading an export (switchboard.ingest.read): header aliases, structure errors that
name the file, encodings, line ends and Parquet."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard.errors import SnapshotError
from switchboard.ingest import check_snapshot, ingest_snapshot
from switchboard.warehouse import table_exists
from tests.snapshots import make_snapshot

from .conftest import CONTRACTS, SALESFORCE, raw


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
