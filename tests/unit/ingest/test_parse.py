"""Casting text cells to the contract types (switchboard.ingest.parse), alone and through
ingest."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard.ingest import ingest_snapshot
from switchboard.ingest.parse import parse
from tests.snapshots import make_snapshot

from .conftest import raw

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
