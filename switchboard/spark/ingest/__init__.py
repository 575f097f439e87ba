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
  set-aside key values (which the parent's own tasks returned) as an Arrow IPC payload;
  uniqueness needs every row of a key in one task, so an entity with one unique key set is
  repartitioned by a hash of the key as the contract parses it
  (`switchboard.ingest.parse.normalise/parse`, computed in a first `mapInArrow`, so " A1"
  and "A1" land together) and sorted by `_row_number` within each task. An entity with
  several unique key sets, or a checked self-reference, is checked whole in one task. With
  data_contracts/ as shipped: activities are row-local (no key); accounts (account_id),
  leads (lead_id), opportunities (opportunity_id), territories (territory_id),
  named_accounts (account_id), hr (email, the newest by updated_at then status_start kept)
  and territory_members (territory_id, rep_id) are repartitioned by their key; reps
  (rep_id and email) are checked whole. The task returns the good rows in their own typed
  columns, so raw.<entity> is a plain Spark write of them, and the quarantine entries,
  set-aside rows and counts beside them as Arrow IPC payloads, which the driver gathers.
  Good rows, quarantine entries and counts are the DuckDB path's, row number for row
  number.
- **Writing.** Nothing is written before every entity is read and checked and the export
  guards (`switchboard.guards.ExportGuard`, against the last raw.export_history row) pass.
  Then, as `switchboard.spark.load` lays tables out (Parquet under
  `<home>/sources/<schema>/<table>/`, registered in the databases `raw`...): raw.<entity>
  replaced, raw.quarantine and raw.ingest_log appended with this run_id's earlier rows
  replaced, raw.export_history appended, and raw.rep_roster from
  `switchboard.roster.update_roster` (reps and HR are small: they are collected to the
  driver, and written from there). Every table is written beside its folder first and
  swapped in at the end, registered with its schema (no file is read to infer it).
- **No change set.** Spark builds are always full builds (docs/decisions/0025), so
  raw.changes is not computed and not written: the models read it only in an incremental
  build (`var('changes')`), which the Spark target refuses.

The three steps are the package's modules: files.py (finding and reading the entity
files, row numbers, digests), check.py (spreading rows over tasks and `validate` in them)
and write.py (the raw tables); this module runs them in order. ``python -m
switchboard.spark.ingest SNAPSHOT --home HOME --run-id ID`` ingests from the command line
(cli.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from switchboard import tables
from switchboard.contracts import Contract, load_contracts
from switchboard.errors import SnapshotError
from switchboard.guards import ExportCount, ExportGuard
from switchboard.ingest.result import EntityReport, IngestReport
from switchboard.ingest.snapshot import ingest_order
from switchboard.ingest.validate import stamped
from switchboard.mapping import HeaderMapping
from switchboard.roster import update_roster
from switchboard.spark.arrow import local_frame
from switchboard.spark.ingest.check import (
    CHUNK_ROWS,
    Partitioning,
    check_entity,
    key_sets,
    partitioning,
    referenced_columns,
)
from switchboard.spark.ingest.cli import main
from switchboard.spark.ingest.files import (
    Files,
    Layout,
    digests,
    entity_text,
    file_name,
    find,
    matched,
)
from switchboard.spark.ingest.write import (
    Checked,
    existing,
    is_new_export,
    local_good,
    previous_exports,
    write_tables,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = [
    "CHUNK_ROWS",
    "Layout",
    "Partitioning",
    "ingest_on_spark",
    "key_sets",
    "main",
    "partitioning",
]


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
    anything is written; see the package docstring.
    """
    contracts = load_contracts() if contracts is None else contracts
    order = ingest_order(contracts)
    where = str(snapshot)
    files = Files(spark)
    if not files.is_dir(where):
        raise SnapshotError(f"snapshot {where}: folder does not exist")
    found = {entity: find(files, where, contracts[entity]) for entity in contracts}
    texts = {
        entity: entity_text(spark, where, found[entity], contracts[entity], mapping)
        for entity in contracts
    }
    if mapping is not None and "reps" in texts and texts["reps"][0] is not None:
        reps_text = local_frame(texts["reps"][0])
        texts = {
            entity: (matched(frame, source.rep_matched(mapping, entity), reps_text), source)
            if frame is not None and source.rep_matched(mapping, entity)
            else (frame, source)
            for entity, (frame, source) in texts.items()
        }

    sums = digests(spark, found)
    checked: dict[str, Checked] = {}
    known: dict[str, pl.DataFrame] = {}  # referenced entities' loaded and set-aside keys
    referenced = referenced_columns(contracts)
    persisted: list[DataFrame] = []
    for entity in order:
        contract = contracts[entity]
        frame, source = texts[entity]
        result = check_entity(
            frame,
            contract,
            known,
            referenced=referenced.get(entity, ()),
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
            digest=sums.get(entity),
            rejected=result.rejected,
        )
        checked[entity] = Checked(entity_report, result.good, result.local_good)
        if entity in referenced:
            known[entity] = result.keys

    reports = {entity: checked[entity].report for entity in contracts}
    report = IngestReport(run_id=run_id, snapshot=Path(where), entities=reports)
    previous = previous_exports(spark)
    if guard is not None:
        guard.check(
            [
                ExportCount(
                    entity,
                    file_name(found[entity], entity),
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
            existing(spark, tables.RAW_REP_ROSTER),
            reps_contract=contracts["reps"],
            reps=local_good(checked["reps"]),
            reps_rejected=reports["reps"].rejected,
            hr=local_good(checked["hr"]),
            hr_rejected=reports["hr"].rejected,
            new_reps_export=is_new_export(reports["reps"], previous),
            new_hr_export=is_new_export(reports["hr"], previous),
            now=datetime.now(UTC).replace(tzinfo=None),
        )
    write_tables(spark, home, report, checked, roster)
    for frame in persisted:
        frame.unpersist()
    return report
