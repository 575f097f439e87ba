"""Snapshot folder → `raw.<entity>` tables, with every contract-breaking row quarantined.

A snapshot is a folder holding `<entity>.csv` or `<entity>.parquet` per contract. Ingest
reads each file as text, maps its headers to contract columns through the contract's
aliases (or a header mapping's headers and value formats, see switchboard.mapping),
normalises and casts the values, and evaluates the contract's expectations (the same
:func:`switchboard.quality.raw_specs` the GX suites are built from) as one vectorised
Polars pipeline. Rows that break an expectation go to `raw.quarantine`, one row per
(row, column, expectation), and the run goes on with the rest; `input_rows = loaded_rows
+ quarantined_rows` holds for every entity.

A CSV line with more fields than the header is such a row too (expectation
`expect_row_field_count_to_equal_header` on column `_row`), not a reason to drop the file.

Structural problems are different: a missing required file or column, an unreadable file
(an unterminated quote, say) or two headers claiming one column stop the run with
:class:`SnapshotError`, raised before anything is written. Lines whose every field is
empty are not data rows (they still count for row numbering, so `_row_number` matches
the record position in the file).
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl

from switchboard import quality as q
from switchboard.changes import ChangeSet, arrival_hashes, change_set, record_arrivals
from switchboard.contracts import Column, Contract, header_key, load_contracts
from switchboard.engine.schema import ARRIVAL_SCOPE
from switchboard.errors import SnapshotError
from switchboard.guards import ExportCount, ExportGuard
from switchboard.mapping import (
    REP_MATCH_EXPECTATION,
    ColumnMapping,
    HeaderMapping,
    canonical,
    match_reps,
    unmatched_column,
)
from switchboard.roster import update_roster
from switchboard.warehouse import ensure_routing_tables, table_exists, write_table

ROW_NUMBER = "_row_number"
# The fields past the header on a line that has too many (see _read_ragged_csv).
RAGGED = "_fields_past_header"
RAGGED_SPARE = 8  # spare columns read past the header; more extra fields are cut off
ROW_COLUMN = "_row"  # quarantine column_name for a problem with the whole line
FIELD_COUNT_EXPECTATION = "expect_row_field_count_to_equal_header"
# Why the last line of a file that ends without a line break looks cut (see _cut_last_line).
TRUNCATED = "_truncated_line"
TRUNCATION_EXPECTATION = "expect_last_line_to_be_complete"
# raw.quarantine.action: the row was set aside, or only the cell was cleared (an optional
# column's bad value) and the row loaded without it.
ROW_QUARANTINED, CELL_CLEARED = "row_quarantined", "cell_cleared"
SUMMARY_ROWS = 5  # row numbers shown per reason in `switchboard check`
MAX_VALUE_CHARS = 200
REASON_VALUE_CHARS = 60

QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "entity": pl.String(),
    "row_number": pl.Int64(),
    "column_name": pl.String(),
    "expectation": pl.String(),
    "value": pl.String(),
    "reason": pl.String(),
    "action": pl.String(),
}
INGEST_LOG_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "entity": pl.String(),
    "source_file": pl.String(),
    "input_rows": pl.Int64(),
    "loaded_rows": pl.Int64(),
    "quarantined_rows": pl.Int64(),
    "ingested_at": pl.Datetime("us"),
}

BOOLEANS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}
INTEGER_RE = r"^[+-]?\d+(\.0*)?$"  # "1200.0" is what spreadsheets and float columns emit
NUMBER_RE = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
DATE_RE = r"^\d{4}-\d{2}-\d{2}$"
# A date, or a date and time with optional seconds, fraction and UTC offset (upper-cased).
TIMESTAMP_RE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? *(Z|[+-]\d{2}(:?\d{2})?)?)?$"
TIMESTAMP_OFFSET_RE = r"(Z|[+-]\d{2}(?::?\d{2})?)$"
TYPE_NOUNS = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true/false/1/0/yes/no)",
    "timestamp": "an ISO 8601 timestamp",
    "date": "an ISO 8601 date (YYYY-MM-DD)",
}
_DUPLICATE_HEADER = re.compile(r"^(?P<base>.*)_duplicated_\d+$")  # how Polars renames repeats


@dataclass(frozen=True)
class EntityReport:
    """What ingest did with one entity's file."""

    entity: str
    source_file: str | None
    input_rows: int
    loaded_rows: int
    quarantined_rows: int
    ignored_columns: tuple[str, ...] = ()
    quarantine: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA), repr=False
    )
    digest: str | None = None  # sha256 of the file (None: no file)
    # The rows set aside, typed, with their first problem (see Validated).
    rejected: pl.DataFrame = field(default_factory=pl.DataFrame, repr=False)


