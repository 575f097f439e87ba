"""The contract checks in Spark tasks: how an entity's rows are spread over tasks (by a
hash of its unique key, whole, or as they come), `validate` once per task, and the good
rows, quarantine entries, set-aside rows and counts gathered from them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
import pyarrow as pa

from switchboard.contracts import Contract
from switchboard.ingest.parse import normalise, parse
from switchboard.ingest.read import ROW_NUMBER
from switchboard.ingest.validate import Validated, validate
from switchboard.quality import specs as q
from switchboard.spark.arrow import (
    arrow_frame,
    from_ipc,
    ipc,
    local_frame,
    polars_schema,
    spark_schema,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

Partitioning = Literal["row_local", "keyed", "whole"]

_KEY = "__partition_key__"
# The validate task's output: what a row is (_GOOD: a loaded row in the good columns) and,
# for the rest, its Arrow IPC payload.
_KIND, _PAYLOAD, _GOOD = "__kind__", "__payload__", "good"
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Result:
    """One entity's check: its good rows in Spark (None: no file), on the driver too for
    small entities, the key values references to it may point at, and what was set
    aside."""

    good: DataFrame | None
    local_good: pl.DataFrame | None
    keys: pl.DataFrame  # the loaded and set-aside rows' referenced columns
    quarantine: pl.DataFrame
    rejected: pl.DataFrame
    input_rows: int
    loaded_rows: int


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


def referenced_columns(contracts: Mapping[str, Contract]) -> dict[str, list[str]]:
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


def check_entity(
    frame: DataFrame | None,
    contract: Contract,
    parents: Mapping[str, pl.DataFrame],
    *,
    referenced: Sequence[str] = (),
    small: bool,
    persisted: list[DataFrame],
) -> Result:
    """`validate` over the entity's rows in Spark tasks (see the package docstring).

    ``parents``: the key values of the entities the contract's checked references point
    at; ``referenced``: the entity's own columns other entities' references point at
    (gathered as `Result.keys`); ``small``: collect the loaded rows to the driver too.
    """
    from pyspark.sql import functions as F

    parent_frames = {e: parents[e] for e in _parents(contract) if e in parents}
    text_schema = polars_schema(frame) if frame is not None else {ROW_NUMBER: pl.Int64()}
    empty = validate(pl.DataFrame(schema=text_schema), contract, parent_frames)
    columns = list(referenced)
    empty_keys = empty.good.select(columns)
    if frame is None:
        return Result(None, empty.good, empty_keys, empty.quarantine, empty.rejected, 0, 0)
    how = partitioning(contract)
    if how == "keyed":
        key = key_sets(contract)[0]
        count = max(
            frame.rdd.getNumPartitions(),
            int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions") or 4),
        )
        keyed_schema = spark_schema({**text_schema, _KEY: pl.Int64()})
        frame = (
            frame.mapInArrow(_key_task(contract, key), keyed_schema)
            .repartition(count, _KEY)
            .drop(_KEY)
            .sortWithinPartitions(ROW_NUMBER)
        )
    elif how == "whole":
        frame = frame.repartition(1).sortWithinPartitions(ROW_NUMBER)
    good_schema = dict(empty.good.schema)
    payload = {e: ipc(f) for e, f in parent_frames.items()}
    checked = frame.mapInArrow(
        _validate_task(contract, payload, good_schema, columns),
        spark_schema({_KIND: pl.String(), _PAYLOAD: pl.Binary(), **good_schema}),
    ).persist()
    persisted.append(checked)
    good = checked.where(F.col(_KIND) == _GOOD).select(*good_schema)
    local_good = None
    if small:  # everything on the driver in one job; the loaded rows in file order
        everything = local_frame(checked)
        side = everything.filter(pl.col(_KIND) != _GOOD).select(_KIND, _PAYLOAD)
        local_good = (
            pl.concat(
                [empty.good, everything.filter(pl.col(_KIND) == _GOOD).select(list(good_schema))],
                how="vertical_relaxed",
            )
            .cast(empty.good.schema)
            .sort(ROW_NUMBER)
        )
    else:
        side = local_frame(checked.where(F.col(_KIND) != _GOOD).select(_KIND, _PAYLOAD))

    def gathered(kind: str, like: pl.DataFrame) -> pl.DataFrame:
        payloads = side.filter(pl.col(_KIND) == kind)[_PAYLOAD]
        frames = [from_ipc(p) for p in payloads]
        return pl.concat([like, *frames], how="vertical_relaxed").cast(like.schema)

    counts = gathered("counts", pl.DataFrame(schema={"input": pl.Int64(), "good": pl.Int64()}))
    quarantine = gathered("quarantine", empty.quarantine).sort("row_number", maintain_order=True)
    rejected = gathered("rejected", empty.rejected).sort(ROW_NUMBER)
    keys = pl.concat(
        [gathered("keys", empty_keys), rejected.select(columns)], how="vertical_relaxed"
    ).unique(maintain_order=True)
    return Result(
        good,
        local_good,
        keys,
        quarantine,
        rejected,
        int(counts["input"].sum()),
        int(counts["good"].sum()),
    )


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


def _validate_task(
    contract: Contract,
    parents: Mapping[str, bytes],
    good_schema: Mapping[str, pl.DataType],
    referenced: Sequence[str],
) -> Any:
    """`validate` once per task over all its rows. The good rows come out in their own
    typed columns (`__kind__` "good"), so writing them is a plain Spark write; quarantine
    entries, set-aside rows, the good rows' distinct `referenced` values and counts as
    Arrow IPC payloads (`__kind__` says which), their good columns empty."""
    empty_good = [pl.lit(None, dtype).alias(name) for name, dtype in good_schema.items()]

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tables_ = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables_:
            return
        rows = pl.DataFrame(pl.from_arrow(pa.concat_tables(tables_)))
        known = {entity: from_ipc(payload) for entity, payload in parents.items()}
        checked: Validated = validate(rows, contract, known)
        good = checked.good.select(
            pl.lit(_GOOD).alias(_KIND),
            pl.lit(None, pl.Binary()).alias(_PAYLOAD),
            *(pl.col(name).cast(dtype) for name, dtype in good_schema.items()),
        )
        if good.height:
            yield from arrow_frame(good).to_batches(CHUNK_ROWS)
        counts = pl.DataFrame(
            {"input": [rows.height], "good": [checked.good.height]},
            schema={"input": pl.Int64(), "good": pl.Int64()},
        )
        kinds: list[str] = []
        payloads: list[bytes] = []
        outputs = [
            ("quarantine", checked.quarantine),
            ("rejected", checked.rejected),
            ("counts", counts),
        ]
        if referenced:
            outputs.append(("keys", checked.good.select(referenced).unique()))
        for kind, frame in outputs:
            for chunk in frame.iter_slices(CHUNK_ROWS) if frame.height else []:
                kinds.append(kind)
                payloads.append(ipc(chunk))
        side = pl.DataFrame(
            {_KIND: kinds, _PAYLOAD: payloads}, schema={_KIND: pl.String(), _PAYLOAD: pl.Binary()}
        ).with_columns(empty_good)
        yield from arrow_frame(side).to_batches()

    return run
