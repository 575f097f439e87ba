"""A snapshot's entity files on Spark: finding each entity's file or folder, reading it as
the contract columns' text with `_row_number`, and the digests raw.export_history records."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa

from switchboard.contracts import Contract
from switchboard.errors import SnapshotError
from switchboard.ingest.read import ROW_NUMBER, HeaderMap, contract_text, map_headers, read_entity
from switchboard.mapping import HeaderMapping, match_reps
from switchboard.spark.arrow import (
    arrow_frame,
    empty_arrow,
    from_ipc,
    ipc,
    polars_schema,
    spark_schema,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Layout = Literal["parquet", "parts", "csv"]

_FILE, _INDEX = "__file_path__", "__row_index__"


@dataclass(frozen=True)
class Found:
    """Where one entity's data is in the snapshot, and in which layout."""

    location: str
    layout: Layout
    name: str  # as error messages and raw.ingest_log name it


@dataclass(frozen=True)
class Source:
    """What the driver knows of one entity's file before its rows are read."""

    ignored: tuple[str, ...] = ()
    mapped_columns: tuple[str, ...] = ()

    def rep_matched(self, mapping: HeaderMapping, entity: str) -> list[str]:
        return [c for c in mapping.rep_matched(entity) if c in self.mapped_columns]


class Files:
    """The snapshot's file system, through Hadoop (local folders, s3a://, hdfs://...)."""

    def __init__(self, spark: SparkSession) -> None:
        context = spark.sparkContext
        self._jvm: Any = context._jvm
        self._conf: Any = context._jsc.hadoopConfiguration()

    def _status(self, location: str) -> Any:
        path = self._jvm.org.apache.hadoop.fs.Path(location)
        fs = path.getFileSystem(self._conf)
        return fs.getFileStatus(path) if fs.exists(path) else None

    def is_dir(self, location: str) -> bool:
        status = self._status(location)
        return status is not None and bool(status.isDirectory())

    def exists(self, location: str) -> bool:
        return self._status(location) is not None


def file_name(found: Found | None, entity: str) -> str:
    """The entity's file as the guards name it (`<entity>.csv` when there is none)."""
    return found.name if found is not None else f"{entity}.csv"


def _join(where: str, name: str) -> str:
    return f"{where.rstrip('/')}/{name}"


def _is_local(where: str) -> bool:
    return "://" not in where or where.startswith("file:")


def _local(where: str) -> Path:
    return Path(where.removeprefix("file://").removeprefix("file:"))


def find(files: Files, where: str, contract: Contract) -> Found | None:
    """The entity's file or folder; SnapshotError when there are several or a required
    one is missing."""
    entity = contract.entity
    candidates = [
        Found(_join(where, f"{entity}.parquet"), "parquet", f"{entity}.parquet"),
        Found(_join(where, entity), "parts", f"{entity}/"),
        Found(_join(where, f"{entity}.csv"), "csv", f"{entity}.csv"),
    ]
    present = [
        c
        for c in candidates
        if (files.is_dir(c.location) if c.layout == "parts" else files.exists(c.location))
    ]
    if len(present) > 1:
        raise SnapshotError(
            f"snapshot {where}: {' and '.join(c.name for c in present)} exist; keep one"
        )
    if not present:
        if contract.required:
            raise SnapshotError(
                f"snapshot {where}: required file {entity}.csv (or {entity}.parquet, or a "
                f"folder {entity}/ of Parquet parts) is missing"
            )
        return None
    chosen = present[0]
    if chosen.layout == "csv" and not _is_local(where):
        raise SnapshotError(
            f"snapshot {where}: {chosen.name} is read on the driver, which needs a local "
            "snapshot folder: copy the CSV files to one, or export Parquet"
        )
    return chosen