@dataclass(frozen=True)
class IngestReport:
    """Per-entity counts and the quarantined rows of one ingest run."""

    run_id: str
    snapshot: Path
    entities: dict[str, EntityReport]
    # The full load this one's change set compares with (switchboard.changes); None for a
    # first load (everything is new) and for a check or an arrivals pass.
    base_run_id: str | None = None

    def __getitem__(self, entity: str) -> EntityReport:
        return self.entities[entity]

    @property
    def quarantine(self) -> pl.DataFrame:
        """Every quarantined (row, column, expectation), entity by entity."""
        frames = [r.quarantine for r in self.entities.values()]
        return pl.concat(frames) if frames else pl.DataFrame(schema=QUARANTINE_SCHEMA)

    @property
    def quarantined_rows(self) -> int:
        return sum(r.quarantined_rows for r in self.entities.values())

    @property
    def wholly_quarantined(self) -> list[EntityReport]:
        """Entities whose file has rows and none of them loads: a format change (a date
        format, a renamed status) rather than a few bad rows."""
        return [r for r in self.entities.values() if r.input_rows and not r.loaded_rows]

    def quarantine_summary(self) -> pl.DataFrame:
        """The quarantine counted by entity, column, check and action, largest first, each
        with its first rows and one example reason: thousands of rows set aside for one
        reason read as one line, not as a list cut after the first fifty."""
        return (
            self.quarantine.lazy()
            .group_by("entity", "column_name", "expectation", "action")
            .agg(
                rows=pl.len(),
                first_rows=pl.col("row_number").sort().head(SUMMARY_ROWS)
                .cast(pl.String).str.join(", "),
                example=pl.col("reason").sort_by("row_number").first(),
            )
            .sort(["rows", "entity", "column_name", "expectation"],
                  descending=[True, False, False, False])
            .collect()
        )

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Counts per entity, ready for logs and summaries."""
        return {
            entity: {
                "source_file": r.source_file,
                "input_rows": r.input_rows,
                "loaded_rows": r.loaded_rows,
                "quarantined_rows": r.quarantined_rows,
                "ignored_columns": list(r.ignored_columns),
            }
            for entity, r in self.entities.items()
        }


# --------------------------------------------------------------------------- public API


def ingest_snapshot(
    snapshot: Path,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    contracts: Mapping[str, Contract] | None = None,
    *,
    arrivals_since: datetime | None = None,
    guard: ExportGuard | None = None,
    mapping: HeaderMapping | None = None,
) -> IngestReport:
    """Load a snapshot folder into `raw.*`; quarantine the rows that break their contract.

    With `guard`, a header-only, emptied or cut export (against the last loaded one,
    raw.export_history) raises GuardTripped before anything is written. Each load is
    appended to raw.export_history, and raw.rep_roster (switchboard.roster) learns which
    reps this export lists, lists broken or leaves out.

    Every file is read and checked before the first write, so a SnapshotError leaves the
    warehouse untouched; the writes then happen in one transaction. Re-ingesting with the
    same run_id replaces that run's quarantine and log rows instead of duplicating them.

    With `arrivals_since`, the loaded accounts and leads that raw did not hold and that were
    created after `arrivals_since - ARRIVALS_LOOK_BACK` also join routing.arrival_scope:
    the records an arrivals pass routes (see :func:`ingest_arrivals`).

    With `mapping` (switchboard.mapping), the export's own headers and value formats are
    read as the mapping says, and owners given by name or e-mail become rep_ids.
    """
    contracts = load_contracts() if contracts is None else contracts
    report, loaded = _prepare(Path(snapshot), run_id, contracts, mapping)
    previous = _previous_exports(con)
    if guard is not None:
        guard.check([
            ExportCount(entity, Path(r.source_file).name if r.source_file else f"{entity}.csv",
                        r.input_rows, r.loaded_rows, previous.get(entity, (None, None))[1])
            for entity, r in report.entities.items()
        ])
    scope = None
    if arrivals_since is not None:
        recent = pl.col("created_at") > arrivals_since - ARRIVALS_LOOK_BACK
        scope = pl.concat([
            _scope_rows(loaded[entity].lazy().filter(recent), con, entity, contracts[entity],
                        run_id)
            for entity in ARRIVAL_ENTITIES
        ])
    roster = None
    if "reps" in report.entities and "hr" in report.entities:
        before = (con.sql("select * from raw.rep_roster").pl()
                  if table_exists(con, "raw.rep_roster") else pl.DataFrame())
        roster = update_roster(
            before, reps_contract=contracts["reps"], reps=loaded["reps"],
            reps_rejected=report["reps"].rejected, hr=loaded["hr"],
            hr_rejected=report["hr"].rejected,
            new_reps_export=_is_new_export(report["reps"], previous),
            new_hr_export=_is_new_export(report["hr"], previous),
            now=datetime.now(UTC).replace(tzinfo=None),
        )
    changed = change_set(con, loaded, contracts, run_id)
    _write(con, report, loaded, scope=scope, roster=roster, changes=changed)
    return replace(report, base_run_id=changed.base_run_id)


EXPORT_HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "entity": pl.String(),
    "source_file": pl.String(),
    "digest": pl.String(),
    "input_rows": pl.Int64(),
    "loaded_rows": pl.Int64(),
    "loaded_at": pl.Datetime("us"),
}


def _previous_exports(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str | None, int]]:
    """Per entity, the digest and loaded rows of the last export a full ingest loaded
    (raw.export_history): what the row-drop guard and the absence counters compare with."""
    if not table_exists(con, "raw.export_history"):
        return {}
    rows = con.execute("""
        select entity, digest, loaded_rows from raw.export_history
        qualify row_number() over (partition by entity order by loaded_at desc) = 1
    """).fetchall()
    return {entity: (digest, loaded) for entity, digest, loaded in rows}


def _is_new_export(report: EntityReport, previous: Mapping[str, tuple[str | None, int]]) -> bool:
    return report.digest is None or previous.get(report.entity, (None, 0))[0] != report.digest


ARRIVAL_ENTITIES = ("accounts", "leads")
# How far before the watermark an arrivals pass still looks for records raw lacks: a CRM
# export can list a record some time after its created_at. Older ones wait for the hourly
# run, which routes every record needing an owner.
ARRIVALS_LOOK_BACK = timedelta(hours=2)


def ingest_arrivals(
    snapshot: Path,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    since: datetime,
    contracts: Mapping[str, Contract] | None = None,
    mapping: HeaderMapping | None = None,
) -> IngestReport:
    """Append to `raw.accounts` / `raw.leads` the records the snapshot lists and raw does
    not hold yet, created after `since - ARRIVALS_LOOK_BACK`, checked against their
    contracts like a full ingest; and list them in routing.arrival_scope, the records the
    arrivals pass routes.

    Whatever the export holds when the pass reads it is routed, even a record created after
    the pass's as-of or one exported late: new means "not in raw", and the look-back only
    bounds how far back a pass looks. Scope rows of an earlier pass that died before
    deciding stay in the scope (see :func:`_write`), so a retry routes them.

    The other entities (reps, territories, pipeline...) keep what the last full ingest
    loaded. Rows whose created_at does not parse wait for the next full ingest, which
    routes and quarantines them as usual. `input_rows` counts the new rows considered, so
    `input = loaded + quarantined` still holds per entity.
    """
    contracts = load_contracts() if contracts is None else contracts
    snapshot = Path(snapshot)
    if not snapshot.is_dir():
        raise SnapshotError(f"snapshot {snapshot}: folder does not exist")
    cutoff = since - ARRIVALS_LOOK_BACK
    loaded: dict[str, pl.DataFrame] = {}
    reports: dict[str, EntityReport] = {}
    scopes: list[pl.DataFrame] = []
    for entity in ARRIVAL_ENTITIES:
        contract = contracts[entity]
        source = _read_entity(snapshot, contract, mapping)
        if source.rep_matched(mapping, entity):
            # The reps this pass can name are the ones the last full ingest loaded.
            reps = con.sql("select rep_id, name, email from raw.reps").pl().lazy()
            source = replace(source, frame=match_reps(
                source.frame, source.rep_matched(mapping, entity), reps))
        (key,) = contract.key_columns
        known = con.sql(f"select {key} from raw.{entity}").pl()
        created = parse_timestamp(normalise("created_at", "timestamp"))
        # The records raw lacks first, then their creation times: parsing every row's
        # created_at cost 0.5 s of a 1.3 s pass at 1M accounts. Two collects, so that the
        # optimiser does not push the filter back under the join.
        unseen = (
            source.frame.lazy()
            .join(known.lazy(), left_on=normalise(key), right_on=key, how="anti")
            .collect()
        )
        new = unseen.filter(created > cutoff)
        good, quarantine = validate_entity(new, contract, loaded)
        quarantine = quarantine.select(
            pl.lit(run_id).alias("run_id"), pl.lit(entity).alias("entity"), pl.all()
        ).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]
        loaded[entity] = good
        scopes.append(_scope_rows(good.lazy(), None, entity, contract, run_id))
        reports[entity] = EntityReport(
            entity=entity,
            source_file=str(source.path) if source.path else None,
            input_rows=new.height,
            loaded_rows=good.height,
            quarantined_rows=new.height - good.height,
            ignored_columns=source.ignored,
            quarantine=quarantine,
        )
    report = IngestReport(run_id=run_id, snapshot=snapshot, entities=reports)
    _write(con, report, loaded, mode="append", scope=pl.concat(scopes),
           arrived=arrival_hashes(loaded, contracts))
    return report


TOUCHES_SCHEMA: dict[str, pl.DataType] = {
    "lead_id": pl.String(),
    "rep_id": pl.String(),
    "occurred_at": pl.Datetime("us"),
}


def lead_touches(
    snapshot: Path,
    con: duckdb.DuckDBPyConnection,
    lead_ids: Sequence[str],
    contracts: Mapping[str, Contract] | None = None,
    mapping: HeaderMapping | None = None,
) -> pl.DataFrame:
    """The activities the snapshot's export lists on these leads (lead_id, rep_id,
    occurred_at), rows the activities contract would set aside left out.

    An arrivals pass reads them to judge a lead's first-touch SLA (switchboard.engine.sla):
    raw.activities holds what the last full ingest loaded, and a rep may have touched the
    lead since. Nothing is written; the next full ingest loads the file as usual. Owners
    a header mapping gives by name or e-mail are matched to the reps the last full ingest
    loaded, as for the pass's new records.
    """
    contracts = load_contracts() if contracts is None else contracts
    contract = contracts["activities"]
    wanted = sorted(set(lead_ids))
    source = _read_entity(Path(snapshot), contract, mapping)
    if not wanted or "lead_id" not in source.frame.columns or source.frame.is_empty():
        return pl.DataFrame(schema=TOUCHES_SCHEMA)
    # The rows of these leads first, then the checks: most of an export is about others.
    frame = source.frame.filter(normalise("lead_id").is_in(wanted))
    if source.rep_matched(mapping, "activities"):
        reps = con.sql("select rep_id, name, email from raw.reps").pl().lazy()
        frame = match_reps(frame, source.rep_matched(mapping, "activities"), reps)
    good, _ = validate_entity(frame, contract, {})
    return good.select(list(TOUCHES_SCHEMA)).cast(TOUCHES_SCHEMA)  # type: ignore[arg-type]


def _scope_rows(
    records: pl.LazyFrame,
    con: duckdb.DuckDBPyConnection | None,
    entity: str,
    contract: Contract,
    run_id: str,
) -> pl.DataFrame:
    """routing.arrival_scope rows for `records` (loaded rows of accounts or leads); with
    `con`, only those raw.<entity> does not hold yet."""
    (key,) = contract.key_columns
    if con is not None and table_exists(con, f"raw.{entity}"):
        known = con.sql(f"select {key} from raw.{entity}").pl().lazy()
        records = records.join(known, on=key, how="anti")
    return records.select(
        record_type=pl.lit(entity.removesuffix("s")),
        record_id=pl.col(key),
        run_id=pl.lit(run_id),
    ).collect().cast(ARRIVAL_SCOPE)  # type: ignore[arg-type]


def check_snapshot(
    snapshot: Path, contracts: Mapping[str, Contract] | None = None, run_id: str = "check",
    mapping: HeaderMapping | None = None,
) -> IngestReport:
    """What ingest would load and quarantine, without touching any warehouse."""
    report, _ = _prepare(Path(snapshot), run_id, contracts, mapping)
    return report


def ingest_order(contracts: Mapping[str, Contract]) -> list[str]:
    """Entities ordered so each comes after the entities its quarantining references need.

    Ties keep the contracts' own order. References with on_missing: warn do not order
    anything: ingest does not check them.
    """
    needs: dict[str, set[str]] = {}
    for entity, contract in contracts.items():
        needs[entity] = set()
        for column in contract.columns:
            ref = column.references
            if ref is None or ref.on_missing != "quarantine" or ref.entity == entity:
                continue
            if ref.entity not in contracts:
                raise ValueError(
                    f"contract {entity}: {column.name} references {ref.entity}, "
                    "which has no contract"
                )
            needs[entity].add(ref.entity)
    order: list[str] = []
    while len(order) < len(needs):
        ready = [e for e in needs if e not in order and needs[e] <= set(order)]
        if not ready:
            cycle = sorted(set(needs) - set(order))
            raise ValueError(f"contracts reference each other in a cycle: {', '.join(cycle)}")
        order.append(ready[0])
    return order


# --------------------------------------------------------------------------- orchestration


@dataclass(frozen=True)
class _Source:
    """One entity's file as read: contract columns as text plus `_row_number`."""

    path: Path | None
    frame: pl.DataFrame
    ignored: tuple[str, ...]
    digest: str | None = None  # sha256 of the file: tells a new export from the same one
    mapped_columns: tuple[str, ...] = ()  # read through a header mapping's headers

    def rep_matched(self, mapping: HeaderMapping | None, entity: str) -> list[str]:
        """The columns whose values name reps: mapped ones the mapping says match reps."""
        if mapping is None:
            return []
        return [c for c in mapping.rep_matched(entity) if c in self.mapped_columns]


