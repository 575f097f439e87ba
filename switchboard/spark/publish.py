"""A Spark run's outcome, recorded in Spark tables and published from the control warehouse.

The data lives in Spark; what people act on stays small and transactional on the machine
that runs the flow. So a run's outputs are split:

- **Spark** holds what is as large as the book. `record_on_spark` writes the run's
  routing.decisions, routing.conflicts and routing.alerts as Parquet tables partitioned
  by ``run_id`` (``<home>/sources/routing/<table>/run_id=<run_id>/``, the tables and
  layout switchboard.spark.load registers, so the next Spark build's dbt sources read
  them: pending owners, the workload of recent assignments, fct_routing_decisions).
  Recording a run again (a retry) replaces that run's partition only (dynamic partition
  overwrite); other runs' partitions are untouched. routing.rep_state and
  routing.round_robin are replaced, as on DuckDB. Columns are DuckDB's (the engine's
  schemas, switchboard/engine/schema.py, switchboard/alerts.py), the partition column
  last as Spark keeps it; a decision carries no ``input_hash`` (switchboard.queued).
- **The control warehouse** (a DuckDB file, the same tables as a DuckDB run's) keeps
  the run ledger (routing.runs) and the outbox (routing.outbox_messages, the outbox
  files, the notification sinks). `publish_from_spark` collects the run's partition to
  the driver as Polars (the run's decisions are its moves and queue entries, its alerts
  and conflicts: a run's worth, small next to the book) and hands it to the very
  functions a DuckDB run publishes with (switchboard.pipeline.publishing.publish_outcome:
  switchboard.publish's queue_messages, write_outbox, the sinks, set_status). Alerts
  raised while delivering (delivery_failed, switchboard.publish.raise_alerts) join the
  control warehouse's routing.alerts, beside the messages they are about.

The ledger moves as on DuckDB: ``started`` (switchboard.pipeline.prepare, which also
finds an earlier attempt of the same inputs) → ``decided`` (`decide_on_spark`, once the
Spark tables hold the run) → ``published`` (`publish_from_spark`). A run whose process
died after ``decided`` is published by the next attempt from its partition, with no
route; a run already ``published`` publishes nothing again (its summary is answered and
only what earlier runs left pending is delivered). docs/decisions/0027.

Notification messages name records and reps from the control warehouse's marts where it
has them; without them the ids stand in (switchboard.notify).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from switchboard import publish, tables
from switchboard.alerts import ALERTS
from switchboard.engine.schema import CONFLICTS, RECORDED_DECISIONS, REP_STATE, ROUND_ROBIN
from switchboard.pipeline.context import RunContext
from switchboard.pipeline.publishing import RunOutcome, answer_published, publish_outcome
from switchboard.spark.arrow import local_frame, spark_frame
from switchboard.spark.load import PARTITION, create_run_table, table_folder
from switchboard.summary import RunSummary

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from switchboard.spark.route import SparkRouted

# Each run-partitioned table and its columns (as DuckDB's routing.* tables).
RUN_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    tables.DECISIONS: RECORDED_DECISIONS,
    tables.CONFLICTS: CONFLICTS,
    tables.ALERTS: ALERTS,
}
# A run_id names a partition folder as it is: letters, digits and - _ . only (the pipeline's
# ids are <as-of>-<mode>-<fingerprint>, switchboard.pipeline.context.run_id_for).
_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class SparkPublishError(RuntimeError):
    """A run cannot be published from Spark in the state the ledger holds it."""


@dataclass(frozen=True)
class Recorded:
    """Rows recorded for the run, per table."""

    run_id: str
    rows: dict[str, int]


def _check_run_id(run_id: str) -> None:
    if not _RUN_ID.match(run_id):
        raise ValueError(
            f"run_id {run_id!r} cannot name a Spark partition: use letters, digits and - _ . only"
        )


def _write_partition(
    spark: SparkSession, name: str, frame: DataFrame, run_id: str, home: Path | str | None
) -> int:
    """Replace the run's partition of the run table ``name`` with ``frame``'s rows."""
    from pyspark.sql import functions as F

    folder = table_folder(home, name)
    if not spark.catalog.tableExists(name):
        folder.mkdir(parents=True, exist_ok=True)
        create_run_table(spark, name, folder)
    # The partition is the run's, whatever run_id the rows carry; and the table's column
    # order, since an insert matches columns by position.
    order = spark.table(name).columns
    rows = frame.withColumn(PARTITION, F.lit(run_id)).select(*order).cache()
    try:
        count = rows.count()
        if count == 0:
            # Nothing to overwrite with: a dynamic overwrite would leave an earlier
            # attempt's rows, so the partition goes.
            spark.sql(f"alter table {name} drop if exists partition ({PARTITION} = '{run_id}')")
            shutil.rmtree(folder / f"{PARTITION}={run_id}", ignore_errors=True)
            return 0
        mode_key = "spark.sql.sources.partitionOverwriteMode"
        before = spark.conf.get(mode_key)
        spark.conf.set(mode_key, "dynamic")
        try:
            rows.write.insertInto(name, overwrite=True)
        finally:
            spark.conf.set(mode_key, before or "static")
        return count
    finally:
        rows.unpersist()


def _replace_table(
    spark: SparkSession, name: str, frame: pl.DataFrame, home: Path | str | None
) -> int:
    """Replace every row of the routing state table ``name`` (where load.py registers it)."""
    rows = spark_frame(spark, frame)
    if spark.catalog.tableExists(name):
        rows.select(*spark.table(name).columns).write.insertInto(name, overwrite=True)
    else:
        schema = name.partition(".")[0]
        spark.sql(f"create database if not exists `{schema}`")
        rows.write.format("parquet").option("path", str(table_folder(home, name))).mode(
            "overwrite"
        ).saveAsTable(name)
    return frame.height


def record_on_spark(
    spark: SparkSession,
    routed: SparkRouted,
    *,
    run_id: str,
    home: Path | str | None = None,
    alerts: pl.DataFrame | None = None,
) -> Recorded:
    """Write the run's decisions, conflicts and ``alerts`` (switchboard.alerts.ALERTS) into
    the run's partition of the Spark routing tables, replacing an earlier attempt's, and
    replace routing.rep_state (when the run has one) and routing.round_robin.

    ``home``: the Spark home the sources were loaded under (switchboard.spark.load).
    """
    # Both are put together on the driver (switchboard.spark.route): small, and local.
    return record_outcome_on_spark(
        spark,
        run_id=run_id,
        home=home,
        decisions=routed.decisions,
        conflicts=routed.conflicts,
        alerts=alerts if alerts is not None else pl.DataFrame(schema=ALERTS),
        rep_state=local_frame(routed.rep_state),
        round_robin=local_frame(routed.round_robin),
    )


def record_outcome_on_spark(
    spark: SparkSession,
    *,
    run_id: str,
    home: Path | str | None,
    decisions: DataFrame | pl.DataFrame,
    conflicts: DataFrame | pl.DataFrame,
    alerts: pl.DataFrame,
    rep_state: pl.DataFrame,
    round_robin: pl.DataFrame | None,
) -> Recorded:
    """`record_on_spark` from frames: the decisions and conflicts as Spark DataFrames (the
    executor's) or as Polars frames on the driver (a run's stages,
    switchboard.spark.stages)."""
    from pyspark.sql import functions as F

    _check_run_id(run_id)

    def on_spark(frame: DataFrame | pl.DataFrame, schema: dict[str, pl.DataType]) -> DataFrame:
        if isinstance(frame, pl.DataFrame):
            return spark_frame(spark, frame.select(list(schema)).cast(schema))  # type: ignore[arg-type]
        return frame.select(*schema)

    if isinstance(decisions, pl.DataFrame):
        if "input_hash" not in decisions.columns:
            decisions = decisions.with_columns(input_hash=pl.lit(None, pl.String()))
    else:
        decisions = decisions.withColumn("input_hash", F.lit(None).cast("string"))
    frames = {
        tables.DECISIONS: on_spark(decisions, RECORDED_DECISIONS),
        tables.CONFLICTS: on_spark(conflicts, CONFLICTS),
        tables.ALERTS: on_spark(alerts, ALERTS),
    }
    rows = {
        name: _write_partition(spark, name, frame, run_id, home) for name, frame in frames.items()
    }
    if rep_state.height:
        rows[tables.REP_STATE] = _replace_table(
            spark, tables.REP_STATE, rep_state.select(list(REP_STATE)), home
        )
    if round_robin is not None:
        rows[tables.ROUND_ROBIN] = _replace_table(
            spark, tables.ROUND_ROBIN, round_robin.select(list(ROUND_ROBIN)), home
        )
    return Recorded(run_id, rows)


def decide_on_spark(
    con: duckdb.DuckDBPyConnection,
    spark: SparkSession,
    routed: SparkRouted,
    *,
    run_id: str,
    home: Path | str | None = None,
    alerts: pl.DataFrame | None = None,
) -> Recorded:
    """`record_on_spark`, then mark the run ``decided`` in the control warehouse's ledger
    (``con``): from there on a new attempt publishes it instead of routing it again."""
    recorded = record_on_spark(spark, routed, run_id=run_id, home=home, alerts=alerts)
    publish.set_status(con, run_id, "decided")
    return recorded


def recorded_outcome(spark: SparkSession, run_id: str) -> RunOutcome:
    """The run's partition of routing.decisions, routing.conflicts and routing.alerts, on
    the driver as Polars frames in DuckDB's column order and types."""
    from pyspark.sql import functions as F

    _check_run_id(run_id)

    def frame(name: str) -> pl.DataFrame:
        schema = RUN_SCHEMAS[name]
        if not spark.catalog.tableExists(name):
            return pl.DataFrame(schema=schema)
        rows = spark.table(name).where(F.col(PARTITION) == run_id)
        return local_frame(rows).select(list(schema)).cast(schema)  # type: ignore[arg-type]

    return RunOutcome(
        decisions=frame(tables.DECISIONS),
        conflicts=frame(tables.CONFLICTS),
        alerts=frame(tables.ALERTS),
    )