def entity_text(
    spark: SparkSession,
    where: str,
    found: Found | None,
    contract: Contract,
    mapping: HeaderMapping | None,
) -> tuple[DataFrame | None, Source]:
    """The entity's rows as contract-column text plus `_row_number` (None: no file)."""
    if found is None:
        return None, Source()
    if found.layout == "csv":
        source = read_entity(_local(where), contract, mapping)
        frame = spark.createDataFrame(arrow_frame(source.frame))
        return frame, Source(source.ignored, source.mapped_columns)
    try:
        raw = spark.read.parquet(found.location)
        empty = pl.DataFrame(pl.from_arrow(empty_arrow(raw)))
    except Exception as error:  # a broken or empty Parquet file or folder
        raise SnapshotError(
            f"snapshot {where}: cannot read {found.name}: {_first_line(error)}"
        ) from None
    headers = map_headers(where, found.name, empty.columns, contract, mapping)
    # The schema of the text, and every error converting it, known before any task runs.
    shape = contract_text(
        empty.with_row_index(ROW_NUMBER).with_columns(pl.col(ROW_NUMBER).cast(pl.Int64)),
        headers,
        contract,
        mapping,
        snapshot=where,
        file_name=found.name,
    )
    from pyspark.sql import functions as F

    located = raw.select(
        "*", F.col("_metadata.file_path").alias(_FILE), F.col("_metadata.row_index").alias(_INDEX)
    )
    offsets: dict[str, int] | None = None  # one file: every row's offset is 0
    if len(raw.inputFiles()) > 1:
        counts = located.groupBy(_FILE).count().toArrow().to_pylist()
        offsets, total = {}, 0
        for row in sorted(counts, key=lambda r: str(r[_FILE])):
            offsets[str(row[_FILE])] = total
            total += int(row["count"])
    task = _text_task(headers, contract, mapping, offsets)
    frame = located.mapInArrow(task, spark_schema(dict(shape.schema)))
    return frame, Source(headers.ignored, headers.by_mapping)


def _text_task(
    headers: HeaderMap,
    contract: Contract,
    mapping: HeaderMapping | None,
    offsets: Mapping[str, int] | None,
) -> Any:
    """Every batch as contract-column text, `_row_number` from the part's offset and the
    row's index in its file."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = pl.DataFrame(pl.from_arrow(pa.Table.from_batches([batch])))
            numbered = rows.with_columns(
                (
                    (
                        pl.col(_FILE).replace_strict(offsets, return_dtype=pl.Int64)
                        if offsets is not None
                        else pl.lit(0, pl.Int64)
                    )
                    + pl.col(_INDEX)
                    + 1
                ).alias(ROW_NUMBER)
            ).drop(_FILE, _INDEX)
            text = contract_text(numbered, headers, contract, mapping)
            if text.height:
                yield from arrow_frame(text).to_batches()

    return run


def matched(frame: DataFrame, columns: list[str], reps: pl.DataFrame) -> DataFrame:
    """`match_reps` on every batch: owners named by name or e-mail become rep_ids."""
    payload = ipc(reps)
    schema = match_reps(pl.DataFrame(schema=polars_schema(frame)), columns, reps.lazy()).schema

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        known = from_ipc(payload).lazy()
        for batch in batches:
            rows = pl.DataFrame(pl.from_arrow(pa.Table.from_batches([batch])))
            yield from arrow_frame(match_reps(rows, columns, known)).to_batches()

    return frame.mapInArrow(run, spark_schema(dict(schema)))


def digests(spark: SparkSession, found: Mapping[str, Found | None]) -> dict[str, str]:
    """Per entity, its file's sha256 (a folder: of its parts' names and digests, in path
    order). Parquet files are hashed in Spark tasks, every entity in one job."""
    from pyspark.sql import functions as F

    sums = {
        entity: hashlib.sha256(_local(f.location).read_bytes()).hexdigest()
        for entity, f in found.items()
        if f is not None and f.layout == "csv"
    }
    parquet = {e: f for e, f in found.items() if f is not None and f.layout != "csv"}
    if not parquet:
        return sums

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            hashed = [hashlib.sha256(c).hexdigest() for c in batch.column("content").to_pylist()]
            yield pa.RecordBatch.from_pydict(
                {
                    "entity": batch.column("entity").to_pylist(),
                    "path": batch.column("path").to_pylist(),
                    "sha256": hashed,
                }
            )

    frames = [
        spark.read.format("binaryFile")
        .load(f.location)
        .select(F.lit(entity).alias("entity"), "path", "content")
        for entity, f in parquet.items()
    ]
    files = frames[0]
    for frame in frames[1:]:
        files = files.unionByName(frame)
    rows = files.mapInArrow(run, "entity string, path string, sha256 string").toArrow()
    parts: dict[str, list[tuple[str, str]]] = {}
    for row in rows.to_pylist():
        parts.setdefault(str(row["entity"]), []).append((str(row["path"]), str(row["sha256"])))
    for entity, f in parquet.items():
        listed = sorted(parts.get(entity, []))
        if f.layout == "parquet" and len(listed) == 1:
            sums[entity] = listed[0][1]
        else:
            listing = "".join(f"{path.rsplit('/', 1)[-1]} {sha}\n" for path, sha in listed)
            sums[entity] = hashlib.sha256(listing.encode()).hexdigest()
    return sums


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