def _prepare(
    snapshot: Path, run_id: str, contracts: Mapping[str, Contract] | None,
    mapping: HeaderMapping | None = None,
) -> tuple[IngestReport, dict[str, pl.DataFrame]]:
    contracts = load_contracts() if contracts is None else contracts
    order = ingest_order(contracts)
    if not snapshot.is_dir():
        raise SnapshotError(f"snapshot {snapshot}: folder does not exist")
    sources = {entity: _read_entity(snapshot, contracts[entity], mapping)
               for entity in contracts}
    if mapping is not None:
        sources = _match_reps(sources, mapping)

    loaded: dict[str, pl.DataFrame] = {}
    reports: dict[str, EntityReport] = {}
    # What references resolve against: the loaded rows, and the rows set aside for
    # something other than their key (a rep whose e-mail is broken still exists, so the
    # rep's territory memberships stay).
    known: dict[str, pl.DataFrame] = {}
    for entity in order:
        contract, source = contracts[entity], sources[entity]
        checked = validate(source.frame, contract, known)
        good = checked.good
        quarantine = checked.quarantine.select(
            pl.lit(run_id).alias("run_id"), pl.lit(entity).alias("entity"), pl.all()
        ).cast(QUARANTINE_SCHEMA)  # type: ignore[arg-type]
        loaded[entity] = good
        known[entity] = pl.concat([good, checked.rejected.select(good.columns)])
        reports[entity] = EntityReport(
            entity=entity,
            source_file=str(source.path) if source.path else None,
            input_rows=source.frame.height,
            loaded_rows=good.height,
            quarantined_rows=source.frame.height - good.height,
            ignored_columns=source.ignored,
            quarantine=quarantine,
            digest=source.digest,
            rejected=checked.rejected,
        )
    ordered = {entity: reports[entity] for entity in contracts}
    return IngestReport(run_id=run_id, snapshot=snapshot, entities=ordered), loaded


def _match_reps(sources: dict[str, _Source], mapping: HeaderMapping) -> dict[str, _Source]:
    """Owners the export gives by name or e-mail, as rep_ids of this export's reps (read
    as text: a rep whose row breaks its contract still names its owner)."""
    if "reps" not in sources:
        return sources
    reps = sources["reps"].frame.lazy()
    return {
        entity: replace(source, frame=match_reps(
            source.frame, source.rep_matched(mapping, entity), reps))
        if source.rep_matched(mapping, entity) else source
        for entity, source in sources.items()
    }


