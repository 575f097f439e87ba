"""The route stage on Spark: the same Polars engine, run per group of records in Spark tasks.

docs/ARCHITECTURE.md ("Two executors"). `route_on_spark` takes the engine's inputs as
Spark DataFrames (keyed by input name or mart name, engine.inputs.MART_NAMES) and:

1. collects the small inputs (reps, members, workload, rep state, named accounts, recent
   assignments, rotations) to the driver once, as Polars frames;
2. computes every record's group (switchboard.engine.partition) with Spark joins: the
   nodes each record touches, their distinct edges (a small table) collected for the
   union-find on the driver, and the node -> group map joined back;
3. tags the record-scale inputs (accounts, leads, opportunities, territory matches, SLA
   clocks, the scope) with their group, unions them into one frame (each input's columns
   prefixed with its name, ``_frame`` telling which input a row belongs to),
   repartitions it by group and runs `engine.partition.route_part` once per task in
   ``mapInArrow``: the small inputs travel in the function's closure as Arrow IPC bytes;
4. returns Spark DataFrames of the outputs; rep_state and round_robin are put together
   on the driver from the tasks' small per-rep gains and per-territory rotations
   (engine.partition.combine's rules).

``mapInArrow`` rather than ``groupBy(group_id).applyInArrow``: the latter calls the engine
once per group, and an org has many small groups (a record touching no territory and no
rep is one); the engine's fixed cost per call (tens of milliseconds) would dominate.
Routing the whole groups a task holds in one call is exact (they do not interact) and
keeps the calls to one per task. Repartitioning by ``group_id`` is what keeps a group in
one task.

The outputs have different schemas. The engine runs once per task and emits one tagged
envelope: rows (kind, payload) where payload is an Arrow IPC stream of one output's rows.
The envelope is persisted, and each output is decoded from it by a cheap second
``mapInArrow`` in its own schema; separate engine passes per output would route every
group six times.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from switchboard.config import RoutingConfig
from switchboard.engine import partition
from switchboard.engine.eligibility import REPAIRS_ONLY, Selection
from switchboard.engine.inputs import (
    FRAME_COLUMNS,
    MART_NAMES,
    OPTIONAL_COLUMNS,
    OPTIONAL_FRAMES,
    SCOPE_COLUMNS,
    EngineInputError,
    EngineInputs,
    empty_frame,
)
from switchboard.engine.router import route
from switchboard.engine.schema import (
    CONFLICTS,
    DECISIONS,
    REP_STATE,
    ROUND_ROBIN,
    SKILL_GAPS,
    SLA_BREACHES,
)
from switchboard.spark.arrow import arrow_frame, from_ipc, ipc, spark_frame, spark_schema, to_polars

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

GROUP = partition.GROUP
FRAME = "_frame"
SEP = "__"

# One row per task: what it routed and how long the engine took.
METRICS: dict[str, pl.DataType] = {
    "task": pl.Int64(),
    "groups": pl.Int64(),
    "records": pl.Int64(),
    "decisions": pl.Int64(),
    "seconds": pl.Float64(),
    "group_ids": pl.List(pl.String()),
}

# The outputs the tasks emit, each in its schema.
OUTPUTS: dict[str, dict[str, pl.DataType]] = {
    "decisions": DECISIONS,
    "conflicts": CONFLICTS,
    "skill_gaps": SKILL_GAPS,
    "sla_breaches": SLA_BREACHES,
    "round_robin": ROUND_ROBIN,
    "gains": partition.GAINS,
    "metrics": METRICS,
}
ENVELOPE = "kind string, payload binary"


@dataclass(frozen=True)
class SparkRouted:
    """The engine's outputs as Spark DataFrames, and per-task metrics (``metrics``)."""

    decisions: DataFrame
    conflicts: DataFrame
    rep_state: DataFrame
    round_robin: DataFrame
    skill_gaps: DataFrame
    sla_breaches: DataFrame
    metrics: pl.DataFrame
    groups: DataFrame  # record_type, record_id, group_id


def _resolve(frames: Mapping[str, DataFrame]) -> dict[str, DataFrame]:
    """Frames keyed by input name, from input or mart names (``dim_reps``)."""
    by_mart = {mart: name for name, mart in MART_NAMES.items()}
    resolved: dict[str, DataFrame] = {}
    for key, frame in frames.items():
        name = key if key in FRAME_COLUMNS else by_mart.get(key.rpartition(".")[2])
        if name is None:
            raise EngineInputError(f"unknown engine input '{key}'")
        resolved[name] = frame
    missing = [n for n in FRAME_COLUMNS if n not in resolved and n not in OPTIONAL_FRAMES]
    if missing:
        raise EngineInputError(f"engine input '{missing[0]}' ({MART_NAMES[missing[0]]}) is missing")
    return resolved


