"""Ingest on Spark: a snapshot's files checked against their contracts in Spark tasks and
loaded into the Spark tables the dbt `spark` target reads, so a book whose activities live
in a lakehouse never passes through one process.

`ingest_on_spark` does what `switchboard.ingest.ingest_snapshot` does for DuckDB, with the
same functions:

- **Reading.** Per entity the snapshot holds `<entity>.parquet` (a file, or a folder Spark
  wrote), a folder `<entity>/` of Parquet parts (the lakehouse layout), or `<entity>.csv`;
  more than one of them, or a required entity with none, is a SnapshotError. The snapshot
  is any path Spark reads (a local folder, `s3a://...`). Parquet is read by Spark; its
  headers are mapped on the driver with `switchboard.ingest.read.map_headers` (the
  contract's aliases, or a header mapping) and every batch becomes the contract columns'
  text in the tasks with `read.contract_text`, as read.py does for one file. `_row_number`
  is the row's position: part files in path order, rows in file order (Spark's
  `_metadata.file_path` and `_metadata.row_index`). CSV goes through the driver-side reader
  (`read.read_entity`, so ragged and cut lines and every structural error are the same)
  and needs a local snapshot. The digest recorded in raw.export_history is the file's
  sha256, as on DuckDB; for a folder of parts, the sha256 of its parts' names and digests
  (computed in Spark tasks, which read each part once more).
- **Checking.** `switchboard.ingest.validate.validate` runs inside Spark tasks
  (`mapInArrow`). Row-local checks hold per task; references (only `on_missing:
  quarantine` ones are checked, see `ingest_order`) receive the parent's loaded and
  set-aside key values as an Arrow IPC payload; uniqueness needs every row of a key in one
  task, so an entity with one unique key set is repartitioned by a hash of the key as the
  contract parses it (`switchboard.ingest.parse.normalise/parse`, computed in a first
  `mapInArrow`, so " A1" and "A1" land together) and sorted by `_row_number` within each
  task. An entity with several unique key sets, or a checked self-reference, is checked
  whole in one task. With data_contracts/ as shipped: activities are row-local (no key);
  accounts (account_id), leads (lead_id), opportunities (opportunity_id), territories
  (territory_id), named_accounts (account_id), hr (email, the newest by updated_at then
  status_start kept) and territory_members (territory_id, rep_id) are repartitioned by
  their key; reps (rep_id and email) are checked whole. Good rows, quarantine entries and
  counts are the DuckDB path's, row number for row number.
- **Writing.** Nothing is written before every entity is read and checked and the export
  guards (`switchboard.guards.ExportGuard`, against the last raw.export_history row) pass.
  Then, as `switchboard.spark.load` lays tables out (Parquet under
  `<home>/sources/<schema>/<table>/`, registered in the databases `raw`...): raw.<entity>
  replaced, raw.quarantine and raw.ingest_log appended with this run_id's earlier rows
  replaced, raw.export_history appended, and raw.rep_roster from
  `switchboard.roster.update_roster` (reps and HR are small: they are collected to the
  driver). Every table is written beside its folder first and swapped in at the end.
- **No change set.** Spark builds are always full builds (docs/decisions/0025), so
  raw.changes is not computed and not written: the models read it only in an incremental
  build (`var('changes')`), which the Spark target refuses.

``python -m switchboard.spark.ingest SNAPSHOT --home HOME --run-id ID`` ingests from the
command line.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from switchboard import tables
from switchboard.contracts import Contract, load_contracts
from switchboard.errors import SnapshotError
from switchboard.guards import ExportCount, ExportGuard
from switchboard.ingest.parse import normalise, parse
from switchboard.ingest.read import ROW_NUMBER, HeaderMap, contract_text, map_headers, read_entity
from switchboard.ingest.result import (
    EXPORT_HISTORY_SCHEMA,
    INGEST_LOG_SCHEMA,
    EntityReport,
    IngestReport,
)
from switchboard.ingest.snapshot import ingest_order
from switchboard.ingest.validate import QUARANTINE_SCHEMA, Validated, stamped, validate
from switchboard.mapping import HeaderMapping, match_reps
from switchboard.quality import specs as q
from switchboard.roster import update_roster
from switchboard.spark.arrow import arrow_frame, from_ipc, ipc, local_frame, spark_schema
from switchboard.spark.load import SOURCES_FOLDER
from switchboard.spark.session import local_session, spark_home

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Layout = Literal["parquet", "parts", "csv"]
Partitioning = Literal["row_local", "keyed", "whole"]

_FILE, _INDEX, _KEY = "__file_path__", "__row_index__", "__partition_key__"
ENVELOPE = "kind string, payload binary"
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class _Found:
    """Where one entity's data is in the snapshot, and in which layout."""

    location: str
    layout: Layout
    name: str  # as error messages and raw.ingest_log name it