def _status(con: duckdb.DuckDBPyConnection, run_id: str) -> str | None:
    rows = con.execute("select status from routing.runs where run_id = ?", [run_id]).fetchall()
    return str(rows[0][0]) if rows else None


def publish_from_spark(
    con: duckdb.DuckDBPyConnection, spark: SparkSession, ctx: RunContext
) -> RunSummary:
    """Publish the decided run ``ctx.run_id`` from its Spark partition through the control
    warehouse ``con`` (its ledger and outbox), as a DuckDB run publishes; mark it
    published. A run already published is answered without publishing anything again.
    Raises SparkPublishError for a run the ledger does not hold as decided or published.
    """
    status = _status(con, ctx.run_id)
    if status not in ("decided", "published"):
        raise SparkPublishError(
            f"run {ctx.run_id} is {status or 'not in routing.runs'}: only a decided run is "
            "published (record it with decide_on_spark first)"
        )
    outcome = recorded_outcome(spark, ctx.run_id)
    if status == "published":
        return answer_published(con, ctx, outcome)
    return publish_outcome(con, ctx, outcome)


__all__ = [
    "RUN_SCHEMAS",
    "Recorded",
    "SparkPublishError",
    "decide_on_spark",
    "publish_from_spark",
    "record_on_spark",
    "record_outcome_on_spark",
    "recorded_outcome",
]