def _columns(name: str, frame: DataFrame) -> list[str]:
    """The engine's columns of one input present in the Spark frame (the rest are left
    behind: the engine ignores them)."""
    wanted = {**FRAME_COLUMNS[name], **OPTIONAL_COLUMNS.get(name, {})}
    present = set(frame.columns)
    missing = [c for c in FRAME_COLUMNS[name] if c not in present]
    if missing:
        raise EngineInputError(
            f"engine input '{name}' ({MART_NAMES[name]}) is missing column '{missing[0]}'"
        )
    return [c for c in wanted if c in present]


def _record_nodes(f: dict[str, DataFrame]) -> DataFrame:
    """engine.partition.record_nodes in Spark joins (record_type, record_id, node)."""
    from pyspark.sql import functions as F

    def node(prefix: str, column: str) -> Any:
        return F.concat(F.lit(prefix), F.col(column))

    accounts = (
        f["accounts"]
        .select("account_id", "owner_id", "parent_account_id", "ultimate_parent_account_id")
        .dropDuplicates(["account_id"])
    )
    named = (
        f["named_accounts"]
        .where(F.col("owner_id").isNotNull())
        .select(F.col("account_id").alias("key"), node("r:", "owner_id").alias("node"))
    )
    key_reps = (
        f["opportunities"]
        .where(F.col("owner_id").isNotNull())
        .select(F.col("account_id").alias("account_key"), node("r:", "owner_id").alias("node"))
        .unionByName(named.withColumnRenamed("key", "account_key"))
    )
    for column in ("parent_account_id", "ultimate_parent_account_id"):
        key_reps = key_reps.unionByName(
            accounts.select(F.col("account_id").alias("account_key"), F.col(column).alias("key"))
            .join(named, on="key")
            .select("account_key", "node")
        )
    matches = (
        f["territory_matches"]
        .where(F.col("territory_id").isNotNull())
        .select("record_type", "record_id", node("t:", "territory_id").alias("node"))
    )
    account_ids = accounts.select(F.col("account_id").alias("account_key"))
    own = (
        matches.where(F.col("record_type") == "account")
        .select(F.col("record_id").alias("account_key"), "node")
        .unionByName(key_reps)
        .join(account_ids, on="account_key", how="left_semi")
    )
    account_nodes = (
        account_ids.join(own, on="account_key", how="left")
        .select("account_key", F.coalesce("node", node("a:", "account_key")).alias("node"))
        .distinct()
    )
    leads = f["leads"].select(
        F.col("lead_id").alias("record_id"), F.col("matched_account_id").alias("account_key")
    )
    lead_nodes = (
        matches.where(F.col("record_type") == "lead")
        .select("record_id", "node")
        .unionByName(
            f["sla_clocks"]
            .where(F.col("territory_id").isNotNull())
            .select(F.col("lead_id").alias("record_id"), node("t:", "territory_id").alias("node"))
        )
        .unionByName(leads.join(key_reps, on="account_key").select("record_id", "node"))
        .unionByName(leads.join(account_nodes, on="account_key").select("record_id", "node"))
        .unionByName(
            leads.join(
                accounts.where(F.col("owner_id").isNotNull()).select(
                    F.col("account_id").alias("account_key"), node("r:", "owner_id").alias("node")
                ),
                on="account_key",
            ).select("record_id", "node")
        )
    )
    every_lead = (
        leads.select("record_id")
        .distinct()
        .join(lead_nodes, on="record_id", how="left")
        .select("record_id", F.coalesce("node", node("l:", "record_id")).alias("node"))
    )
    return (
        account_nodes.select(
            F.lit("account").alias("record_type"), F.col("account_key").alias("record_id"), "node"
        )
        .unionByName(every_lead.select(F.lit("lead").alias("record_type"), "record_id", "node"))
        .distinct()
    )


