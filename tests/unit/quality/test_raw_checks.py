"""Stage checks: GX suites from the contracts, and failures that say what broke where."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard.contracts import load_contracts
from switchboard.ingest import ingest_snapshot
from switchboard.quality.runner import (
    ExpectationFailure,
    StageCheckFailed,
    check_frame,
    to_pandas,
    validate_frame,
)
from switchboard.quality.specs import (
    IN_REFERENCED_SET,
    ExpectationSpec,
    build_suite,
    raw_specs,
    raw_suite,
)
from switchboard.quality.stages import check_raw
from switchboard.warehouse import read_table
from tests.paths import BROKEN_SNAPSHOT, ROOT

BROKEN = BROKEN_SNAPSHOT
CONTRACTS = load_contracts()


@pytest.fixture(scope="module")
def loaded() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    ingest_snapshot(BROKEN, con, "run-q")
    yield con
    con.close()


@pytest.fixture
def accounts(loaded: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return read_table(loaded, "raw.accounts").collect()


def failures_of(
    raised: pytest.ExceptionInfo[StageCheckFailed],
) -> dict[tuple[str, str], ExpectationFailure]:
    return {(f.expectation, f.target): f for f in raised.value.failures}


def test_raw_specs_follow_the_contract() -> None:
    specs = {(s.type, s.target): dict(s.kwargs) for s in raw_specs(CONTRACTS["accounts"])}
    assert specs[("expect_table_columns_to_match_set", "table")]["column_set"] == (
        CONTRACTS["accounts"].column_names
    )
    not_null = {t for kind, t in specs if kind == "expect_column_values_to_not_be_null"}
    assert not_null == {"account_id", "name", "created_at"}
    assert specs[("expect_column_values_to_be_in_set", "tier")]["value_set"] == [1, 2, 3]
    assert specs[("expect_column_values_to_be_between", "employees")] == {
        "column": "employees",
        "min_value": 0,
        "max_value": None,
    }
    assert ("expect_column_values_to_be_unique", "account_id") in specs
    assert specs[("expect_column_values_to_be_of_type", "created_at")]["type_"] == "datetime"
    assert specs[("expect_column_values_to_be_of_type", "employees")]["type_"] == "int"
    # references are ingest's business; GX suites never see them
    assert not any(kind == IN_REFERENCED_SET for kind, _ in specs)


def test_raw_specs_for_a_compound_key_and_references() -> None:
    specs = raw_specs(CONTRACTS["territory_members"], include_references=True)
    kinds = [(s.type, s.target) for s in specs]
    assert ("expect_compound_columns_to_be_unique", "territory_id, rep_id") in kinds
    assert (IN_REFERENCED_SET, "territory_id") in kinds
    assert (IN_REFERENCED_SET, "rep_id") in kinds


def test_raw_suite_holds_the_specs() -> None:
    contract = CONTRACTS["hr"]
    suite = raw_suite(contract)
    assert suite.name == "raw.hr"
    got = sorted(
        (e.expectation_type, e.configuration.kwargs.get("column", "")) for e in suite.expectations
    )
    want = sorted((s.type, s.column or "") for s in raw_specs(contract))
    assert got == want


def test_build_suite_refuses_ingest_only_expectations() -> None:
    spec = ExpectationSpec(IN_REFERENCED_SET, {"column": "x"})
    with pytest.raises(ValueError, match="checked by ingest"):
        build_suite("s", [spec])


def test_check_raw_passes_on_ingested_data(
    loaded: duckdb.DuckDBPyConnection, capfd: pytest.CaptureFixture[str]
) -> None:
    check_raw(loaded, CONTRACTS)
    out, err = capfd.readouterr()
    assert "Calculating Metrics" not in out + err  # GX progress bars are off


def test_validate_frame_names_expectation_column_and_rows(accounts: pl.DataFrame) -> None:
    corrupted = accounts.with_columns(
        tier=pl.when(pl.col("account_id") == "A2").then(7).otherwise(pl.col("tier")),
        account_id=pl.when(pl.col("account_id") == "A8")
        .then(pl.lit("A1"))
        .otherwise(pl.col("account_id")),
    )
    suite = raw_suite(CONTRACTS["accounts"])
    with pytest.raises(StageCheckFailed) as raised:
        validate_frame(to_pandas(corrupted), suite, "raw.accounts", row_id="_row_number")
    failures = failures_of(raised)
    assert set(failures) == {
        ("expect_column_values_to_be_in_set", "tier"),
        ("expect_column_values_to_be_unique", "account_id"),
    }
    tier = failures[("expect_column_values_to_be_in_set", "tier")]
    assert tier.unexpected_count == 1
    assert tier.examples == ("_row_number 2: 7",)
    message = str(raised.value)
    assert message.startswith("stage check raw.accounts failed: ")
    assert "expect_column_values_to_be_in_set on tier (1 row; e.g. _row_number 2: 7)" in message
    assert "\n" not in message
    assert raised.value.stage == "raw.accounts"


def test_validate_frame_catches_nulls_types_and_missing_columns(accounts: pl.DataFrame) -> None:
    corrupted = accounts.drop("name").with_columns(
        pl.col("employees").cast(pl.Float64),
        created_at=pl.when(pl.col("account_id") == "A2").then(None).otherwise(pl.col("created_at")),
    )
    with pytest.raises(StageCheckFailed) as raised:
        validate_frame(to_pandas(corrupted), raw_suite(CONTRACTS["accounts"]), "raw.accounts")
    failures = failures_of(raised)
    assert failures[("expect_table_columns_to_match_set", "table")].error == "missing columns: name"
    assert failures[("expect_column_values_to_be_of_type", "employees")].error == "observed float"
    not_null = failures[("expect_column_values_to_not_be_null", "created_at")]
    assert not_null.unexpected_count == 1
    assert not_null.examples == ("row 1: null",)  # no row_id given: the pandas index


def test_validate_frame_checks_compound_keys(loaded: duckdb.DuckDBPyConnection) -> None:
    members = read_table(loaded, "raw.territory_members").collect()
    doubled = pl.concat([members, members.head(1)])
    with pytest.raises(StageCheckFailed, match="expect_compound_columns_to_be_unique"):
        validate_frame(to_pandas(doubled), raw_suite(CONTRACTS["territory_members"]), "raw.tm")


def test_check_raw_stops_on_a_corrupted_table(tmp_path: Path) -> None:
    con = duckdb.connect()
    ingest_snapshot(BROKEN, con, "run-x")
    con.execute("update raw.hr set status = 'retired' where email = 'ada@example.com'")
    with pytest.raises(StageCheckFailed) as raised:
        check_raw(con, CONTRACTS)
    assert raised.value.stage == "raw.hr"
    assert "expect_column_values_to_be_in_set on status" in str(raised.value)
    assert "'retired'" in str(raised.value)


def test_check_raw_reports_a_missing_table() -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    with pytest.raises(StageCheckFailed, match=r"raw\.accounts does not exist"):
        check_raw(con, {"accounts": CONTRACTS["accounts"]})


def test_importing_quality_does_not_import_great_expectations() -> None:
    code = (
        "import sys, switchboard.quality as q; "
        "assert 'great_expectations' not in sys.modules; q.StageCheckFailed('s', [])"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(
    ("entity", "column", "wrong", "observed"),
    [
        ("hr", "status_start", pl.col("status_start").cast(pl.Datetime("us")), "datetime"),
        ("hr", "updated_at", pl.col("updated_at").cast(pl.Date), "date"),
        ("reps", "skills", pl.col("skills").list.join(";"), "str"),
        ("reps", "is_active", pl.col("is_active").cast(pl.Int64), "int"),
        ("reps", "capacity", pl.col("capacity").cast(pl.String), "str"),
    ],
)
def test_type_expectations_tell_the_contract_types_apart(
    loaded: duckdb.DuckDBPyConnection, entity: str, column: str, wrong: pl.Expr, observed: str
) -> None:
    frame = read_table(loaded, f"raw.{entity}").collect()
    check_frame(frame, raw_specs(CONTRACTS[entity]), f"raw.{entity}")  # as loaded: passes
    with pytest.raises(StageCheckFailed) as raised:
        check_frame(frame.with_columns(wrong.alias(column)), raw_specs(CONTRACTS[entity]), "s")
    failure = failures_of(raised)[("expect_column_values_to_be_of_type", column)]
    assert failure.error == f"observed {observed}"
