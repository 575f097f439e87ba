"""Change sets: which records a full export added, changed or dropped since the last one.

Every full ingest hashes each loaded row over its contract's columns (the values as
loaded, so a re-ordered file or a re-formatted date is no change) and compares the hashes
with those of the previous full load, per record key, in the same transaction as the load:

- `raw.row_hashes` (replaced): entity, record_id, row_hash, run_id, hash_version — the
  hashes of the rows the last full load wrote;
- `raw.changes` (replaced): run_id, base_run_id, entity, record_id, change (`new`,
  `changed`, `gone`) — one row per record that differs from the base load (an entity
  without a primary key names its rows by their hash: they are new or gone); empty after
  a load with no base, where every row is new;
- `raw.change_counts` (appended): run_id, base_run_id, entity and the counts of new,
  changed, gone and unchanged rows, every entity (an entity without a key counts rows by
  their hash).

An arrivals pass appends the records the export lists for the first time, replaces
`raw.changes` with them, all `new`, and adds their hashes to `raw.row_hashes` under the
full load's run (:func:`record_arrivals`): its dbt run is an incremental build on that
change set, and the next hourly run compares with what raw holds.

`base_run_id` is the run whose load the change set compares with (null: no earlier load,
or one hashed by another Polars version, whose hashes are not comparable — every row is
then new). The transform stage (switchboard.pipeline.transform) builds incrementally only
when the marts were built from exactly that base load (`routing.builds.raw_run_id`) under
the same settings; see :func:`incremental_reason`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl

from switchboard import tables
from switchboard.contracts import Contract
from switchboard.warehouse import query, read_table, table_exists, write_table

ROW_HASHES, CHANGES, CHANGE_COUNTS = (
    tables.RAW_ROW_HASHES,
    tables.RAW_CHANGES,
    tables.RAW_CHANGE_COUNTS,
)
NEW, CHANGED, GONE = "new", "changed", "gone"
# Polars keeps a hash stable within one version only: hashes of another version are not
# compared (every row is new, and the next build is a full one).
HASH_VERSION = f"polars-{pl.__version__}"
# The entities the dbt project updates record by record (macros/changes.sql): a change to
# any other entity's rows is read by models rebuilt in full anyway, except the territory
# plan, which every record's territory match reads (see incremental_reason).
RECORD_ENTITIES = ("accounts", "leads", "opportunities")
WIDE_ENTITIES = ("territories",)
# Past this share of changed records a full rebuild is cheaper than deleting and
# re-inserting them.
MAX_CHANGED_SHARE = 0.5

ROW_HASH_SCHEMA: dict[str, pl.DataType] = {
    "entity": pl.String(),
    "record_id": pl.String(),
    "row_hash": pl.UInt64(),
    "run_id": pl.String(),
    "hash_version": pl.String(),
}
CHANGE_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "base_run_id": pl.String(),
    "entity": pl.String(),
    "record_id": pl.String(),
    "change": pl.String(),
}
COUNT_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "base_run_id": pl.String(),
    "entity": pl.String(),
    "new_rows": pl.Int64(),
    "changed_rows": pl.Int64(),
    "gone_rows": pl.Int64(),
    "unchanged_rows": pl.Int64(),
}


@dataclass(frozen=True)
class ChangeSet:
    """What one full load changed, ready to be written with it."""

    run_id: str
    base_run_id: str | None
    hashes: pl.DataFrame  # ROW_HASH_SCHEMA
    changes: pl.DataFrame  # CHANGE_SCHEMA
    counts: pl.DataFrame  # COUNT_SCHEMA

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        """Replace raw.row_hashes and raw.changes, append raw.change_counts (the caller
        holds the load's transaction)."""
        write_table(con, ROW_HASHES, self.hashes)
        write_table(con, CHANGES, self.changes)
        if table_exists(con, CHANGE_COUNTS):
            con.execute(f"delete from {CHANGE_COUNTS} where run_id = ?", [self.run_id])
        write_table(con, CHANGE_COUNTS, self.counts, mode="append")


def record_id(contract: Contract) -> pl.Expr:
    """The record's key as text: the primary key, or its columns joined by `|`."""
    keys = contract.key_columns
    if len(keys) == 1:
        return pl.col(keys[0]).cast(pl.String)
    return pl.concat_str(
        [pl.col(k).cast(pl.String) for k in keys], separator="|", ignore_nulls=False
    )


def row_hash(contract: Contract) -> pl.Expr:
    """The row's hash over the contract's columns (the values as loaded)."""
    return pl.struct(contract.column_names).hash(seed=0)


def row_id(contract: Contract) -> pl.Expr:
    """What raw.changes calls a row: its key, or for an entity without one its hash."""
    return record_id(contract) if contract.key_columns else row_hash(contract).cast(pl.String)


def row_hashes(frame: pl.LazyFrame, contract: Contract) -> pl.LazyFrame:
    """(record_id, row_hash) per loaded row (see row_id)."""
    return frame.select(record_id=row_id(contract), row_hash=row_hash(contract))


def changed_rows(con: duckdb.DuckDBPyConnection, entity: str, contract: Contract) -> pl.LazyFrame:
    """The rows of raw.<entity> that the last full load added or changed."""
    ids = query(
        con, f"select record_id from {CHANGES} where entity = ? and change <> ?", [entity, GONE]
    )
    return read_table(con, f"raw.{entity}").join(
        ids.lazy(), left_on=row_id(contract), right_on="record_id", how="semi"
    )


def change_set(
    con: duckdb.DuckDBPyConnection,
    loaded: Mapping[str, pl.DataFrame],
    contracts: Mapping[str, Contract],
    run_id: str,
) -> ChangeSet:
    """Compare the rows this load writes with the last full load's hashes."""
    before = _previous(con)
    base: str | None = before["run_id"][0] if before.height else None
    previous = before.lazy()
    hashes, changes, counts = [], [], []
    for entity, frame in loaded.items():
        contract = contracts[entity]
        now = row_hashes(frame.lazy(), contract).with_columns(entity=pl.lit(entity))
        then = previous.filter(pl.col("entity") == entity).select("record_id", "row_hash")
        hashes.append(now)
        # Rows are compared by record key; an entity without a key by the rows' hashes
        # (its rows are only ever new or gone).
        diff = _keyed_diff(
            now.select("record_id", "row_hash").unique("record_id"), then.unique("record_id")
        )
        changes.append(diff.select(pl.lit(entity).alias("entity"), "record_id", "change"))
        if contract.key_columns:
            counted = diff.select(
                (pl.col("change") == name).sum().cast(pl.Int64).alias(f"{name}_rows")
                for name in (NEW, CHANGED, GONE)
            ).with_columns(
                unchanged_rows=pl.lit(frame.height) - pl.col("new_rows") - pl.col("changed_rows")
            )
        else:
            counted = _unkeyed_counts(now.select("row_hash"), then.select("row_hash"))
        counts.append(counted.select(pl.lit(entity).alias("entity"), pl.all()))
    frames = pl.collect_all(
        [
            pl.concat(hashes, how="diagonal").select(
                "entity",
                "record_id",
                "row_hash",
                run_id=pl.lit(run_id),
                hash_version=pl.lit(HASH_VERSION),
            ),
            pl.concat(changes),
            pl.concat(counts),
        ]
    )
    if base is None:  # a first load: every row is new, and the build is a full one
        frames[1] = frames[1].clear()
    stamp = [pl.lit(run_id).alias("run_id"), pl.lit(base, dtype=pl.String).alias("base_run_id")]
    return ChangeSet(
        run_id=run_id,
        base_run_id=base,
        hashes=frames[0].cast(ROW_HASH_SCHEMA),  # type: ignore[arg-type]
        changes=frames[1].select(*stamp, pl.all()).cast(CHANGE_SCHEMA),  # type: ignore[arg-type]
        counts=frames[2].select(*stamp, pl.all()).cast(COUNT_SCHEMA),  # type: ignore[arg-type]
    )


def arrival_hashes(
    loaded: Mapping[str, pl.DataFrame], contracts: Mapping[str, Contract]
) -> pl.DataFrame:
    """(entity, record_id, row_hash) of the rows an arrivals pass appends to raw."""
    return pl.concat(
        [
            row_hashes(frame.lazy(), contracts[entity]).select(
                pl.lit(entity).alias("entity"), "record_id", "row_hash"
            )
            for entity, frame in loaded.items()
        ]
    ).collect()


def record_arrivals(con: duckdb.DuckDBPyConnection, run_id: str, hashes: pl.DataFrame) -> None:
    """What an arrivals pass changed, in the caller's transaction.

    raw.changes becomes every record routing.arrival_scope holds (those the pass appended
    to raw and those of passes that died before deciding them), all new: the pass's dbt
    run is an incremental build on them. The appended rows' hashes join raw.row_hashes
    under the full load's run, so row_hashes keeps describing what raw holds: the next
    hourly run finds those records unchanged, changed or gone like any other.
    """
    base = None
    if table_exists(con, ROW_HASHES):
        base = con.execute(f"select any_value(run_id) from {ROW_HASHES}").fetchall()[0][0]
    if base is not None:
        appended = hashes.select(
            "entity",
            "record_id",
            "row_hash",
            run_id=pl.lit(base),
            hash_version=pl.lit(HASH_VERSION),
        ).cast(ROW_HASH_SCHEMA)  # type: ignore[arg-type]
        con.register("_arrival_hashes", appended)
        try:
            con.execute(f"""
                delete from {ROW_HASHES} where exists (
                    select 1 from _arrival_hashes as arrived
                    where arrived.entity = {ROW_HASHES}.entity
                      and arrived.record_id = {ROW_HASHES}.record_id)""")
            con.execute(f"insert into {ROW_HASHES} by name select * from _arrival_hashes")
        finally:
            con.unregister("_arrival_hashes")
    scope = query(con, "select distinct record_type, record_id from routing.arrival_scope")
    write_table(
        con,
        CHANGES,
        scope.select(
            run_id=pl.lit(run_id),
            base_run_id=pl.lit(base, dtype=pl.String),
            entity=pl.col("record_type") + "s",
            record_id=pl.col("record_id"),
            change=pl.lit(NEW),
        ).cast(CHANGE_SCHEMA),  # type: ignore[arg-type]
    )


def _previous(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    if not table_exists(con, ROW_HASHES):
        return pl.DataFrame(schema=ROW_HASH_SCHEMA)
    return query(con, f"select * from {ROW_HASHES} where hash_version = ?", [HASH_VERSION])


def _keyed_diff(now: pl.LazyFrame, then: pl.LazyFrame) -> pl.LazyFrame:
    joined = now.join(then, on="record_id", how="full", coalesce=True, suffix="_then")
    change = (
        pl.when(pl.col("row_hash_then").is_null())
        .then(pl.lit(NEW))
        .when(pl.col("row_hash").is_null())
        .then(pl.lit(GONE))
        .when(pl.col("row_hash") != pl.col("row_hash_then"))
        .then(pl.lit(CHANGED))
    )
    return joined.with_columns(change=change).filter(pl.col("change").is_not_null())


def _unkeyed_counts(now: pl.LazyFrame, then: pl.LazyFrame) -> pl.LazyFrame:
    """Rows compared as a multiset of hashes: no record changes, rows come and go."""
    tally = (
        now.group_by("row_hash")
        .agg(now=pl.len())
        .join(
            then.group_by("row_hash").agg(then=pl.len()), on="row_hash", how="full", coalesce=True
        )
        .select(pl.col("now", "then").fill_null(0).cast(pl.Int64))
    )
    return tally.select(
        new_rows=(pl.col("now") - pl.col("then")).clip(lower_bound=0).sum().cast(pl.Int64),
        changed_rows=pl.lit(0, dtype=pl.Int64),
        gone_rows=(pl.col("then") - pl.col("now")).clip(lower_bound=0).sum().cast(pl.Int64),
        unchanged_rows=pl.min_horizontal("now", "then").sum().cast(pl.Int64),
    )


# --------------------------------------------------------------------------- builds


def settings_key(variables: Mapping[str, Any], project: str) -> str:
    """What the per-record models' rows depend on besides their record: the dbt vars (the
    as-of aside: those models do not read it) and the project's digest."""
    settled = {k: v for k, v in variables.items() if k != "as_of"}
    text = json.dumps(settled, sort_keys=True, default=str) + "|" + project
    return hashlib.sha256(text.encode()).hexdigest()


def incremental_reason(
    con: duckdb.DuckDBPyConnection, run_id: str, settings: str
) -> tuple[bool, str]:
    """Whether run `run_id`'s build may update the per-record models with raw.changes
    only, and why (or why not), in words for the run log.

    It may when the marts were last built, completely, from the change set's base load
    under the same settings, the territory plan did not change, and at most
    MAX_CHANGED_SHARE of the records changed.
    """
    if not table_exists(con, CHANGE_COUNTS) or not table_exists(con, "routing.builds"):
        return False, "first build of this warehouse"
    built = con.execute("select raw_run_id, settings_key from routing.builds").fetchall()
    counts = query(con, f"select * from {CHANGE_COUNTS} where run_id = ?", [run_id])
    refused = _why_full(counts, built[0] if built else (None, None), settings)
    if refused is not None:
        return False, refused
    records = counts.filter(pl.col("entity").is_in(RECORD_ENTITIES))
    touched = int((records["new_rows"] + records["changed_rows"] + records["gone_rows"]).sum())
    total = int((records["unchanged_rows"] + records["new_rows"] + records["changed_rows"]).sum())
    if total and touched > MAX_CHANGED_SHARE * total:
        return False, f"{touched:,} of {total:,} records changed"
    return True, f"{touched:,} of {total:,} records new, changed or gone"


def _why_full(counts: pl.DataFrame, built: tuple[Any, Any], settings: str) -> str | None:
    """Why the marts cannot be updated with this change set, or None."""
    if not counts.height:
        return "no change set was recorded for this export"
    if counts["base_run_id"][0] is None:
        return "no earlier export to compare with"
    if built[0] != counts["base_run_id"][0]:
        return "the marts were not built from the previous export"
    if built[1] != settings:
        return "settings or the dbt project changed since the last build"
    wide = counts.filter(
        pl.col("entity").is_in(WIDE_ENTITIES)
        & (pl.col("new_rows") + pl.col("changed_rows") + pl.col("gone_rows") > 0)
    )
    return f"{', '.join(wide['entity'])} changed" if wide.height else None
