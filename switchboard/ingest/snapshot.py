"""A full load of a snapshot folder: every entity read and checked against its contract
(references after the entities they point at) before anything is written, the export
guards, the rep roster and the change set, then one write (switchboard.ingest.load)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from switchboard.changes import change_set
from switchboard.contracts import Contract, load_contracts
from switchboard.errors import SnapshotError
from switchboard.guards import ExportCount, ExportGuard
from switchboard.ingest.arrivals import ARRIVAL_ENTITIES, ARRIVALS_LOOK_BACK, scope_rows
from switchboard.ingest.load import write_raw
from switchboard.ingest.read import Source, read_entity
from switchboard.ingest.result import EntityReport, IngestReport
from switchboard.ingest.validate import stamped, validate
from switchboard.mapping import HeaderMapping, match_reps
from switchboard.roster import update_roster
from switchboard.warehouse import table_exists


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
    the records an arrivals pass routes (see switchboard.ingest.arrivals).

    With `mapping` (switchboard.mapping), the export's own headers and value formats are
    read as the mapping says, and owners given by name or e-mail become rep_ids.
    """
    contracts = load_contracts() if contracts is None else contracts
    report, loaded = _prepare(Path(snapshot), run_id, contracts, mapping)
    previous = _previous_exports(con)
    if guard is not None:
        guard.check(
            [
                ExportCount(
                    entity,
                    Path(r.source_file).name if r.source_file else f"{entity}.csv",
                    r.input_rows,
                    r.loaded_rows,
                    previous.get(entity, (None, None))[1],
                )
                for entity, r in report.entities.items()
            ]
        )
    scope = None
    if arrivals_since is not None:
        recent = pl.col("created_at") > arrivals_since - ARRIVALS_LOOK_BACK
        scope = pl.concat(
            [
                scope_rows(
                    loaded[entity].lazy().filter(recent), con, entity, contracts[entity], run_id
                )
                for entity in ARRIVAL_ENTITIES
            ]
        )
    roster = None
    if "reps" in report.entities and "hr" in report.entities:
        before = (
            con.sql("select * from raw.rep_roster").pl()
            if table_exists(con, "raw.rep_roster")
            else pl.DataFrame()
        )
        roster = update_roster(
            before,
            reps_contract=contracts["reps"],
            reps=loaded["reps"],
            reps_rejected=report["reps"].rejected,
            hr=loaded["hr"],
            hr_rejected=report["hr"].rejected,
            new_reps_export=_is_new_export(report["reps"], previous),
            new_hr_export=_is_new_export(report["hr"], previous),
            now=datetime.now(UTC).replace(tzinfo=None),
        )
    changed = change_set(con, loaded, contracts, run_id)
    write_raw(con, report, loaded, scope=scope, roster=roster, changes=changed)
    return replace(report, base_run_id=changed.base_run_id)


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


def check_snapshot(
    snapshot: Path,
    contracts: Mapping[str, Contract] | None = None,
    run_id: str = "check",
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


def _prepare(
    snapshot: Path,
    run_id: str,
    contracts: Mapping[str, Contract] | None,
    mapping: HeaderMapping | None = None,
) -> tuple[IngestReport, dict[str, pl.DataFrame]]:
    contracts = load_contracts() if contracts is None else contracts
    order = ingest_order(contracts)
    if not snapshot.is_dir():
        raise SnapshotError(f"snapshot {snapshot}: folder does not exist")
    sources = {entity: read_entity(snapshot, contracts[entity], mapping) for entity in contracts}
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
        quarantine = stamped(checked.quarantine, run_id, entity)
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


def _match_reps(sources: dict[str, Source], mapping: HeaderMapping) -> dict[str, Source]:
    """Owners the export gives by name or e-mail, as rep_ids of this export's reps (read
    as text: a rep whose row breaks its contract still names its owner)."""
    if "reps" not in sources:
        return sources
    reps = sources["reps"].frame.lazy()
    return {
        entity: replace(
            source, frame=match_reps(source.frame, source.rep_matched(mapping, entity), reps)
        )
        if source.rep_matched(mapping, entity)
        else source
        for entity, source in sources.items()
    }