def _write(
    con: duckdb.DuckDBPyConnection,
    report: IngestReport,
    loaded: Mapping[str, pl.DataFrame],
    mode: Literal["replace", "append"] = "replace",
    scope: pl.DataFrame | None = None,
    roster: pl.DataFrame | None = None,
    changes: ChangeSet | None = None,
    arrived: pl.DataFrame | None = None,
) -> None:
    """Replace (or append to) raw.<entity>, append quarantine and log rows and, with
    `scope`, add those records to routing.arrival_scope; all or nothing.

    The scope keeps the rows of runs that have not routed them: an arrivals or hourly run
    still 'started' (it died or is this one) or closed as 'abandoned' (it died), or a run
    of another mode (a departure's full ingest routes no new record). They are stamped
    with this run, so they leave the scope once it decides; rows of a run that stopped on
    a failed check leave too (the hourly run routes them) rather than stopping every later
    pass.

    A full load (``mode="replace"``) also appends its files to raw.export_history and,
    with ``roster``, replaces raw.rep_roster; with ``changes``, it keeps what the load
    changed (switchboard.changes). An arrivals pass (``mode="append"``) passes the hashes
    of the rows it appends as ``arrived``: the change set becomes the records of its scope
    (switchboard.changes.record_arrivals).
    """
    ingested_at = datetime.now(UTC).replace(tzinfo=None)
    history = pl.DataFrame(
        [
            {
                "run_id": report.run_id,
                "entity": r.entity,
                "source_file": r.source_file,
                "digest": r.digest,
                "input_rows": r.input_rows,
                "loaded_rows": r.loaded_rows,
                "loaded_at": ingested_at,
            }
            for r in report.entities.values()
            if r.digest is not None and mode == "replace"
        ],
        schema=EXPORT_HISTORY_SCHEMA,
    )
    log = pl.DataFrame(
        [
            {
                "run_id": report.run_id,
                "entity": r.entity,
                "source_file": r.source_file,
                "input_rows": r.input_rows,
                "loaded_rows": r.loaded_rows,
                "quarantined_rows": r.quarantined_rows,
                "ingested_at": ingested_at,
            }
            for r in report.entities.values()
        ],
        schema=INGEST_LOG_SCHEMA,
    )
    con.execute("create schema if not exists raw")
    if scope is not None:
        ensure_routing_tables(con)
    con.begin()
    try:
        for entity, frame in loaded.items():
            write_table(con, f"raw.{entity}", frame, mode=mode)
        for table, frame in (("raw.quarantine", report.quarantine), ("raw.ingest_log", log),
                             ("raw.export_history", history)):
            if table_exists(con, table):
                con.execute(f"delete from {table} where run_id = ?", [report.run_id])
            write_table(con, table, frame, mode="append")
        if roster is not None:
            write_table(con, "raw.rep_roster", roster)
        if changes is not None:
            changes.write(con)
        if scope is not None:
            con.execute("""
                delete from routing.arrival_scope where run_id in (
                    select run_id from routing.runs
                    where mode in ('hourly', 'arrivals')
                      and status not in ('started', 'abandoned'))
            """)
            con.execute("update routing.arrival_scope set run_id = ?", [report.run_id])
            write_table(con, "routing.arrival_scope", scope, mode="append")
            if arrived is not None:  # an arrivals pass: its dbt run updates these records
                record_arrivals(con, report.run_id, arrived)
        con.commit()
    except BaseException:
        con.rollback()
        raise


# --------------------------------------------------------------------------- reading


def _read_entity(snapshot: Path, contract: Contract,
                 mapping: HeaderMapping | None = None) -> _Source:
    """Find, read and map one entity's file; an absent optional file is an empty frame."""
    entity = contract.entity
    csv, parquet = snapshot / f"{entity}.csv", snapshot / f"{entity}.parquet"
    if csv.is_file() and parquet.is_file():
        raise SnapshotError(
            f"snapshot {snapshot}: both {csv.name} and {parquet.name} exist; keep one"
        )
    path = csv if csv.is_file() else parquet if parquet.is_file() else None
    if path is None:
        if contract.required:
            raise SnapshotError(
                f"snapshot {snapshot}: required file {csv.name} (or .parquet) is missing"
            )
        empty = pl.DataFrame(schema={c: pl.String() for c in contract.column_names})
        return _Source(None, empty.with_columns(pl.lit(0, pl.Int64).alias(ROW_NUMBER)), ())
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: cannot read {path.name}: {_first_line(exc)}"
        ) from None
    _refuse_other_formats(snapshot, path, data)
    raw = _read_csv(snapshot, path, data) if path is csv else _read_parquet(snapshot, path)
    if path is csv:
        raw = _mark_cut_last_line(raw, data)
    source = _map_columns(snapshot, path, raw, contract, mapping)
    return replace(source, digest=hashlib.sha256(data).hexdigest())


# What a file that is not the CSV or Parquet its name promises starts with, and what to do.
_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip archive, not {kind}: decompress it (gunzip) first"),
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one), not {kind}: "
                    "unzip it, or save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "a legacy Excel (.xls) workbook, not {kind}: save the sheet as CSV"),
    (b"BZh", "a bzip2 archive, not {kind}: decompress it first"),
    (b"\xfd7zXZ", "an xz archive, not {kind}: decompress it first"),
    (b"%PDF", "a PDF document, not {kind}"),
)


def _refuse_other_formats(snapshot: Path, path: Path, data: bytes) -> None:
    """Name a compressed, spreadsheet or other binary file in one line instead of loading
    it as garbage (or failing deep inside the CSV reader)."""
    kind = "CSV" if path.suffix == ".csv" else "Parquet"
    if kind == "CSV" and data.startswith(b"PAR1"):
        raise SnapshotError(f"snapshot {snapshot}: {path.name} is a Parquet file, not CSV: "
                            f"name it {path.stem}.parquet")
    for magic, what in _FORMATS:
        if data.startswith(magic):
            raise SnapshotError(f"snapshot {snapshot}: {path.name} is {what.format(kind=kind)}")
    if kind == "CSV" and b"\x00" in data[:4096] and not data.startswith(_UTF16_BOMS):
        raise SnapshotError(f"snapshot {snapshot}: {path.name} is a binary file, not CSV text")


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _mark_cut_last_line(frame: pl.DataFrame, data: bytes) -> pl.DataFrame:
    """Add TRUNCATED: on the last row, why it looks cut; null elsewhere.

    A file that ends without a line break may have been cut mid-line (a copy stopped, an
    export timed out). Its last line is set aside when it has fewer fields than the header,
    or when its last value is shorter than every other value of that column (an id cut to
    `REP-00` among `REP-0001`...). Complete files end with a line break, whatever wrote
    them, so a well-formed export is never affected.
    """
    if not frame.height or data.endswith((b"\n", b"\r")):
        return frame
    header = [c for c in frame.columns if c != RAGGED]
    line = data[max(data.rfind(b"\n"), data.rfind(b"\r")) + 1:].decode("utf-8", errors="replace")
    fields = next(csv.reader([line]), [])
    why: str | None = None
    if len(fields) < len(header):
        why = (f"the file ends without a line break and its last line has {len(fields)} of "
               f"{len(header)} fields: the export looks cut")
    elif fields and frame.height > 1:
        last = header[-1]
        others = frame.get_column(last).head(frame.height - 1).drop_nulls().str.strip_chars()
        shortest = others.filter(others != "").str.len_chars().min()
        value = fields[len(header) - 1].strip()
        if value and isinstance(shortest, int) and len(value) < shortest:
            why = (f"the file ends without a line break and its last value {value!r} is "
                   f"shorter than every other {last}: the export looks cut")
    last_row = pl.int_range(pl.len()) == pl.len() - 1
    return frame.with_columns(
        pl.when(last_row).then(pl.lit(why, pl.String)).alias(TRUNCATED)
    )