@dataclass(frozen=True)
class _Checked:
    report: EntityReport
    good: DataFrame | None  # None: no file, nothing loaded (an empty table is written)
    local_good: pl.DataFrame | None  # the loaded rows on the driver, for small entities


def key_sets(contract: Contract) -> list[list[str]]:
    """The column sets the contract says are unique (its uniqueness expectations)."""
    found: list[list[str]] = []
    for spec in q.raw_specs(contract):
        if spec.type == q.UNIQUE:
            columns = [str(spec.kwargs["column"])]
        elif spec.type == q.COMPOUND_UNIQUE:
            columns = [str(c) for c in spec.kwargs["column_list"]]
        else:
            continue
        if columns not in found:
            found.append(columns)
    return found


def partitioning(contract: Contract) -> Partitioning:
    """How an entity's rows are spread over tasks so that every check sees what it needs."""
    self_checked = any(
        c.references is not None
        and c.references.entity == contract.entity
        and c.references.on_missing == "quarantine"
        for c in contract.columns
    )
    keys = key_sets(contract)
    if self_checked or len(keys) > 1:
        return "whole"
    return "keyed" if keys else "row_local"


def ingest_on_spark(
    spark: SparkSession,
    snapshot: Path | str,
    run_id: str,
    *,
    home: Path | str | None,
    contracts: Mapping[str, Contract] | None = None,
    guard: ExportGuard | None = None,
    mapping: HeaderMapping | None = None,
) -> IngestReport:
    """Check a snapshot on Spark and load it into the Spark tables under `home`.

    Raises SnapshotError (a structural problem) or GuardTripped (with `guard`) before
    anything is written; see the module docstring.
    """
    contracts = load_contracts() if contracts is None else contracts
    order = ingest_order(contracts)
    where = str(snapshot)
    files = _Files(spark, where)
    if not files.is_dir(where):
        raise SnapshotError(f"snapshot {where}: folder does not exist")
    found = {entity: _find(files, where, contracts[entity]) for entity in contracts}
    texts = {
        entity: _text(spark, files, where, found[entity], contracts[entity], mapping)
        for entity in contracts
    }
    if mapping is not None and "reps" in texts and texts["reps"][0] is not None:
        reps_text = local_frame(texts["reps"][0])
        texts = {
            entity: (_matched(frame, source.rep_matched(mapping, entity), reps_text), source)
            if frame is not None and source.rep_matched(mapping, entity)
            else (frame, source)
            for entity, (frame, source) in texts.items()
        }

    digests = _digests(spark, found)
    checked: dict[str, _Checked] = {}
    known: dict[str, pl.DataFrame] = {}  # referenced entities' loaded and set-aside keys
    referenced = _referenced_columns(contracts)
    persisted: list[DataFrame] = []
    for entity in order:
        contract = contracts[entity]
        frame, source = texts[entity]
        result = _check(
            spark,
            frame,
            contract,
            {e: known[e] for e in known},
            small=entity in ("reps", "hr"),
            persisted=persisted,
        )
        where_found = found[entity]
        entity_report = EntityReport(
            entity=entity,
            source_file=where_found.location if where_found is not None else None,
            input_rows=result.input_rows,
            loaded_rows=result.loaded_rows,
            quarantined_rows=result.input_rows - result.loaded_rows,
            ignored_columns=source.ignored,
            quarantine=stamped(result.quarantine, run_id, entity),
            digest=digests.get(entity),
            rejected=result.rejected,
        )
        checked[entity] = _Checked(entity_report, result.good, result.local_good)
        if entity in referenced:
            columns = referenced[entity]
            good_keys = (
                local_frame(result.good.select(*columns).distinct())
                if result.good is not None
                else result.empty_good
            )
            known[entity] = pl.concat(
                [good_keys.select(columns), result.rejected.select(columns)], how="vertical_relaxed"
            )

    reports = {entity: checked[entity].report for entity in contracts}
    report = IngestReport(run_id=run_id, snapshot=Path(where), entities=reports)
    previous = _previous_exports(spark)
    if guard is not None:
        guard.check(
            [
                ExportCount(
                    entity,
                    _file_name(found[entity], entity),
                    r.input_rows,
                    r.loaded_rows,
                    previous.get(entity, (None, None))[1],
                )
                for entity, r in reports.items()
            ]
        )
    roster = None
    if "reps" in reports and "hr" in reports:
        roster = update_roster(
            _existing(spark, tables.RAW_REP_ROSTER),
            reps_contract=contracts["reps"],
            reps=_local_good(checked["reps"]),
            reps_rejected=reports["reps"].rejected,
            hr=_local_good(checked["hr"]),
            hr_rejected=reports["hr"].rejected,
            new_reps_export=_is_new_export(reports["reps"], previous),
            new_hr_export=_is_new_export(reports["hr"], previous),
            now=datetime.now(UTC).replace(tzinfo=None),
        )
    _write(spark, home, report, checked, roster)
    for frame in persisted:
        frame.unpersist()
    return report


