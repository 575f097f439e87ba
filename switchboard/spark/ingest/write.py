"""The raw Spark tables an ingest writes: raw.<entity>, raw.quarantine, raw.ingest_log,
raw.export_history and raw.rep_roster, each staged beside its folder and swapped in once
every one is written; and what the guards and the roster read of the tables already
there."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow.parquet as pq

from switchboard import tables
from switchboard.ingest.result import (
    EXPORT_HISTORY_SCHEMA,
    INGEST_LOG_SCHEMA,
    EntityReport,
    IngestReport,
)
from switchboard.ingest.validate import QUARANTINE_SCHEMA
from switchboard.spark.arrow import arrow_frame, local_frame, spark_schema
from switchboard.spark.load import SOURCES_FOLDER
from switchboard.spark.session import spark_home

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass(frozen=True)
class Checked:
    """One entity's report and the rows to write as raw.<entity>."""

    report: EntityReport
    good: DataFrame | None  # None: no file, nothing loaded (an empty table is written)
    local_good: pl.DataFrame | None  # the loaded rows on the driver, for small entities


def existing(spark: SparkSession, table: str) -> pl.DataFrame:
    """A Spark table's rows on the driver (timestamps naive UTC); empty when absent."""
    if not spark.catalog.tableExists(table):
        return pl.DataFrame()
    return local_frame(spark.table(table))


def previous_exports(spark: SparkSession) -> dict[str, tuple[str | None, int]]:
    """Per entity, the digest and loaded rows of the last export loaded (raw.export_history)."""
    history = existing(spark, tables.RAW_EXPORT_HISTORY)
    if history.is_empty():
        return {}
    last = history.sort("loaded_at").group_by("entity").last()
    return {
        str(r["entity"]): (r["digest"], int(r["loaded_rows"])) for r in last.iter_rows(named=True)
    }


def is_new_export(report: EntityReport, previous: Mapping[str, tuple[str | None, int]]) -> bool:
    """Whether the entity's file differs from the last one loaded (or has no digest)."""
    return report.digest is None or previous.get(report.entity, (None, 0))[0] != report.digest


def local_good(checked: Checked) -> pl.DataFrame:
    """A small entity's loaded rows on the driver."""
    if checked.local_good is None:
        raise ValueError(f"{checked.report.entity}: its loaded rows were not collected")
    return checked.local_good


def write_tables(
    spark: SparkSession,
    home: Path | str | None,
    report: IngestReport,
    checked: Mapping[str, Checked],
    roster: pl.DataFrame | None,
) -> None:
    """Stage every table beside its folder, then swap them in and register them."""
    root = spark_home(home) / SOURCES_FOLDER
    now = datetime.now(UTC).replace(tzinfo=None)
    log, history = report.ingest_log(now), report.export_history(now)
    staged: list[tuple[str, Path, Any]] = []  # table, staging folder, Spark schema

    def stage(name: str, frame: pl.DataFrame | DataFrame) -> None:
        schema, _, table = name.partition(".")
        folder = root / schema / f".{table}.staging"
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(frame, pl.DataFrame):
            _write_local(folder, frame)
            staged.append((name, folder, spark_schema(dict(frame.schema))))
        else:
            frame.write.mode("overwrite").parquet(folder.as_posix())
            staged.append((name, folder, frame.schema))

    for entity, entity_checked in checked.items():
        # Rows already on the driver (small entities, or none) are written from there.
        rows = entity_checked.good if entity_checked.local_good is None else None
        stage(f"raw.{entity}", rows if rows is not None else local_good(entity_checked))
    for name, added, columns in (
        (tables.RAW_QUARANTINE, report.quarantine, QUARANTINE_SCHEMA),
        (tables.RAW_INGEST_LOG, log, INGEST_LOG_SCHEMA),
        (tables.RAW_EXPORT_HISTORY, history, EXPORT_HISTORY_SCHEMA),
    ):
        # Appended, this run's earlier rows replaced (a re-ingest does not duplicate them).
        before = existing(spark, name)
        stage(
            name,
            added
            if before.is_empty()
            else pl.concat(
                [
                    before.filter(pl.col("run_id") != report.run_id)
                    .select(list(columns))
                    .cast(columns),  # type: ignore[arg-type]
                    added.cast(columns),  # type: ignore[arg-type]
                ]
            ),
        )
    if roster is not None:
        stage(tables.RAW_REP_ROSTER, roster)

    for database in sorted({name.partition(".")[0] for name, _, _ in staged}):
        spark.sql(f"create database if not exists `{database}`")
    for name, folder, columns in staged:
        schema, _, table = name.partition(".")
        target = root / schema / table
        spark.sql(f"drop table if exists `{schema}`.`{table}`")
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
        # With its schema given, registering a table reads none of its files.
        spark.catalog.createTable(name, path=target.as_posix(), source="parquet", schema=columns)


def _write_local(folder: Path, frame: pl.DataFrame) -> None:
    """A small table as one Parquet file, timestamps as UTC instants (as load.py writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow_frame(frame), folder / "data.parquet")
