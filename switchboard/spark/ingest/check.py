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
    from pyspark.sql import DataFrame, SparkSession

Partitioning = Literal["row_local", "keyed", "whole"]

_KEY = "__partition_key__"
# The validate task's output: what a row is (_GOOD: a loaded row in the good columns) and,
# for the rest, its Arrow IPC payload.
_KIND, _PAYLOAD, _GOOD = "__kind__", "__payload__", "good"
CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class Result:
    """One entity's check: its good rows in Spark (None: no file), on the driver too for
    small entities, and what was set aside."""

    good: DataFrame | None
    local_good: pl.DataFrame | None
    empty_good: pl.DataFrame
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
    spark: SparkSession,
    frame: DataFrame | None,
    contract: Contract,
    parents: Mapping[str, pl.DataFrame],
    *,
    small: bool,
    persisted: list[DataFrame],
) -> Result:
    """`validate` over the entity's rows in Spark tasks (see the package docstring)."""
    from pyspark.sql import functions as F

    parent_frames = {e: parents[e] for e in _parents(contract) if e in parents}
    text_schema = polars_schema(frame) if frame is not None else {ROW_NUMBER: pl.Int64()}
    empty = validate(pl.DataFrame(schema=text_schema), contract, parent_frames)
    if frame is None:
        return Result(None, empty.good, empty.good, empty.quarantine, empty.rejected, 0, 0)
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
    good_schema = dict(empty.good.schema)
    payload = {e: ipc(f) for e, f in parent_frames.items()}
    checked = frame.mapInArrow(
        _validate_task(contract, payload, good_schema),
        spark_schema({_KIND: pl.String(), _PAYLOAD: pl.Binary(), **good_schema}),
    ).persist()
    persisted.append(checked)
    side = [
        (str(r[_KIND]), bytes(r[_PAYLOAD]))
        for r in checked.where(F.col(_KIND) != _GOOD).select(_KIND, _PAYLOAD).collect()
    ]

    def gathered(kind: str, like: pl.DataFrame) -> pl.DataFrame:
        frames = [from_ipc(p) for k, p in side if k == kind]
        return pl.concat([like, *frames], how="vertical_relaxed").cast(like.schema)

    counts = gathered("counts", pl.DataFrame(schema={"input": pl.Int64(), "good": pl.Int64()}))
    quarantine = gathered("quarantine", empty.quarantine).sort("row_number", maintain_order=True)
    rejected = gathered("rejected", empty.rejected).sort(ROW_NUMBER)
    good = checked.where(F.col(_KIND) == _GOOD).select(*good_schema)
    local_good = None
    if small:  # the loaded rows on the driver, in file order
        local_good = (
            pl.concat([empty.good, local_frame(good)], how="vertical_relaxed")
            .cast(empty.good.schema)
            .sort(ROW_NUMBER)
        )
    return Result(
        good,
        local_good,
        empty.good,
        quarantine,
        rejected,
        int(counts["input"].sum()),
        int(counts["good"].sum()),
    )


def known_keys(result: Result, columns: Sequence[str]) -> pl.DataFrame:
    """The key values references to the entity may point at: its loaded and set-aside
    rows' `columns`."""
    good_keys = (
        local_frame(result.good.select(*columns).distinct())
        if result.good is not None
        else result.empty_good
    )
    return pl.concat(
        [good_keys.select(columns), result.rejected.select(columns)], how="vertical_relaxed"
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
    contract: Contract, parents: Mapping[str, bytes], good_schema: Mapping[str, pl.DataType]
) -> Any:
    """`validate` once per task over all its rows. The good rows come out in their own
    typed columns (`__kind__` "good"), so writing them is a plain Spark write; quarantine
    entries, set-aside rows and counts as Arrow IPC payloads (`__kind__` says which), their
    good columns empty."""
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
        for kind, frame in (
            ("quarantine", checked.quarantine),
            ("rejected", checked.rejected),
            ("counts", counts),
        ):
            for chunk in frame.iter_slices(CHUNK_ROWS) if frame.height else []:
                kinds.append(kind)
                payloads.append(ipc(chunk))
        side = pl.DataFrame(
            {_KIND: kinds, _PAYLOAD: payloads}, schema={_KIND: pl.String(), _PAYLOAD: pl.Binary()}
        ).with_columns(empty_good)
        yield from arrow_frame(side).to_batches()

    return run