# ---------------------------------------------------------------------------- reading


class _Files:
    """The snapshot's file system, through Hadoop (local folders, s3a://, hdfs://...)."""

    def __init__(self, spark: SparkSession, where: str) -> None:
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


def _file_name(found: _Found | None, entity: str) -> str:
    return found.name if found is not None else f"{entity}.csv"


def _join(where: str, name: str) -> str:
    return f"{where.rstrip('/')}/{name}"


def _is_local(where: str) -> bool:
    return "://" not in where or where.startswith("file:")


def _local(where: str) -> Path:
    return Path(where.removeprefix("file://").removeprefix("file:"))


def _find(files: _Files, where: str, contract: Contract) -> _Found | None:
    """The entity's file or folder; SnapshotError when there are several or a required
    one is missing."""
    entity = contract.entity
    candidates = [
        _Found(_join(where, f"{entity}.parquet"), "parquet", f"{entity}.parquet"),
        _Found(_join(where, entity), "parts", f"{entity}/"),
        _Found(_join(where, f"{entity}.csv"), "csv", f"{entity}.csv"),
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


@dataclass(frozen=True)
class _Source:
    """What the driver knows of one entity's file before its rows are read."""

    ignored: tuple[str, ...] = ()
    mapped_columns: tuple[str, ...] = ()

    def rep_matched(self, mapping: HeaderMapping, entity: str) -> list[str]:
        return [c for c in mapping.rep_matched(entity) if c in self.mapped_columns]


def _text(
    spark: SparkSession,
    files: _Files,
    where: str,
    found: _Found | None,
    contract: Contract,
    mapping: HeaderMapping | None,
) -> tuple[DataFrame | None, _Source]:
    """The entity's rows as contract-column text plus `_row_number` (None: no file)."""
    if found is None:
        return None, _Source()
    if found.layout == "csv":
        source = read_entity(_local(where), contract, mapping)
        frame = spark.createDataFrame(arrow_frame(source.frame))
        return frame, _Source(source.ignored, source.mapped_columns)
    try:
        raw = spark.read.parquet(found.location)
        empty = pl.DataFrame(pl.from_arrow(_empty_arrow(raw)))
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
    return frame, _Source(headers.ignored, headers.by_mapping)


def _empty_arrow(frame: DataFrame) -> pa.Table:
    from pyspark.sql.pandas.types import to_arrow_schema

    schema = to_arrow_schema(frame.schema)
    return pa.Table.from_arrays([pa.array([], f.type) for f in schema], schema=schema)


def _text_task(
    headers: HeaderMap,
    contract: Contract,
    mapping: HeaderMapping | None,
    offsets: Mapping[str, int] | None,
) -> Any:
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


def _matched(frame: DataFrame, columns: list[str], reps: pl.DataFrame) -> DataFrame:
    """`match_reps` on every batch: owners named by name or e-mail become rep_ids."""
    payload = ipc(reps)
    schema = match_reps(pl.DataFrame(schema=_polars_schema(frame)), columns, reps.lazy()).schema

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        known = from_ipc(payload).lazy()
        for batch in batches:
            rows = pl.DataFrame(pl.from_arrow(pa.Table.from_batches([batch])))
            yield from arrow_frame(match_reps(rows, columns, known)).to_batches()

    return frame.mapInArrow(run, spark_schema(dict(schema)))


def _polars_schema(frame: DataFrame) -> dict[str, pl.DataType]:
    return dict(pl.DataFrame(pl.from_arrow(_empty_arrow(frame))).schema)


def _digests(spark: SparkSession, found: Mapping[str, _Found | None]) -> dict[str, str]:
    """Per entity, its file's sha256 (a folder: of its parts' names and digests, in path
    order). Parquet files are hashed in Spark tasks, every entity in one job."""
    from pyspark.sql import functions as F

    digests = {
        entity: hashlib.sha256(_local(f.location).read_bytes()).hexdigest()
        for entity, f in found.items()
        if f is not None and f.layout == "csv"
    }
    parquet = {e: f for e, f in found.items() if f is not None and f.layout != "csv"}
    if not parquet:
        return digests

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            sums = [hashlib.sha256(c).hexdigest() for c in batch.column("content").to_pylist()]
            yield pa.RecordBatch.from_pydict(
                {
                    "entity": batch.column("entity").to_pylist(),
                    "path": batch.column("path").to_pylist(),
                    "sha256": sums,
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
            digests[entity] = listed[0][1]
        else:
            listing = "".join(f"{path.rsplit('/', 1)[-1]} {sha}\n" for path, sha in listed)
            digests[entity] = hashlib.sha256(listing.encode()).hexdigest()
    return digests


# --------------------------------------------------------------------------- checking


@dataclass(frozen=True)
class _Result:
    good: DataFrame | None
    local_good: pl.DataFrame | None
    empty_good: pl.DataFrame
    quarantine: pl.DataFrame
    rejected: pl.DataFrame
    input_rows: int
    loaded_rows: int


def _referenced_columns(contracts: Mapping[str, Contract]) -> dict[str, list[str]]:
    """Per parent entity, the columns checked references point at."""
    found: dict[str, list[str]] = {}
    for entity, contract in contracts.items():
        for column in contract.columns:
            ref = column.references
            if ref is None or ref.on_missing != "quarantine" or ref.entity == entity:
                continue
            columns = found.setdefault(ref.entity, [])
            if ref.column not in columns:
                columns.append(ref.column)
    return found


def _check(
    spark: SparkSession,
    frame: DataFrame | None,
    contract: Contract,
    parents: Mapping[str, pl.DataFrame],
    *,
    small: bool,
    persisted: list[DataFrame],
) -> _Result:
    """`validate` over the entity's rows in Spark tasks (see the module docstring)."""
    from pyspark.sql import functions as F

    parent_frames = {e: parents[e] for e in _parents(contract) if e in parents}
    text_schema = _polars_schema(frame) if frame is not None else {ROW_NUMBER: pl.Int64()}
    empty = validate(pl.DataFrame(schema=text_schema), contract, parent_frames)
    if frame is None:
        return _Result(None, empty.good, empty.good, empty.quarantine, empty.rejected, 0, 0)
    how = partitioning(contract)
    if how == "keyed":
        keys = key_sets(contract)[0]
        count = max(
            frame.rdd.getNumPartitions(), int(spark.conf.get("spark.sql.shuffle.partitions") or 4)
        )
        keyed_schema = spark_schema({**text_schema, _KEY: pl.Int64()})
        frame = (
            frame.mapInArrow(_key_task(contract, keys), keyed_schema)
            .repartition(count, _KEY)
            .drop(_KEY)
            .sortWithinPartitions(ROW_NUMBER)
        )
    elif how == "whole":
        frame = frame.repartition(1).sortWithinPartitions(ROW_NUMBER)
    payload = {e: ipc(f) for e, f in parent_frames.items()}
    envelope = frame.mapInArrow(_validate_task(contract, payload), ENVELOPE).persist()
    persisted.append(envelope)
    side = [
        (str(r["kind"]), bytes(r["payload"]))
        for r in envelope.where(F.col("kind") != "good").collect()
    ]

    def gathered(kind: str, like: pl.DataFrame) -> pl.DataFrame:
        frames = [from_ipc(p) for k, p in side if k == kind]
        return pl.concat([like, *frames], how="vertical_relaxed").cast(like.schema)

    counts = gathered("counts", pl.DataFrame(schema={"input": pl.Int64(), "good": pl.Int64()}))
    quarantine = gathered("quarantine", empty.quarantine).sort("row_number", maintain_order=True)
    rejected = gathered("rejected", empty.rejected).sort(ROW_NUMBER)
    good_schema = dict(empty.good.schema)
    good = envelope.where(F.col("kind") == "good").mapInArrow(
        _decoder(good_schema), spark_schema(good_schema)
    )
    local_good = None
    if small:
        local_good = _gathered_good(envelope, empty.good)
    return _Result(
        good,
        local_good,
        empty.good,
        quarantine,
        rejected,
        int(counts["input"].sum()),
        int(counts["good"].sum()),
    )


def _gathered_good(envelope: DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """The loaded rows on the driver, in file order (small entities only)."""
    from pyspark.sql import functions as F

    frames = [
        from_ipc(bytes(r["payload"])) for r in envelope.where(F.col("kind") == "good").collect()
    ]
    return pl.concat([like, *frames], how="vertical_relaxed").cast(like.schema).sort(ROW_NUMBER)


def _parents(contract: Contract) -> list[str]:
    return [
        c.references.entity
        for c in contract.columns
        if c.references is not None
        and c.references.on_missing == "quarantine"
        and c.references.entity != contract.entity
    ]


def _key_task(contract: Contract, keys: Sequence[str]) -> Any:
    """Adds the partition key: a hash of the key as the contract parses it."""
    typed = [
        parse(normalise(name, contract.column(name).type), contract.column(name).type)
        .cast(contract.column(name).polars_type)
        .alias(name)
        for name in keys
    ]

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            rows = pl.DataFrame(pl.from_arrow(pa.Table.from_batches([batch])))
            hashed = rows.with_columns(
                pl.struct(typed).hash(seed=0).reinterpret(signed=True).alias(_KEY)
            )
            yield from arrow_frame(hashed).to_batches()

    return run


def _validate_task(contract: Contract, parents: Mapping[str, bytes]) -> Any:
    """`validate` once per task over all its rows; an envelope of (kind, IPC payload)."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tables_ = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables_:
            return
        rows = pl.DataFrame(pl.from_arrow(pa.concat_tables(tables_)))
        known = {entity: from_ipc(payload) for entity, payload in parents.items()}
        checked: Validated = validate(rows, contract, known)
        counts = pl.DataFrame(
            {"input": [rows.height], "good": [checked.good.height]},
            schema={"input": pl.Int64(), "good": pl.Int64()},
        )
        kinds: list[str] = []
        payloads: list[bytes] = []
        for kind, frame in (
            ("good", checked.good),
            ("quarantine", checked.quarantine),
            ("rejected", checked.rejected),
            ("counts", counts),
        ):
            for chunk in frame.iter_slices(CHUNK_ROWS) if frame.height else []:
                kinds.append(kind)
                payloads.append(ipc(chunk))
        yield pa.RecordBatch.from_pydict(
            {"kind": kinds, "payload": payloads},
            schema=pa.schema([("kind", pa.string()), ("payload", pa.binary())]),
        )

    return run


def _decoder(schema: Mapping[str, pl.DataType]) -> Any:
    def decode(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for payload in batch.column("payload").to_pylist():
                frame = from_ipc(payload).cast(dict(schema))  # type: ignore[arg-type]
                yield from arrow_frame(frame).to_batches()

    return decode


# ---------------------------------------------------------------------------- writing


def _existing(spark: SparkSession, table: str) -> pl.DataFrame:
    """A Spark table's rows on the driver (timestamps naive UTC); empty when absent."""
    if not spark.catalog.tableExists(table):
        return pl.DataFrame()
    return local_frame(spark.table(table))


def _previous_exports(spark: SparkSession) -> dict[str, tuple[str | None, int]]:
    """Per entity, the digest and loaded rows of the last export loaded (raw.export_history)."""
    history = _existing(spark, tables.RAW_EXPORT_HISTORY)
    if history.is_empty():
        return {}
    last = history.sort("loaded_at").group_by("entity").last()
    return {
        str(r["entity"]): (r["digest"], int(r["loaded_rows"])) for r in last.iter_rows(named=True)
    }


def _is_new_export(report: EntityReport, previous: Mapping[str, tuple[str | None, int]]) -> bool:
    return report.digest is None or previous.get(report.entity, (None, 0))[0] != report.digest


def _local_good(checked: _Checked) -> pl.DataFrame:
    if checked.local_good is None:
        raise ValueError(f"{checked.report.entity}: its loaded rows were not collected")
    return checked.local_good


def _write(
    spark: SparkSession,
    home: Path | str | None,
    report: IngestReport,
    checked: Mapping[str, _Checked],
    roster: pl.DataFrame | None,
) -> None:
    """Stage every table beside its folder, then swap them in and register them."""
    root = spark_home(home) / SOURCES_FOLDER
    now = datetime.now(UTC).replace(tzinfo=None)
    log, history = report.ingest_log(now), report.export_history(now)
    staged: list[tuple[str, Path]] = []

    def stage(name: str) -> Path:
        schema, _, table = name.partition(".")
        folder = root / schema / f".{table}.staging"
        shutil.rmtree(folder, ignore_errors=True)
        staged.append((name, folder))
        return folder

    for entity, entity_checked in checked.items():
        folder = stage(f"raw.{entity}")
        if entity_checked.good is not None:
            entity_checked.good.write.mode("overwrite").parquet(folder.as_posix())
        else:
            _write_local(folder, _local_good(entity_checked))
    for name, added, columns in (
        (tables.RAW_QUARANTINE, report.quarantine, QUARANTINE_SCHEMA),
        (tables.RAW_INGEST_LOG, log, INGEST_LOG_SCHEMA),
        (tables.RAW_EXPORT_HISTORY, history, EXPORT_HISTORY_SCHEMA),
    ):
        # Appended, this run's earlier rows replaced (a re-ingest does not duplicate them).
        before = _existing(spark, name)
        rows = (
            added
            if before.is_empty()
            else pl.concat(
                [
                    before.filter(pl.col("run_id") != report.run_id)
                    .select(list(columns))
                    .cast(columns),  # type: ignore[arg-type]
                    added.cast(columns),  # type: ignore[arg-type]
                ]
            )
        )
        _write_local(stage(name), rows)
    if roster is not None:
        _write_local(stage(tables.RAW_REP_ROSTER), roster)

    for database in sorted({name.partition(".")[0] for name, _ in staged}):
        spark.sql(f"create database if not exists `{database}`")
    for name, folder in staged:
        schema, _, table = name.partition(".")
        target = root / schema / table
        spark.sql(f"drop table if exists `{schema}`.`{table}`")
        shutil.rmtree(target, ignore_errors=True)
        folder.rename(target)
        spark.sql(f"create table `{schema}`.`{table}` using parquet location '{target.as_posix()}'")


def _write_local(folder: Path, frame: pl.DataFrame) -> None:
    """A small table as one Parquet file, timestamps as UTC instants (as load.py writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(arrow_frame(frame), folder / "data.parquet")


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


# ------------------------------------------------------------------------ command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m switchboard.spark.ingest",
        description="Check a snapshot against its contracts on Spark and load its Spark tables.",
    )
    parser.add_argument("snapshot", help="the snapshot folder (a local path or s3a://...)")
    parser.add_argument(
        "--home",
        type=Path,
        default=None,
        help="the Spark home (tables and metastore); default $SWITCHBOARD_SPARK_HOME "
        "or ./spark-warehouse",
    )
    parser.add_argument("--run-id", required=True, help="the run the rows are stamped with")
    args = parser.parse_args(argv)
    spark = local_session(args.home)
    try:
        report = ingest_on_spark(spark, args.snapshot, args.run_id, home=args.home)
    except SnapshotError as error:
        print(f"error: {error}")
        return 2
    for entity, r in report.entities.items():
        print(
            f"{entity}: {r.input_rows} rows, {r.loaded_rows} loaded, "
            f"{r.quarantined_rows} quarantined"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
