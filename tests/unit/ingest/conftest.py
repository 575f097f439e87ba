"""Snapshot ingest test set-up: an in-memory warehouse, the contracts, the fixture snapshots."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import polars as pl
import pytest

from switchboard.contracts import load_contracts
from switchboard.warehouse import read_table
from tests.paths import FIXTURES

BROKEN = FIXTURES / "broken_snapshot"


SALESFORCE = FIXTURES / "salesforce_snapshot"


CONTRACTS = load_contracts()


def raw(con: duckdb.DuckDBPyConnection, entity: str) -> pl.DataFrame:
    return read_table(con, f"raw.{entity}").collect()


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


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
