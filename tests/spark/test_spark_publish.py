"""A Spark run recorded in Spark tables and published from the control warehouse
(switchboard.spark.publish).

The 10k org's route stage runs on Spark (tests/spark/conftest.py, ``spark_build``); the
control warehouse is a copy of the DuckDB run's warehouse as its dbt build left it, where
the ledger holds the run as ``started``. The run is recorded on Spark (after another run's
partition, and twice, as a retry would), marked decided, published from its partition by a
call that has no routed result (as a restarted process publishes it), and published again.
Its recorded rows must be DuckDB's decisions record by record, its outbox files those the
DuckDB run wrote, and the next Spark build's pending owners must see its decisions.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from switchboard import pipeline, warehouse
from switchboard.engine.schema import CONFLICTS, DECISIONS
from switchboard.pipeline.context import RunContext, connection
from switchboard.spark.arrow import local_frame
from switchboard.summary import RunSummary
from tests.engine_inputs import Captured
from tests.spark.conftest import AS_OF, SparkBuild

pytestmark = pytest.mark.spark

KEYS = ["record_type", "record_id"]
OTHER_RUN = "20261122T090000-hourly-0000beef"
OUTBOX_FILES = ("reassignments.csv", "Account.csv", "Lead.csv", "review.csv", "alerts.jsonl")


@dataclass(frozen=True)
class Published:
    ctx: RunContext
    steps: list[str]  # what prepare answered: at the start, once decided, once published
    statuses: list[str]  # the ledger's status after decide, publish, publish again
    recorded: list[int]  # the run's decisions in Spark after the first and second record
    other_rows: tuple[int, int]  # the other run's decisions: recorded, after this run's
    messages: tuple[int, int]  # outbox messages after the first publish and the second
    files: tuple[dict[str, bytes], dict[str, bytes]]  # the run's outbox files, both times
    summaries: tuple[RunSummary, RunSummary]


def _run_rows(spark: Any, table: str, run_id: str) -> pl.DataFrame:
    return local_frame(spark.table(table).where(f"run_id = '{run_id}'"))


def _files(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in OUTBOX_FILES}


def _status(ctx: RunContext) -> str:
    with connection(ctx) as con:
        row = con.execute("select status from routing.runs where run_id = ?", [ctx.run_id])
        return str(row.fetchall()[0][0])


@pytest.fixture(scope="module")
def published(
    run: Captured, spark_build: SparkBuild, tmp_path_factory: pytest.TempPathFactory
) -> Published:
    from switchboard.spark.publish import decide_on_spark, publish_from_spark, record_on_spark

    spark, routed, home = spark_build.session, spark_build.routed, spark_build.home
    root = tmp_path_factory.mktemp("spark-publish")
    control = root / "control.duckdb"
    shutil.copyfile(run.built, control)
    ctx = pipeline.make_context(
        snapshot=run.warehouse.parent / "org",
        warehouse_path=control,
        outbox=root / "outbox",
        config=run.config,
        as_of=AS_OF,
        allow_backdated=True,
    )
    assert ctx.run_id == run.options["run_id"]
    duckdb_run = duckdb.connect(str(run.warehouse), read_only=True)
    try:
        alerts = warehouse.query(
            duckdb_run, "select * from routing.alerts where run_id = ?", [ctx.run_id]
        )
    finally:
        duckdb_run.close()

    ctx, step = pipeline.prepare(ctx)
    steps = [step]
    # Another run's partition: a few of the same decisions under another run_id.
    other = replace(
        routed, decisions=routed.decisions.limit(200), conflicts=routed.conflicts.limit(20)
    )
    record_on_spark(spark, other, run_id=OTHER_RUN, home=home)
    other_before = spark.table("routing.decisions").where(f"run_id = '{OTHER_RUN}'").count()
    recorded = []
    with connection(ctx) as con:
        decide_on_spark(con, spark, routed, run_id=ctx.run_id, home=home, alerts=alerts)
    recorded.append(_run_rows(spark, "routing.decisions", ctx.run_id).height)
    record_on_spark(spark, routed, run_id=ctx.run_id, home=home, alerts=alerts)  # a retry
    recorded.append(_run_rows(spark, "routing.decisions", ctx.run_id).height)
    other_after = spark.table("routing.decisions").where(f"run_id = '{OTHER_RUN}'").count()
    statuses = [_status(ctx)]

    # A new attempt on the same inputs finds the run decided: it publishes from Spark.
    ctx, step = pipeline.prepare(ctx)
    steps.append(step)
    counts, files, summaries = [], [], []
    for _ in range(2):
        with connection(ctx) as con:
            summaries.append(publish_from_spark(con, spark, ctx))
            counts.append(
                int(con.execute("select count(*) from routing.outbox_messages").fetchall()[0][0])
            )
        statuses.append(_status(ctx))
        files.append(_files(ctx.outbox / ctx.run_id))
        if len(steps) == 2:
            ctx, step = pipeline.prepare(ctx)
            steps.append(step)
    return Published(
        ctx=ctx,
        steps=steps,
        statuses=statuses,
        recorded=recorded,
        other_rows=(other_before, other_after),
        messages=(counts[0], counts[1]),
        files=(files[0], files[1]),
        summaries=(summaries[0], summaries[1]),
    )


def test_recorded_decisions_and_conflicts_are_duckdbs_record_by_record(
    run: Captured, spark_build: SparkBuild, published: Published
) -> None:
    spark, run_id = spark_build.session, published.ctx.run_id
    decisions = _run_rows(spark, "routing.decisions", run_id)
    want = run.result.decisions.sort(KEYS)
    assert decisions.height == want.height > 1_000
    assert decisions["input_hash"].null_count() == decisions.height
    assert_frame_equal(decisions.select(list(DECISIONS)).sort(KEYS), want)
    conflicts = _run_rows(spark, "routing.conflicts", run_id).select(list(CONFLICTS))
    keys = [*KEYS, "conflict_type"]
    assert conflicts.height == run.result.conflicts.height > 0
    assert_frame_equal(conflicts.sort(keys), run.result.conflicts.sort(keys))
    alerts = _run_rows(spark, "routing.alerts", run_id)
    assert alerts.height == sum(published.summaries[0].alerts_by_type.values()) > 0


def test_recording_a_run_again_replaces_its_partition_only(published: Published) -> None:
    first, second = published.recorded
    assert first == second > 1_000  # a retry leaves one copy
    before, after = published.other_rows
    assert before == after == 200  # the other run's partition is untouched


def test_the_ledger_goes_started_decided_published_and_publishes_once(published: Published) -> None:
    assert published.steps == ["route", "publish", "done"]
    assert published.statuses == ["decided", "published", "published"]
    first, again = published.messages
    assert first > 1_000
    assert again == first  # nothing queued the second time
    assert published.files[0] == published.files[1]
    assert published.summaries[1].records == published.summaries[0].records
    assert "nothing new to publish" in published.summaries[1].message


def test_outbox_files_from_spark_are_the_duckdb_runs(run: Captured, published: Published) -> None:
    duckdb_folder = run.warehouse.parent / "outbox" / published.ctx.run_id
    spark_files = published.files[0]
    assert spark_files["Account.csv"].count(b"\n") > 100
    assert spark_files == _files(duckdb_folder)


def test_the_next_spark_build_sees_the_recorded_decisions(
    run: Captured, spark_build: SparkBuild, published: Published
) -> None:
    """The ledger is copied into Spark again (the recorded tables kept), and the pending
    owners view, built an hour after the run, lists the run's decisions that gave a rep."""
    from switchboard import dbt
    from switchboard.spark.load import load_from_duckdb

    spark, run_id = spark_build.session, published.ctx.run_id
    loaded = load_from_duckdb(
        published.ctx.warehouse, spark_build.home, session=spark, keep_recorded=True
    )
    assert "routing.runs" in {t.name for t in loaded}
    assert "routing.decisions" not in {t.name for t in loaded}
    assert _run_rows(spark, "routing.decisions", run_id).height == published.recorded[0]
    dbt.build(
        spark_build.home,
        AS_OF + timedelta(hours=1),
        run.config,
        select="int_pending_owners",
        exclude=dbt.DEVELOPMENT_ONLY,
        target="spark",
    )
    pending = local_frame(spark.table("intermediate.int_pending_owners"))
    want = run.result.decisions.filter(
        pl.col("owner_id").is_not_null() & (pl.col("rule") != "manager_review")
    ).select(*KEYS, "previous_owner_id", "owner_id")
    assert want.height > 1_000
    assert_frame_equal(pending.select(want.columns).sort(KEYS), want.sort(KEYS))


def test_publishing_a_run_not_decided_is_refused(
    spark_build: SparkBuild, published: Published
) -> None:
    from switchboard.spark.publish import SparkPublishError, publish_from_spark

    ctx = replace(published.ctx, run_id="20261124T090000-hourly-notthere")
    with connection(ctx) as con, pytest.raises(SparkPublishError, match=r"not in routing\.runs"):
        publish_from_spark(con, spark_build.session, ctx)


def test_a_run_id_that_cannot_name_a_partition_is_refused_before_anything_is_written(
    spark_build: SparkBuild,
) -> None:
    from switchboard.spark.publish import record_on_spark

    with pytest.raises(ValueError, match="cannot name a Spark partition"):
        record_on_spark(
            spark_build.session, spark_build.routed, run_id="../x", home=spark_build.home
        )
