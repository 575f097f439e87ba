"""switchboard.ingest.snapshot: the order entities load in and a check that writes nothing."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from switchboard.ingest import check_snapshot, ingest_snapshot
from switchboard.ingest.snapshot import ingest_order
from switchboard.warehouse import table_exists

from .conftest import BROKEN, CONTRACTS, EXPECTED_QUARANTINE, raw


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
