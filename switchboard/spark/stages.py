"""The stages of an hourly run on the Spark target: the same run as on DuckDB, in the same
order (switchboard.stages), with the stages that touch the book done in Spark.

A run whose context names a Spark home (``RunContext.spark_home``, `switchboard run hourly
--spark-home`) calls these functions where this module defines them and
switchboard.pipeline's elsewhere (`Stage.__call__`):

- **Spark** holds the book. `ingest` checks the snapshot's files against their contracts
  in Spark tasks and writes the raw tables (switchboard.spark.ingest, with the export
  guards), then copies what else the dbt sources read from the control warehouse (the
  reference lookups, the routing state a run keeps there; switchboard.spark.load).
  `transform` builds the dbt project on the spark target, the whole data-test suite every
  time (every Spark build is a full build, docs/decisions/0025), and keeps the data
  tests' outcomes in the control warehouse's routing.data_tests. `route` decides with the
  Spark executor (switchboard.spark.pipeline) and brings the run's decisions to the
  driver, where the alerts, the decision guards and the engine-stage expectations are
  computed by the same functions as on DuckDB from the marts Spark built. `record` writes
  the run into its partition of the Spark routing tables (switchboard.spark.publish).
- **The control warehouse** (the DuckDB file of ``--warehouse``) keeps what is small and
  transactional: the run ledger, the outbox and its messages, the stopped runs' guard
  alerts. `prepare`, `deliver_pending`, `guard` and `stop` are pipeline's own;
  `publish_run` and `done_summary` publish (or answer for) the run from its Spark
  partition through that warehouse.

What differs from DuckDB: the guards judge each rep's availability as a level, not
against the last published run (the snapshot of rep availability keeps one version on
Spark); decisions carry no ``input_hash``, so a record left in a queue is decided again
by the next run (switchboard.queued); and only the hourly run is offered (departures and
arrivals passes reuse or increment the day's marts, which Spark does not keep).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from switchboard import tables
from switchboard.pipeline.context import RunContext, connection, utc_now
from switchboard.pipeline.routing import Routed

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from switchboard.dbt import NodeResult
    from switchboard.summary import RunSummary

# What ingest writes on Spark besides raw.<entity>; every other dbt source comes from the
# control warehouse (switchboard.spark.load).
INGEST_TABLES = (
    tables.RAW_QUARANTINE,
    tables.RAW_INGEST_LOG,
    tables.RAW_EXPORT_HISTORY,
    tables.RAW_REP_ROSTER,
)
SUITE = "full"


def session(ctx: RunContext) -> SparkSession:
    """The process's SparkSession, its tables under the run's Spark home."""
    from switchboard.spark.session import local_session

    return local_session(ctx.spark_home)


def ingest(ctx: RunContext) -> dict[str, dict[str, int]]:
    """Snapshot → the raw Spark tables (contracts, quarantine, export guards); then the
    reference lookups and the control warehouse's routing state beside them."""
    from switchboard import reference
    from switchboard.pipeline.marts import check_newest_records, export_guard
    from switchboard.spark.ingest import ingest_on_spark
    from switchboard.spark.load import load_from_duckdb

    spark = session(ctx)
    report = ingest_on_spark(
        spark,
        str(ctx.snapshot),
        ctx.run_id,
        home=ctx.spark_home,
        guard=export_guard(ctx),
        mapping=ctx.config.mapping,
    )
    check_newest_records(
        ctx,
        lambda entity: (
            spark.sql(f"select max(created_at) from raw.{entity}").collect()[0][0]
            if spark.catalog.tableExists(f"raw.{entity}")
            else None
        ),
    )
    with connection(ctx) as con:
        reference.load_reference_tables(con)
    load_from_duckdb(
        ctx.warehouse,
        ctx.spark_home,
        session=spark,
        keep_recorded=True,
        skip={*INGEST_TABLES, *(f"raw.{entity}" for entity in report.entities)},
    )
    return report.as_dict()


def transform(ctx: RunContext) -> None:
    """dbt build on the spark target, every data test; their outcomes kept in the control
    warehouse (routing.data_tests) as a DuckDB run keeps them."""
    from switchboard import data_tests, dbt

    def keep(nodes: Sequence[NodeResult]) -> None:
        with connection(ctx) as con:
            data_tests.record(
                con,
                run_id=ctx.run_id,
                suite=SUITE,
                suite_key=ctx.build_key,
                nodes=nodes,
                tested_at=utc_now(),
            )

    try:
        result = dbt.build(
            ctx.spark_home or ctx.warehouse,
            ctx.as_of,
            ctx.config,
            selector=dbt.FIRST_RUN_OF_DAY,
            target=dbt.SPARK_TARGET,
        )
    except dbt.DbtBuildFailed as failed:
        keep(failed.nodes)  # what failed, for the analyst; then the run stops
        raise
    keep(result.nodes)


