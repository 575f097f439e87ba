"""An arrivals pass's ingest: the accounts and leads the export lists that raw does not
hold yet, appended and made the pass's scope (routing.arrival_scope)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from switchboard.changes import arrival_hashes
from switchboard.contracts import Contract, load_contracts
from switchboard.engine.schema import ARRIVAL_SCOPE
from switchboard.errors import SnapshotError
from switchboard.ingest.load import write_raw
from switchboard.ingest.parse import normalise, parse_timestamp
from switchboard.ingest.read import read_entity
from switchboard.ingest.result import EntityReport, IngestReport
from switchboard.ingest.validate import stamped, validate_entity
from switchboard.mapping import HeaderMapping, match_reps
from switchboard.warehouse import table_exists

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
    deciding stay in the scope (see switchboard.ingest.load.write_raw), so a retry routes them.

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
        source = read_entity(snapshot, contract, mapping)
        if source.rep_matched(mapping, entity):
            # The reps this pass can name are the ones the last full ingest loaded.
            reps = con.sql("select rep_id, name, email from raw.reps").pl().lazy()
            source = replace(
                source, frame=match_reps(source.frame, source.rep_matched(mapping, entity), reps)
            )
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
        quarantine = stamped(quarantine, run_id, entity)
        loaded[entity] = good
        scopes.append(scope_rows(good.lazy(), None, entity, contract, run_id))
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
    write_raw(
        con,
        report,
        loaded,
        mode="append",
        scope=pl.concat(scopes),
        arrived=arrival_hashes(loaded, contracts),
    )
    return report


def scope_rows(
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
    return (
        records.select(
            record_type=pl.lit(entity.removesuffix("s")),
            record_id=pl.col(key),
            run_id=pl.lit(run_id),
        )
        .collect()
        .cast(ARRIVAL_SCOPE)  # type: ignore[arg-type]
    )


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
    source = read_entity(Path(snapshot), contract, mapping)
    if not wanted or "lead_id" not in source.frame.columns or source.frame.is_empty():
        return pl.DataFrame(schema=TOUCHES_SCHEMA)
    # The rows of these leads first, then the checks: most of an export is about others.
    frame = source.frame.filter(normalise("lead_id").is_in(wanted))
    if source.rep_matched(mapping, "activities"):
        reps = con.sql("select rep_id, name, email from raw.reps").pl().lazy()
        frame = match_reps(frame, source.rep_matched(mapping, "activities"), reps)
    good, _ = validate_entity(frame, contract, {})
    return good.select(list(TOUCHES_SCHEMA)).cast(TOUCHES_SCHEMA)  # type: ignore[arg-type]