def _groups(
    spark: SparkSession, f: dict[str, DataFrame]
) -> tuple[DataFrame, DataFrame, pl.DataFrame]:
    """(record groups, territory groups as Spark frames, territory groups on the driver)."""
    from pyspark.sql import functions as F

    nodes = _record_nodes(f).cache()
    first = nodes.groupBy("record_type", "record_id").agg(F.min("node").alias("first"))
    edges = (
        nodes.join(first, on=["record_type", "record_id"])
        .where(F.col("node") != F.col("first"))
        .select(F.col("first").alias("a"), F.col("node").alias("b"))
        .unionByName(
            f["territory_members"]
            .where(F.col("territory_id").isNotNull() & F.col("rep_id").isNotNull())
            .select(
                F.concat(F.lit("t:"), "territory_id").alias("a"),
                F.concat(F.lit("r:"), "rep_id").alias("b"),
            )
        )
        .distinct()
    )
    graph = partition.components(to_polars(edges))
    mapping = F.broadcast(spark_frame(spark, graph)) if graph.height else None

    def grouped(frame: DataFrame, column: str) -> DataFrame:
        if mapping is None:
            return frame.withColumn(GROUP, F.col(column))
        return frame.join(
            mapping.withColumnRenamed("node", column), on=column, how="left"
        ).withColumn(GROUP, F.coalesce(F.col(GROUP), F.col(column)))

    records = grouped(first.withColumnRenamed("first", "node"), "node").select(
        "record_type", "record_id", GROUP
    )
    territories = grouped(
        f["territory_matches"]
        .select("territory_id")
        .unionByName(f["territory_members"].select("territory_id"))
        .where(F.col("territory_id").isNotNull())
        .distinct()
        .withColumn("node", F.concat(F.lit("t:"), "territory_id")),
        "node",
    ).select("territory_id", GROUP)
    territories_local = to_polars(territories)
    nodes.unpersist()
    return records, F.broadcast(spark_frame(spark, territories_local)), territories_local


def _envelope(
    f: dict[str, DataFrame], records: DataFrame, territories: DataFrame, scope: DataFrame | None
) -> DataFrame:
    """The record-scale inputs tagged by group, in one frame (see the module docstring)."""
    from pyspark.sql import functions as F

    accounts = records.where(F.col("record_type") == "account").select(
        F.col("record_id").alias("account_id"), GROUP
    )
    leads = records.where(F.col("record_type") == "lead").select(
        F.col("record_id").alias("lead_id"), GROUP
    )
    keyed = accounts.unionByName(
        f["leads"]
        .select("lead_id", F.col("matched_account_id").alias("account_id"))
        .join(leads, on="lead_id")
        .select("account_id", GROUP)
    ).distinct()
    tagged: dict[str, DataFrame] = {
        "accounts": f["accounts"].join(accounts, on="account_id"),
        "leads": f["leads"].join(leads, on="lead_id"),
        "opportunities": f["opportunities"].join(keyed, on="account_id"),
        "territory_matches": f["territory_matches"].join(territories, on="territory_id"),
        "sla_clocks": f["sla_clocks"].join(leads, on="lead_id"),
    }
    parts: list[DataFrame] = []
    for name, frame in tagged.items():
        columns = _columns(name, f[name])
        parts.append(
            frame.select(
                GROUP,
                F.lit(name).alias(FRAME),
                *(F.col(c).alias(f"{name}{SEP}{c}") for c in columns),
            )
        )
    if scope is not None:
        parts.append(
            scope.join(records, on=list(SCOPE_COLUMNS)).select(
                GROUP,
                F.lit("scope").alias(FRAME),
                *(F.col(c).alias(f"scope{SEP}{c}") for c in SCOPE_COLUMNS),
            )
        )
    union = parts[0]
    for part in parts[1:]:
        union = union.unionByName(part, allowMissingColumns=True)
    return union