def _read_csv(snapshot: Path, path: Path, data: bytes) -> pl.DataFrame:
    """Every column as text. UTF-8 (BOM or not) first, then Windows-1252 for legacy exports."""

    def read(source: Path | bytes) -> pl.DataFrame:
        try:
            return pl.read_csv(source, infer_schema=False, glob=False, raise_if_empty=True)
        except pl.exceptions.ComputeError as exc:
            if "more fields than defined" not in str(exc):
                raise
            return _read_ragged_csv(source.read_bytes() if isinstance(source, Path) else source)

    try:
        # Polars ends records at '\n' only: a file with bare '\r' line ends (old Mac and
        # Excel "CSV (Macintosh)" exports) would read as one header line and lose its rows.
        source: Path | bytes = _unix_line_ends(data) if _LONE_CR.search(data) else path
        try:
            return read(source)
        except pl.exceptions.ComputeError as exc:
            if "utf-8" not in str(exc).lower():
                raise
            raw = source if isinstance(source, bytes) else data
            text = raw.removeprefix(_UTF8_BOM).decode("cp1252", errors="replace")
            return read(text.encode("utf-8"))
    except pl.exceptions.NoDataError:
        raise SnapshotError(
            f"snapshot {snapshot}: {path.name} is empty (expected a header row)"
        ) from None
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: cannot read {path.name}: {_first_line(exc)}"
        ) from None


def _read_ragged_csv(data: bytes) -> pl.DataFrame:
    """A CSV where some lines have more fields than the header (an unquoted comma in a
    name, a stray delimiter): read with RAGGED_SPARE spare columns after the header's, so
    every line keeps its first fields and, in RAGGED, the fields past the header (the
    first RAGGED_SPARE of them); validate_entity then quarantines those lines instead of
    the whole file stopping. Empty trailing fields do not count."""
    header = pl.read_csv(data, n_rows=0, infer_schema=False).columns
    spare = [f"__past_header_{i}__" for i in range(RAGGED_SPARE)]
    body = pl.read_csv(
        data, has_header=False, skip_rows=1, schema={c: pl.String for c in header + spare},
        truncate_ragged_lines=True, missing_columns="insert",
    )
    past = pl.when(pl.any_horizontal(pl.col(spare).is_not_null())).then(
        pl.concat_str(pl.col(spare), separator=",", ignore_nulls=True))
    return body.select(*header, past.alias(RAGGED))


_LONE_CR = re.compile(rb"\r(?!\n)")
_CSV_LINE_END = re.compile(rb'("(?:[^"]|"")*")|\r\n?')  # a quoted field, or a line end
_UTF8_BOM = b"\xef\xbb\xbf"


def _unix_line_ends(data: bytes) -> bytes:
    """'\r\n' and bare '\r' line ends outside quoted fields become '\n'."""
    return _CSV_LINE_END.sub(lambda m: m.group(1) or b"\n", data)


def _read_parquet(snapshot: Path, path: Path) -> pl.DataFrame:
    """Parquet as read; columns become text only after mapping (see _as_text)."""
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: cannot read {path.name}: {_first_line(exc)}"
        ) from None


def _map_columns(snapshot: Path, path: Path, raw: pl.DataFrame, contract: Contract,
                 mapping: HeaderMapping | None = None) -> _Source:
    """Rename source headers to contract columns; fail on missing or doubled columns.

    A mapped column is read from the first of its mapping's headers the file has, and its
    values as the mapping says; the contract's aliases for it then no longer count, so
    they cannot claim it twice. A file that has none of them (a preset's entity exported
    with Switchboard's own columns) is read through the aliases as usual."""
    mapped = mapping.columns(contract.entity) if mapping is not None else {}
    picked: dict[str, str] = _mapped_headers(raw.columns, mapped)
    by_mapping = tuple(picked)
    aliases = {alias: column for alias, column in contract.alias_map().items()
               if column not in by_mapping}
    headers = set(raw.columns)
    ignored: list[str] = []
    for header in raw.columns:
        if header in (RAGGED, TRUNCATED) or header in picked.values():
            continue
        repeat = _DUPLICATE_HEADER.match(header)
        original = repeat["base"] if repeat and repeat["base"] in headers else header
        target = aliases.get(header_key(original))
        if target is None:
            ignored.append(header)
        elif target in picked:
            raise SnapshotError(
                f"snapshot {snapshot}: {path.name} has two columns for {target}: "
                f"{picked[target]!r} and {original!r}"
            )
        else:
            picked[target] = header
    missing = [c for c in contract.columns if c.required and c.name not in picked]
    if missing:
        raise SnapshotError(
            f"snapshot {snapshot}: {path.name} has no column "
            + "; no column ".join(_with_aliases(c, mapped.get(c.name)) for c in missing)
        )
    numbered = raw.with_row_index(ROW_NUMBER, offset=1).filter(
        ~pl.all_horizontal(pl.exclude(ROW_NUMBER).is_null()) if raw.width else pl.lit(True)
    )
    text = _as_text(snapshot, path, numbered, picked)
    formatted = [canonical(pl.col(name), contract.column(name), mapped[name]).alias(name)
                 for name in by_mapping]
    return _Source(path, text.with_columns(formatted) if formatted else text, tuple(ignored),
                   mapped_columns=by_mapping)


def _mapped_headers(headers: Sequence[str],
                    mapped: Mapping[str, ColumnMapping]) -> dict[str, str]:
    """Contract column -> the first of its mapped headers present (case, spaces and a
    byte-order mark ignored)."""
    present = {header_key(h): h for h in headers}
    picked: dict[str, str] = {}
    for column, spec in mapped.items():
        found = next((present[header_key(h)] for h in spec.header
                      if header_key(h) in present), None)
        if found is not None:
            picked[column] = found
    return picked