def _table(spark: SparkSession, name: str) -> pl.DataFrame:
    from switchboard.spark.arrow import local_frame

    return local_frame(spark.table(name))


def route(ctx: RunContext) -> Routed:
    """Marts → the Spark executor → the run's decisions on the driver, with its alerts and
    the guards' counts, computed as on DuckDB (switchboard.pipeline.routing.route)."""
    from pyspark.sql import functions as F

    from switchboard.alerts import build_alerts
    from switchboard.guards import check_inputs, measure
    from switchboard.spark.arrow import local_frame
    from switchboard.spark.pipeline import WORKLOAD, read_inputs
    from switchboard.spark.route import route_on_spark

    spark = session(ctx)
    frames, scope = read_inputs(spark, ctx.config, as_of=ctx.as_of, selection=ctx.plan.selection)
    reps = local_frame(frames["reps"])
    check_inputs(
        rep_count=reps.height,
        carrying_rep_count=reps.filter(pl.col("is_available")).height,
        territory_count=spark.table("raw.territories").count(),
    )
    routed = route_on_spark(
        spark,
        frames,
        ctx.config,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        selection=ctx.plan.selection,
        leaver_rep_ids=ctx.leaver_rep_ids,
        scope=scope,
    )
    decisions = local_frame(routed.decisions)
    conflicts = local_frame(routed.conflicts)
    workload = _table(spark, WORKLOAD)
    alerts = build_alerts(
        decisions=decisions,
        conflicts=conflicts,
        reps=reps.lazy(),
        gaps=_table(spark, "marts.fct_ownership_gaps").lazy(),
        workload_history=workload.lazy(),
        config=ctx.config,
        run_id=ctx.run_id,
        as_of=ctx.as_of,
        skill_gaps=local_frame(routed.skill_gaps),
        sla_breaches=local_frame(routed.sla_breaches),
    )
    # The guards count each rep's book: one column of the accounts, not the accounts.
    owners = local_frame(frames["accounts"].select(F.col("owner_id")))
    guard = measure(
        decisions=decisions,
        accounts=owners.lazy(),
        reps=reps.lazy(),
        exempt_rep_ids=ctx.leaver_rep_ids,
        previous=None,
    )
    return Routed(
        decisions,
        conflicts,
        local_frame(routed.rep_state),
        alerts,
        guard,
        round_robin=local_frame(routed.round_robin),
    )


def check_output(ctx: RunContext, routed: Routed) -> None:
    """The engine stage's Great Expectations, on the marts Spark built."""
    from switchboard.quality.runner import check_frame
    from switchboard.quality.stages import engine_check_frame, engine_specs
    from switchboard.spark.pipeline import WORKLOAD

    spark = session(ctx)
    frame = engine_check_frame(
        routed.decisions,
        _table(spark, "marts.dim_reps").select("rep_id", "is_available"),
        _table(spark, WORKLOAD)
        .filter(pl.col("as_of_date") == ctx.as_of.date())
        .select("rep_id", "workload_index", "capacity"),
        ctx.config,
        leaver_rep_ids=ctx.leaver_rep_ids,
    )
    if frame.height:
        check_frame(frame, engine_specs(), "engine", row_id="record_key")


def record(ctx: RunContext, routed: Routed) -> None:
    """The run into its partition of the Spark routing tables; the ledger says decided."""
    from switchboard import publish
    from switchboard.spark.publish import record_outcome_on_spark

    record_outcome_on_spark(
        session(ctx),
        run_id=ctx.run_id,
        home=ctx.spark_home,
        decisions=routed.decisions,
        conflicts=routed.conflicts,
        alerts=routed.alerts,
        rep_state=routed.rep_state,
        round_robin=routed.round_robin,
    )
    with connection(ctx) as con:
        publish.set_status(con, ctx.run_id, "decided")


def publish_run(ctx: RunContext) -> RunSummary:
    """Publish the decided run from its Spark partition through the control warehouse."""
    from switchboard.spark.publish import publish_from_spark

    with connection(ctx) as con:
        return publish_from_spark(con, session(ctx), ctx)


def done_summary(ctx: RunContext) -> RunSummary:
    """An export already published: its summary from the Spark partition, nothing again."""
    return publish_run(ctx)