def _task(
    shared: dict[str, bytes],
    territory_groups: bytes,
    config: RoutingConfig,
    options: dict[str, Any],
    has_scope: bool,
) -> Any:
    """The function each task runs on its batches of the envelope (mapInArrow)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        started = time.perf_counter()
        tables = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables:
            return
        rows = pl.DataFrame(pl.from_arrow(pa.concat_tables(tables)))
        group_ids = rows[GROUP].unique().sort().to_list()
        frames: dict[str, pl.LazyFrame] = {}
        for name in (*partition.RECORD_FRAMES, *(("scope",) if has_scope else ())):
            prefix = f"{name}{SEP}"
            columns = [c for c in rows.columns if c.startswith(prefix)]
            frames[name] = (
                rows.lazy()
                .filter(pl.col(FRAME) == name)
                .select(pl.col(c).alias(c[len(prefix) :]) for c in columns)
            )
            if name != "scope" and not columns:
                frames[name] = empty_frame(name)
        for name, payload in shared.items():
            frames[name] = from_ipc(payload).lazy()
        scope = frames.pop("scope", None)
        inputs = EngineInputs(**frames, scope=scope)
        territories = from_ipc(territory_groups).filter(pl.col(GROUP).is_in(group_ids))
        result = partition.route_part(
            inputs, config, territories=territories["territory_id"].to_list(), **options
        )
        context = TaskContext.get()
        metrics = pl.DataFrame(
            {
                "task": [context.partitionId() if context else -1],
                "groups": [len(group_ids)],
                "records": [result.records],
                "decisions": [result.decisions.height],
                "seconds": [time.perf_counter() - started],
                "group_ids": [group_ids],
            },
            schema=METRICS,
        )
        outputs = {
            "decisions": result.decisions,
            "conflicts": result.conflicts,
            "skill_gaps": result.skill_gaps,
            "sla_breaches": result.sla_breaches,
            "round_robin": result.round_robin,
            "gains": result.gains,
            "metrics": metrics,
        }
        kinds, payloads = [], []
        for kind, frame in outputs.items():
            for chunk in frame.iter_slices(50_000) if frame.height else [frame]:
                kinds.append(kind)
                payloads.append(ipc(chunk))
        yield pa.RecordBatch.from_pydict(
            {"kind": kinds, "payload": payloads},
            schema=pa.schema([("kind", pa.string()), ("payload", pa.binary())]),
        )

    return run


def _decoder(schema: dict[str, pl.DataType]) -> Any:
    def decode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for payload in batch.column("payload").to_pylist():
                frame = from_ipc(payload).select(list(schema)).cast(schema)  # type: ignore[arg-type]
                if frame.height:
                    yield from arrow_frame(frame).to_batches()

    return decode


def route_on_spark(
    spark: SparkSession,
    frames: Mapping[str, DataFrame],
    config: RoutingConfig,
    *,
    run_id: str,
    as_of: datetime,
    selection: Selection = REPAIRS_ONLY,
    leaver_rep_ids: Sequence[str] = (),
    scope: DataFrame | None = None,
    partitions: int | None = None,
) -> SparkRouted:
    """`engine.route` on Spark DataFrames, group by group in Spark tasks (module docstring).

    ``partitions``: how many tasks route (default spark.sql.shuffle.partitions); every
    group is routed by exactly one. Recording the outputs is switchboard.spark.publish's
    (a run's partition of the routing tables).
    """
    from pyspark.sql import functions as F

    f = _resolve(frames)
    for name in FRAME_COLUMNS:
        if name not in f:
            f[name] = spark_frame(spark, empty_frame(name).collect())
    shared_polars = {
        name: to_polars(f[name].select(_columns(name, f[name]))) for name in partition.SHARED_FRAMES
    }
    records, territories, territories_local = _groups(spark, f)
    records = records.cache()
    envelope_in = _envelope(f, records, territories, scope)
    count = partitions or int(spark.conf.get("spark.sql.shuffle.partitions") or 4)
    options = {
        "run_id": run_id,
        "as_of": as_of,
        "selection": selection,
        "leaver_rep_ids": tuple(leaver_rep_ids),
    }
    task = _task(
        {name: ipc(frame) for name, frame in shared_polars.items()},
        ipc(territories_local),
        config,
        options,
        scope is not None,
    )
    envelope = envelope_in.repartition(count, GROUP).mapInArrow(task, ENVELOPE).persist()

    def output(kind: str) -> DataFrame:
        schema = OUTPUTS[kind]
        return envelope.where(F.col("kind") == kind).mapInArrow(
            _decoder(schema), spark_schema(schema)
        )

    def collected(kind: str) -> pl.DataFrame:
        payloads = [r["payload"] for r in envelope.where(F.col("kind") == kind).collect()]
        frames_ = [from_ipc(p) for p in payloads]
        schema = OUTPUTS[kind]
        return pl.concat([pl.DataFrame(schema=schema), *frames_], how="vertical_relaxed").cast(
            schema  # type: ignore[arg-type]
        )

    # The driver's part: rotations nobody moved, and rep_state from the summed gains.
    shared = EngineInputs(
        **{name: frame.lazy() for name, frame in shared_polars.items()},
        **{name: empty_frame(name) for name in partition.RECORD_FRAMES},
    )
    baseline = route(shared, config, **options)  # type: ignore[arg-type]
    gains = collected("gains")
    moved = collected("round_robin")
    round_robin = pl.concat(
        [moved, baseline.round_robin.join(moved, on="territory_id", how="anti")]
    ).sort("territory_id")
    total = gains.group_by("rep_id").agg(pl.col("accounts").sum(), pl.col("leads").sum())
    rep_state = partition.rep_state_after(
        shared, total.lazy(), config, as_of=as_of, leaver_rep_ids=leaver_rep_ids
    )
    routed = SparkRouted(
        decisions=output("decisions"),
        conflicts=output("conflicts"),
        rep_state=spark_frame(spark, rep_state),
        round_robin=spark_frame(spark, round_robin.select(list(ROUND_ROBIN))),
        skill_gaps=output("skill_gaps"),
        sla_breaches=output("sla_breaches"),
        metrics=collected("metrics").sort("task"),
        groups=records,
    )
    return routed


__all__ = ["METRICS", "REP_STATE", "SparkRouted", "route_on_spark"]