def _as_text(
    snapshot: Path, path: Path, frame: pl.DataFrame, picked: Mapping[str, str]
) -> pl.DataFrame:
    """Picked columns as strings under contract names, so CSV and Parquet check alike.

    Parquet lists are joined with ';' (as a CSV would carry them); float NaN becomes
    'NaN', which numeric columns read as missing; timestamps keep their offset in the
    text for the timestamp parser to convert to UTC.
    """
    exprs: list[pl.Expr] = [pl.col(ROW_NUMBER).cast(pl.Int64)]
    exprs.extend(pl.col(c) for c in (RAGGED, TRUNCATED) if c in frame.columns)
    for target, header in picked.items():
        dtype = frame.schema[header]
        column = pl.col(header)
        if isinstance(dtype, pl.Array):
            column = column.arr.to_list()  # list.eval does not take fixed-size arrays
        if isinstance(dtype, pl.List | pl.Array):
            column = column.list.eval(pl.element().cast(pl.String)).list.join(";")
        elif dtype != pl.String:
            column = column.cast(pl.String)
        exprs.append(column.alias(target))
    try:
        return frame.select(exprs)
    except pl.exceptions.PolarsError as exc:
        raise SnapshotError(
            f"snapshot {snapshot}: {path.name} has a column that cannot be read as text: "
            f"{_first_line(exc)}"
        ) from None


def _with_aliases(column: Column, mapped: ColumnMapping | None = None) -> str:
    """The column and every header that would have supplied it."""
    headers = ", ".join(mapped.header) if mapped is not None else ""
    if not column.aliases:
        return f"{column.name} (mapped from {headers})" if headers else column.name
    spare = f"mapped from {headers}, " if headers else ""
    return f"{column.name} ({spare}or an alias: {', '.join(column.aliases)})"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


# --------------------------------------------------------------------------- checking


def _n(name: str) -> str:
    return f"__norm__{name}"


def _t(name: str) -> str:
    return f"__typed__{name}"


def normalise(name: str, column_type: str = "string") -> pl.Expr:
    """Whitespace stripped; empty text is null.

    In numeric columns 'NaN' is null too: it is how numpy, pandas and Polars write a
    missing float to CSV, and never a value anyone meant.
    """
    stripped = pl.col(name).str.strip_chars()
    present = stripped != ""
    if column_type in ("integer", "number"):
        present &= stripped.str.to_lowercase() != "nan"
    return pl.when(present).then(stripped)


def _parse_integer(text: pl.Expr) -> pl.Expr:
    digits = text.str.replace(r"\.0*$", "")
    return pl.when(text.str.contains(INTEGER_RE)).then(digits).cast(pl.Int64, strict=False)


def _parse_number(text: pl.Expr) -> pl.Expr:
    value = pl.when(text.str.contains(NUMBER_RE)).then(text).cast(pl.Float64, strict=False)
    return pl.when(value.is_finite()).then(value)


