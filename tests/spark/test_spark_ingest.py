"""Ingest on Spark (switchboard.spark.ingest) against the DuckDB ingest of the same files:
a generated org with its planted defects, written as Parquet (accounts, hr and activities
as folders of parts, duplicates of one key in different parts), and as CSV, loads the same
rows and quarantines the same (row, column, expectation) with the same reasons; a guard
stops a header-only export before anything is written; a re-ingest of a run replaces its
rows."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard.contracts import load_contracts
from switchboard.generate import generate_org
from switchboard.guards import ExportGuard, GuardTripped
from switchboard.ingest import ingest_snapshot
from switchboard.spark.arrow import local_frame

pytestmark = pytest.mark.spark

AS_OF = datetime(2026, 11, 23, 9, 0)
PARTS = {"accounts": 3, "activities": 4, "hr": 2}
RUN = "spark-ingest-1"


def _split(snapshot: Path, entity: str, parts: int) -> None:
    """`<entity>.parquet` becomes a folder `<entity>/` of parts in row order."""
    frame = pl.read_parquet(snapshot / f"{entity}.parquet")
    (snapshot / f"{entity}.parquet").unlink()
    folder = snapshot / entity
    folder.mkdir()
    size = -(-frame.height // parts)
    for i, start in enumerate(range(0, frame.height, size)):
        frame.slice(start, size).write_parquet(folder / f"part-{i:05d}.parquet")


def _plant_duplicates(snapshot: Path) -> None:
    """Repeat the first account at the end (another part) and the first HR e-mail at the
    end with a newer updated_at, so the kept row is the later one in another part."""
    accounts = pl.read_parquet(snapshot / "accounts.parquet")
    first = accounts.head(1).with_columns(pl.lit("Copy in another part").alias("name"))
    pl.concat([accounts, first]).write_parquet(snapshot / "accounts.parquet")
    hr = pl.read_parquet(snapshot / "hr.parquet")
    newer = hr.head(1).with_columns(
        pl.col("email").map_elements(lambda e: f"  {e} ", return_dtype=pl.String),
        pl.lit(datetime(2026, 11, 22, 8, 0)).cast(hr.schema["updated_at"]).alias("updated_at"),
    )
    pl.concat([hr, newer], how="vertical_relaxed").write_parquet(snapshot / "hr.parquet")


def _duckdb_ingest(snapshot: Path, warehouse: Path, run_id: str = RUN) -> Any:
    con = duckdb.connect(str(warehouse))
    try:
        report = ingest_snapshot(snapshot, con, run_id)
        tables = {entity: con.sql(f"select * from raw.{entity}").pl() for entity in report.entities}
        tables["quarantine"] = con.sql("select * from raw.quarantine").pl()
        return report, tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("spark-ingest")
    csv = root / "csv"
    generate_org(csv, accounts=1_000, seed=11, as_of=AS_OF)
    flat = root / "parquet"  # what the DuckDB path reads: one file per entity
    generate_org(flat, accounts=1_000, seed=11, as_of=AS_OF, file_format="parquet")
    _plant_duplicates(flat)
    parts = root / "parts"  # the same rows, some entities as folders of parts
    shutil.copytree(flat, parts)
    for entity, count in PARTS.items():
        _split(parts, entity, count)
    return {"root": root, "csv": csv, "flat": flat, "parts": parts}


@pytest.fixture(scope="module")
def spark(org: dict[str, Path]) -> Any:
    from switchboard.spark.session import local_session

    # One SparkSession a process: an earlier module's session is reused.
    return local_session(org["root"] / "session")


@pytest.fixture(scope="module")
def ingested(org: dict[str, Path], spark: Any) -> dict[str, Any]:
    from switchboard.spark.ingest import ingest_on_spark

    home = org["root"] / "home"
    report = ingest_on_spark(spark, org["parts"], RUN, home=home)
    expected, tables = _duckdb_ingest(org["flat"], org["root"] / "flat.duckdb")
    return {"home": home, "report": report, "expected": expected, "tables": tables}


def _spark_table(spark: Any, name: str) -> pl.DataFrame:
    spark.catalog.refreshTable(name)
    return local_frame(spark.table(name))


def test_parquet_parts_load_and_quarantine_what_duckdb_does(
    spark: Any, ingested: dict[str, Any]
) -> None:
    report, expected, tables = ingested["report"], ingested["expected"], ingested["tables"]
    assert report.as_dict() == {
        entity: {**counts, "source_file": report[entity].source_file}
        for entity, counts in expected.as_dict().items()
    }
    for entity in expected.entities:
        want = tables[entity].sort("_row_number")
        got = _spark_table(spark, f"raw.{entity}").sort("_row_number")
        assert got.columns == want.columns, entity
        assert_frame_equal(got, want, check_dtypes=False)
    quarantine = _spark_table(spark, "raw.quarantine")
    keys = ["entity", "row_number", "column_name", "expectation"]
    assert quarantine.height == tables["quarantine"].height > 5
    assert_frame_equal(quarantine.sort(keys), tables["quarantine"].sort(keys))
    assert_frame_equal(report.quarantine, expected.quarantine)
    log = _spark_table(spark, "raw.ingest_log").sort("entity")
    counted = ["entity", "input_rows", "loaded_rows", "quarantined_rows"]
    want_log = pl.DataFrame(list(expected.as_dict().values())).with_columns(
        entity=pl.Series(list(expected.as_dict()))
    )
    assert_frame_equal(log.select(counted), want_log.select(counted).sort("entity"))
    assert _spark_table(spark, "raw.rep_roster").height == report["reps"].loaded_rows


def test_a_duplicate_key_in_another_part_is_quarantined_as_duckdb_does(
    ingested: dict[str, Any],
) -> None:
    report, expected = ingested["report"], ingested["expected"]
    for entity in ("accounts", "hr"):
        got = report[entity].quarantine.filter(pl.col("expectation").str.contains("unique"))
        want = expected[entity].quarantine.filter(pl.col("expectation").str.contains("unique"))
        assert got.height == want.height >= 1
        assert_frame_equal(got, want)
    # hr keeps the newest by updated_at: the repeat at the end of the last part, so the
    # first row (first part) is the one set aside, though the e-mails differ in case/space.
    hr_unique = report["hr"].quarantine.filter(pl.col("expectation").str.contains("unique"))
    assert 1 in hr_unique["row_number"].to_list()
    assert "newer by updated_at" in hr_unique["reason"][0]


def test_a_header_only_export_trips_the_guard_and_writes_nothing(
    org: dict[str, Path], spark: Any, ingested: dict[str, Any]
) -> None:
    from switchboard.spark.ingest import ingest_on_spark

    cut = org["root"] / "header-only"
    shutil.copytree(org["parts"], cut)
    shutil.rmtree(cut / "accounts")
    pl.read_parquet(org["flat"] / "accounts.parquet").clear().write_parquet(
        cut / "accounts.parquet"
    )
    guard = ExportGuard(max_row_drop={}, min_row_drop=1, required=("accounts", "reps"))
    # The guard judges the entities it is given: the two it requires are enough to trip
    # it, and checking the other seven again would prove nothing more.
    contracts = {e: c for e, c in load_contracts().items() if e in guard.required}
    before = _spark_table(spark, "raw.accounts").height
    with pytest.raises(GuardTripped, match=r"accounts\.parquet has no usable rows"):
        ingest_on_spark(
            spark, cut, "header-only-run", home=ingested["home"], contracts=contracts, guard=guard
        )
    assert _spark_table(spark, "raw.accounts").height == before > 0
    log = _spark_table(spark, "raw.ingest_log")
    assert "header-only-run" not in log["run_id"].to_list()


def _plant_ragged_line(snapshot: Path) -> None:
    """One accounts line with a field past the header (an unquoted comma)."""
    path = snapshot / "accounts.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[-1].replace(",", ",Acme, Inc,", 1)]) + "\n")


def test_a_csv_reingest_of_the_run_replaces_its_rows_and_matches_duckdb(
    org: dict[str, Path], spark: Any, ingested: dict[str, Any]
) -> None:
    """The same run_id ingested again, from the CSV export: raw.quarantine and
    raw.ingest_log hold this run's rows once, and they are the DuckDB ingest's of the CSV."""
    from switchboard.spark.ingest import ingest_on_spark

    _plant_ragged_line(org["csv"])
    report = ingest_on_spark(spark, org["csv"], RUN, home=ingested["home"])
    expected, tables = _duckdb_ingest(org["csv"], org["root"] / "csv.duckdb")
    assert_frame_equal(report.quarantine, expected.quarantine)
    assert "expect_row_field_count_to_equal_header" in report.quarantine["expectation"]
    for entity, r in expected.entities.items():
        assert (report[entity].input_rows, report[entity].loaded_rows, report[entity].digest) == (
            r.input_rows,
            r.loaded_rows,
            r.digest,
        )
    quarantine = _spark_table(spark, "raw.quarantine")
    keys = ["entity", "row_number", "column_name", "expectation"]
    assert_frame_equal(
        quarantine.filter(pl.col("run_id") == RUN).sort(keys), tables["quarantine"].sort(keys)
    )
    log = _spark_table(spark, "raw.ingest_log")
    assert log.filter(pl.col("run_id") == RUN).height == len(load_contracts())
    history = _spark_table(spark, "raw.export_history")
    assert history.filter(pl.col("run_id") == RUN).height == len(
        [r for r in expected.entities.values() if r.digest is not None]
    )
    accounts = _spark_table(spark, "raw.accounts").sort("_row_number")
    assert_frame_equal(accounts, tables["accounts"].sort("_row_number"), check_dtypes=False)
