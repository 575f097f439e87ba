"""The route stage on Spark: the engine's inputs read from the tables a Spark build left,
decided by the Spark executor (switchboard.spark.route).

It reads what the DuckDB route stage reads (switchboard/pipeline/routing.py), by the same
table names: the marts of `ENGINE_TABLES`, the day's row of `fct_rep_workload`, the
routing state (`routing.rep_state`, `routing.round_robin`) and the dbt views over the
routing log (pending owners, the first-touch clocks that may have run out). Pending owners
are laid over the accounts and leads with the same function the DuckDB path uses
(`with_pending_owners`), applied batch by batch in Spark tasks before the groups are
drawn, since an owner is one of the ties that make a group. What stays on the machine
that runs the flow is the run ledger: records it settled in a queue come in as
``settled`` and are left out of the scope, as on DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from switchboard.config import RoutingConfig
from switchboard.engine.eligibility import REPAIRS_ONLY, Selection
from switchboard.pipeline.inputs import (
    ENGINE_TABLES,
    PENDING_OWNERS,
    SLA_CLOCKS_DUE,
    with_pending_owners,
)
from switchboard.spark.arrow import arrow_frame, from_ipc, ipc
from switchboard.spark.route import SparkRouted, route_on_spark

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

WORKLOAD = "marts.fct_rep_workload"
STATE_TABLES = {"rep_state": "routing.rep_state", "round_robin": "routing.round_robin"}


def _with_pending(frame: DataFrame, pending: pl.DataFrame, record_type: str, key: str) -> DataFrame:
    """``with_pending_owners`` on every batch of a Spark DataFrame (it is row-local: a
    left join on the record key with the small pending table)."""
    mine = pending.filter(pl.col("record_type") == record_type)
    if mine.is_empty():
        return frame
    payload = ipc(mine)

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        owners = from_ipc(payload)
        for batch in batches:
            rows = pl.DataFrame(pl.from_arrow(pa.Table.from_batches([batch])))
            laid = with_pending_owners(rows.lazy(), owners, record_type, key).collect()
            yield from arrow_frame(laid).to_batches()

    return frame.mapInArrow(run, frame.schema)


def read_inputs(
    spark: SparkSession,
    config: RoutingConfig,
    *,
    as_of: datetime,
    selection: Selection = REPAIRS_ONLY,
    settled: pl.DataFrame | None = None,
) -> tuple[dict[str, DataFrame], DataFrame | None]:
    """The engine's input frames from the Spark tables, and the scope (None: every record)."""
    from pyspark.sql import functions as F

    frames = {name: spark.table(table) for name, table in ENGINE_TABLES.items()}
    pending = pl.DataFrame(pl.from_arrow(spark.table(PENDING_OWNERS).toArrow()))
    frames["accounts"] = _with_pending(frames["accounts"], pending, "account", "account_id")
    frames["leads"] = _with_pending(frames["leads"], pending, "lead", "lead_id")
    frames["workload"] = spark.table(WORKLOAD).where(F.col("as_of_date") == F.lit(as_of.date()))
    for name, table in STATE_TABLES.items():
        frames[name] = spark.table(table)
    if selection.checks_sla(config):
        frames["sla_clocks"] = spark.table(SLA_CLOCKS_DUE)
    scope = None
    if settled is not None and settled.height:
        every = (
            frames["accounts"]
            .select(F.lit("account").alias("record_type"), F.col("account_id").alias("record_id"))
            .unionByName(
                frames["leads"].select(
                    F.lit("lead").alias("record_type"), F.col("lead_id").alias("record_id")
                )
            )
        )
        left = spark.createDataFrame(arrow_frame(settled.select("record_type", "record_id")))
        scope = every.join(left, on=["record_type", "record_id"], how="left_anti")
    return frames, scope


def route_spark_marts(
    spark: SparkSession,
    config: RoutingConfig,
    *,
    run_id: str,
    as_of: datetime,
    selection: Selection = REPAIRS_ONLY,
    leaver_rep_ids: Sequence[str] = (),
    settled: pl.DataFrame | None = None,
) -> SparkRouted:
    """Decide on Spark what the DuckDB route stage decides from the same tables."""
    frames, scope = read_inputs(spark, config, as_of=as_of, selection=selection, settled=settled)
    return route_on_spark(
        spark,
        frames,
        config,
        run_id=run_id,
        as_of=as_of,
        selection=selection,
        leaver_rep_ids=leaver_rep_ids,
        scope=scope,
    )