def _parse_boolean(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().replace_strict(BOOLEANS, default=None, return_dtype=pl.Boolean)


def _parse_date(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.contains(DATE_RE)).then(text).str.to_date("%Y-%m-%d", strict=False)


def _parse_list(text: pl.Expr) -> pl.Expr:
    """';'-separated items, trimmed, empties dropped; no items at all is null."""
    item = pl.element().str.strip_chars()
    items = text.str.split(";").list.eval(item.filter(item != ""))
    return pl.when(items.list.len() > 0).then(items)


def parse(text: pl.Expr, column_type: str) -> pl.Expr:
    """Normalised text → the contract type; null where the text does not parse."""
    parsers: dict[str, Callable[[pl.Expr], pl.Expr]] = {
        "string": lambda t: t,
        "integer": _parse_integer,
        "number": _parse_number,
        "boolean": _parse_boolean,
        "date": _parse_date,
        "timestamp": parse_timestamp,
        "list": _parse_list,
    }
    if column_type not in parsers:
        raise ValueError(f"unknown column type {column_type!r}")
    return parsers[column_type](text)


def parse_timestamp(text: pl.Expr) -> pl.Expr:
    """ISO 8601 date or date-time ('T' or space, optional fraction and offset) → naive UTC.

    No offset means UTC already; 'Z', '+02:00', '+0200' and '+02' are converted, and
    fractions beyond microseconds are truncated. Once the shape is checked, the pieces
    are reassembled into one canonical form and parsed with a single format: trying
    several formats in turn costs a failed parse per format per row.
    """
    upper = text.str.to_uppercase()
    has_time = upper.str.len_bytes() >= 16
    has_seconds = upper.str.slice(16, 1) == ":"
    canonical = pl.concat_str(
        [
            upper.str.slice(0, 10),
            pl.lit("T"),
            pl.when(has_time).then(upper.str.slice(11, 5)).otherwise(pl.lit("00:00")),
            pl.when(has_seconds).then(upper.str.slice(16, 3)).otherwise(pl.lit(":00")),
            upper.str.extract(r"^.{19}(\.\d+)").fill_null(""),
            upper.str.slice(16).str.extract(TIMESTAMP_OFFSET_RE).fill_null("Z"),
        ]
    )
    value = canonical.str.to_datetime(
        "%Y-%m-%dT%H:%M:%S%.f%#z", time_unit="us", strict=False, cache=False
    ).dt.replace_time_zone(None)
    return pl.when(upper.str.contains(TIMESTAMP_RE)).then(value)


PASSED = "__passed__"  # rows that passed every earlier phase, rebound before each phase


@dataclass(frozen=True)
class _Check:
    """One expectation as Polars expressions over the prepared frame.

    Phase 0 judges each row on its own; phase 1 (references) looks at other tables;
    phase 2 (uniqueness) must know which rows survive the others, so that the first good
    occurrence of a key stays and only the later ones are quarantined. Expressions of
    later phases may use ``pl.col(PASSED)``.

    A check that ``clears_cell`` (a bad value in an optional column) does not set the row
    aside: the cell is cleared, the quarantine logs it, and the row loads without it.
    """

    column: str
    expectation: str
    failed: pl.Expr
    value: pl.Expr
    reason: pl.Expr
    phase: int = 0
    # Columns computed in the check's phase, before ``failed``, over *all* rows. A reason
    # is evaluated on the failing rows only, so anything it needs from other rows (such
    # as the row a duplicate repeats) must be materialised here.
    helpers: tuple[pl.Expr, ...] = ()
    clears_cell: bool = False


@dataclass(frozen=True)
class Validated:
    """One entity's rows after the contract checks.

    ``good``: the loaded rows (contract columns and types plus `_row_number`);
    ``quarantine``: one entry per (row, column, expectation); ``rejected``: the rows set
    aside, typed like ``good`` (cells that did not parse are empty), with the first
    reason each was set aside (`problem_column`, `problem_value`, `problem_reason`).
    """

    good: pl.DataFrame
    quarantine: pl.DataFrame
    rejected: pl.DataFrame


def validate_entity(
    source: pl.DataFrame, contract: Contract, parents: Mapping[str, pl.DataFrame]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split one entity's text rows into typed good rows and quarantine entries.

    ``source`` holds the contract columns as text (missing optional columns may be absent)
    plus `_row_number`; ``parents`` the already loaded entities that references point at.
    Returns (rows in contract order and types plus `_row_number`, quarantine entries with
    row_number, column_name, expectation, value, reason, action — sorted by row).
    """
    checked = validate(source, contract, parents)
    return checked.good, checked.quarantine


def validate(
    source: pl.DataFrame, contract: Contract, parents: Mapping[str, pl.DataFrame]
) -> Validated:
    """:func:`validate_entity`, also returning the rows it set aside (see Validated)."""
    missing = [c for c in contract.column_names if c not in source.columns]
    frame = source.lazy().with_columns(pl.lit(None, pl.String).alias(c) for c in missing)
    frame = frame.with_columns(
        normalise(c.name, c.type).alias(_n(c.name)) for c in contract.columns
    )
    frame = frame.with_columns(
        parse(pl.col(_n(c.name)), c.type).cast(c.polars_type).alias(_t(c.name))
        for c in contract.columns
    )

    checks = _checks(contract, parents)
    checks[:0] = [_rep_match_check(c) for c in contract.columns
                  if unmatched_column(c.name) in source.columns]
    if TRUNCATED in source.columns:
        checks.insert(0, _truncation_check())
    if RAGGED in source.columns:
        checks.insert(0, _field_count_check())
    flags = [f"__failed_{i}__" for i in range(len(checks))]
    row_flags = [f for f, c in zip(flags, checks, strict=True) if not c.clears_cell]
    for phase in (0, 1, 2):
        earlier = [f for f, c in zip(flags, checks, strict=True)
                   if c.phase < phase and not c.clears_cell]
        current = [(f, c) for f, c in zip(flags, checks, strict=True) if c.phase == phase]
        if not current:
            continue
        passed = ~pl.any_horizontal(earlier) if earlier else pl.lit(True)
        helpers = [helper for _, check in current for helper in check.helpers]
        frame = frame.with_columns(passed.alias(PASSED))
        if helpers:
            frame = frame.with_columns(helpers)
        frame = frame.with_columns(
            check.failed.fill_null(False).alias(flag) for flag, check in current
        )
    checked = frame.collect()

    set_aside = pl.any_horizontal(row_flags) if row_flags else pl.lit(False)
    cleared: dict[str, list[str]] = {}
    for flag, check in zip(flags, checks, strict=True):
        if check.clears_cell:
            cleared.setdefault(check.column, []).append(flag)

    def typed(column: Column) -> pl.Expr:
        value = pl.col(_t(column.name))
        if column.name in cleared:
            value = pl.when(pl.any_horizontal(cleared[column.name])).then(None).otherwise(value)
        return value.alias(column.name)

    good = checked.filter(~set_aside).select(
        *[typed(c) for c in contract.columns], pl.col(ROW_NUMBER)
    )
    entries = [
        checked.lazy()
        .filter(pl.col(flag))
        .select(
            pl.col(ROW_NUMBER).alias("row_number"),
            pl.lit(check.column).alias("column_name"),
            pl.lit(check.expectation).alias("expectation"),
            check.value.str.slice(0, MAX_VALUE_CHARS).alias("value"),
            pl.when(set_aside | (not check.clears_cell)).then(check.reason)
            .otherwise(_sentence(check.reason, CLEARED_SUFFIX)).alias("reason"),
            pl.when(set_aside).then(pl.lit(ROW_QUARANTINED)).otherwise(pl.lit(CELL_CLEARED))
            .alias("action"),
        )
        for flag, check in zip(flags, checks, strict=True)
    ]
    schema = {k: v for k, v in QUARANTINE_SCHEMA.items() if k not in ("run_id", "entity")}
    if entries:
        quarantine = pl.concat(entries).sort("row_number", maintain_order=True).collect()
        quarantine = quarantine.cast(schema)  # type: ignore[arg-type]
    else:
        quarantine = pl.DataFrame(schema=schema)
    first_problem = (
        quarantine.filter(pl.col("action") == ROW_QUARANTINED)
        .group_by("row_number", maintain_order=True)
        .first()
        .select(pl.col("row_number").alias(ROW_NUMBER), problem_column=pl.col("column_name"),
                problem_value=pl.col("value"), problem_reason=pl.col("reason"))
    )
    rejected = checked.filter(set_aside).select(
        *[typed(c) for c in contract.columns], pl.col(ROW_NUMBER)
    ).join(first_problem, on=ROW_NUMBER, how="left", maintain_order="left")
    return Validated(good, quarantine, rejected)


def _quoted(text: pl.Expr) -> pl.Expr:
    """'value' for a reason sentence, shortened so reasons stay one readable line."""
    short = (
        pl.when(text.str.len_chars() > REASON_VALUE_CHARS)
        .then(pl.concat_str([text.str.slice(0, REASON_VALUE_CHARS - 3), pl.lit("...")]))
        .otherwise(text)
    )
    return pl.concat_str([pl.lit("'"), short, pl.lit("'")])


def _sentence(*parts: str | pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit(p) if isinstance(p, str) else p for p in parts])


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _checks(contract: Contract, parents: Mapping[str, pl.DataFrame]) -> list[_Check]:
    """The contract's raw expectations (the same specs the GX suite holds) as Polars.

    An expectation type ingest cannot evaluate is an error, so the quarantine and the GX
    suite cannot silently drift apart.
    """
    per_column: dict[str, Callable[[q.ExpectationSpec, Column], _Check | None]] = {
        q.OF_TYPE: lambda _, column: _type_check(column),
        # A not-null check with a row condition is the contract's require_one_of.
        q.NOT_NULL: lambda spec, column: (_one_of_check(contract.require_one_of)
                                          if "row_condition" in spec.kwargs
                                          else _not_null_check(column)),
        q.IN_SET: _in_set_check,
        q.MATCH_REGEX: _regex_check,
        q.BETWEEN: _between_check,
        q.UNIQUE: lambda _, column: _unique_check([column.name], q.UNIQUE, contract.order_by),
        q.IN_REFERENCED_SET: lambda spec, column: _reference_check(spec, column, contract, parents),
    }
    checks: list[_Check] = []
    for spec in q.raw_specs(contract, include_references=True):
        if spec.type == q.TABLE_COLUMNS:
            continue  # guaranteed by _map_columns: missing required columns stop the run
        if spec.type == q.COMPOUND_UNIQUE:
            checks.append(_unique_check(list(spec.kwargs["column_list"]), q.COMPOUND_UNIQUE,
                                        contract.order_by))
            continue
        if spec.type not in per_column:
            raise ValueError(f"ingest cannot evaluate expectation {spec.type} ({spec.target})")
        column = contract.column(spec.column or spec.target)
        check = per_column[spec.type](spec, column)
        if check is not None:
            if spec.type in CELL_EXPECTATIONS and _is_optional(column, contract):
                check = replace(check, clears_cell=True)
            checks.append(check)
    return checks


# Expectations about one value: in an optional column, failing one clears that cell only.
CELL_EXPECTATIONS = (q.OF_TYPE, q.IN_SET, q.MATCH_REGEX, q.BETWEEN)
CLEARED_SUFFIX = "; the cell was cleared and the row kept"


def _is_optional(column: Column, contract: Contract) -> bool:
    """A column the row can do without: not required, not part of a key, not unique, not
    one whose contract sets the row aside on a bad value (``on_invalid: quarantine_row``),
    and not a reference whose absence makes the row unusable."""
    ref = column.references
    return not (
        column.on_invalid == "quarantine_row"
        or column.required
        or column.unique
        or column.name in contract.key_columns
        or (ref is not None and ref.on_missing == "quarantine")
    )


def _field_count_check() -> _Check:
    """A line with more fields than the header: its values may sit in the wrong columns."""
    extra = pl.col(RAGGED)
    return _Check(
        column=ROW_COLUMN,
        expectation=FIELD_COUNT_EXPECTATION,
        failed=extra.is_not_null(),
        value=extra,
        reason=_sentence(
            "the line has ", (extra.str.count_matches(",") + 1).cast(pl.String),
            " more field(s) than the header (", _quoted(extra),
            "): an unquoted comma or a stray delimiter",
        ),
    )


def _about(column: Column, text: str) -> pl.Expr:
    """ "<column> '<value>' <text>", the shape of most reasons."""
    return _sentence(f"{column.name} ", _quoted(pl.col(_n(column.name))), f" {text}")


def _type_check(column: Column) -> _Check | None:
    if column.type in ("string", "list"):
        return None  # any text is a string, and any text splits into a list
    name = column.name
    failed = pl.col(_n(name)).is_not_null() & pl.col(_t(name)).is_null()
    reason = _about(column, f"is not {TYPE_NOUNS[column.type]}")
    return _Check(name, q.OF_TYPE, failed, pl.col(name), reason)


def _not_null_check(column: Column) -> _Check:
    name = column.name
    reason = pl.lit(f"{name} is required but empty")
    return _Check(name, q.NOT_NULL, pl.col(_n(name)).is_null(), pl.col(name), reason)


def _one_of_check(columns: Sequence[str]) -> _Check:
    """A row with every one of ``columns`` empty (an activity on neither an account nor a
    lead) is set aside: there is nothing it is about."""
    named = (f"neither {columns[0]} nor {columns[1]}" if len(columns) == 2
             else "none of " + ", ".join(columns))
    reason = pl.lit(f"{named} is set: the row needs at least one of them")
    failed = pl.all_horizontal(pl.col(_n(c)).is_null() for c in columns)
    return _Check(", ".join(columns), q.NOT_NULL, failed, pl.lit(None, pl.String), reason)


def _in_set_check(spec: q.ExpectationSpec, column: Column) -> _Check:
    allowed = list(spec.kwargs["value_set"])
    values = pl.Series(allowed, dtype=column.polars_type, strict=False)
    failed = ~pl.col(_t(column.name)).is_in(values.implode())
    if column.format == "timezone":
        reason = _about(column, "is not an IANA time zone name (such as Europe/Berlin)")
    else:
        reason = _about(column, "is not one of " + ", ".join(str(v) for v in allowed))
    return _Check(column.name, q.IN_SET, failed, pl.col(column.name), reason)


def _regex_check(spec: q.ExpectationSpec, column: Column) -> _Check:
    pattern = str(spec.kwargs["regex"])
    failed = ~pl.col(_n(column.name)).str.contains(pattern)
    hint = column.pattern_hint
    reason = _about(column, f"is not {hint}" if hint else f"does not match {pattern}")
    return _Check(column.name, q.MATCH_REGEX, failed, pl.col(column.name), reason)


def _between_check(spec: q.ExpectationSpec, column: Column) -> _Check:
    typed = pl.col(_t(column.name))
    low, high = spec.kwargs.get("min_value"), spec.kwargs.get("max_value")
    below = typed < low if low is not None else pl.lit(False)
    above = typed > high if high is not None else pl.lit(False)
    too_low = _about(column, f"is below the minimum {_number(low)}") if low is not None else None
    too_high = _about(column, f"is above the maximum {_number(high)}") if high is not None else None
    reason = pl.when(below).then(too_low).otherwise(too_high)
    return _Check(column.name, q.BETWEEN, below | above, pl.col(column.name), reason)


def _reference_check(
    spec: q.ExpectationSpec,
    column: Column,
    contract: Contract,
    parents: Mapping[str, pl.DataFrame],
) -> _Check:
    """The value must exist among the *loaded* rows of the referenced entity."""
    entity, ref_column = str(spec.kwargs["entity"]), str(spec.kwargs["ref_column"])
    typed = pl.col(_t(column.name))
    if entity == contract.entity:  # a self-reference: any row that passed phase 0
        known = pl.col(_t(ref_column)).filter(pl.col(PASSED)).implode()
    else:
        keys = parents[entity].get_column(ref_column).drop_nulls().unique()
        known = pl.lit(keys.cast(column.polars_type, strict=False).implode())
    failed = typed.is_not_null() & ~typed.is_in(known)
    reason = _about(column, f"is not among the loaded {entity}")
    return _Check(column.name, q.IN_REFERENCED_SET, failed, pl.col(column.name), reason, 1)


def _unique_check(columns: list[str], expectation: str, order_by: Sequence[str] = ()) -> _Check:
    """Every good row of a key but one fails. The one that stays is the newest by the
    contract's ``order_by`` columns (newest first, empty last), else the first in the file."""
    keys = [pl.col(_t(c)) for c in columns]
    label = ", ".join(columns)
    kept = f"__kept__{'__'.join(columns)}"
    good_rows = pl.col(ROW_NUMBER).filter(pl.col(PASSED))
    if order_by:
        dating = [pl.col(_t(c)).filter(pl.col(PASSED)) for c in order_by]
        kept_row = good_rows.sort_by(
            [*dating, good_rows], descending=[True] * len(dating) + [False], nulls_last=True
        ).first()
    else:
        kept_row = good_rows.min()
    present = pl.all_horizontal(k.is_not_null() for k in keys)
    failed = pl.col(PASSED) & present & (pl.col(ROW_NUMBER) != pl.col(kept))
    shown = pl.concat_str([pl.col(_n(c)) for c in columns], separator=", ")
    value = pl.concat_str([pl.col(c) for c in columns], separator=", ")
    newer = f", which is newer by {' then '.join(order_by)}" if order_by else ""
    reason = _sentence(
        f"{label} ", _quoted(shown), " repeats row ", pl.col(kept).cast(pl.String), newer
    )
    return _Check(label, expectation, failed, value, reason, 2, (kept_row.over(keys).alias(kept),))


def _rep_match_check(column: Column) -> _Check:
    """An owner given by a name or e-mail that names no rep, or several: the row is set
    aside rather than loaded unowned, which would hand the record to someone else."""
    value = pl.col(unmatched_column(column.name))
    reason = _sentence(f"{column.name} ", _quoted(value),
                       " matches no rep (or several) by name, e-mail or rep_id in reps")
    return _Check(column.name, REP_MATCH_EXPECTATION, value.is_not_null(), value, reason)


def _truncation_check() -> _Check:
    """The last line of a file that ends without a line break, when it looks cut."""
    why = pl.col(TRUNCATED)
    return _Check(
        column=ROW_COLUMN,
        expectation=TRUNCATION_EXPECTATION,
        failed=why.is_not_null(),
        value=why,
        reason=why,
    )
