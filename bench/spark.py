"""The Spark target beside DuckDB on one book: what each costs, stage by stage.

One generated org (``--size`` accounts, the demo generator's mix) gets a first hourly run
on DuckDB, each stage timed; the warehouse is copied as the dbt build left it. That copy's
dbt sources are loaded into a local Spark (``local[2]``, switchboard.spark.session), the
dbt project is built on the spark target with the same selection, and the Spark executor
routes from the tables that build left (switchboard.spark.pipeline). Timed: the
SparkSession's start, the load, the Spark build, the route (until the decisions are in
the driver), with the executor's per-task metrics (groups, records, seconds) and the
decisions compared with DuckDB's. The DuckDB floor (bench/run.py's ``time_floor``) is
measured in the same run.

    .venv/bin/python bench/spark.py [--size 100000]

Writes bench/out/spark-<size>.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/spark.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from bench.results import OUT  # noqa: E402
from bench.run import time_floor  # noqa: E402

AS_OF = datetime(2026, 11, 23, 9, 0)
SEED = 7
KEYS = ["record_type", "record_id"]
COMPARED = ["record_type", "record_id", "owner_id", "queue", "rule", "territory_id", "conflict"]


def measure(size: int, work: Path) -> dict[str, Any]:

    from switchboard import dbt, engine, pipeline, stages
    from switchboard.config import load_config
    from switchboard.generate import generate_org

    timings: dict[str, float] = {}
    started = time.perf_counter()
    snapshot = work / "org"
    generate_org(snapshot, accounts=size, seed=SEED, as_of=AS_OF)
    timings["generate"] = time.perf_counter() - started
    warehouse = work / "w.duckdb"
    built = work / "built.duckdb"
    captured: dict[str, Any] = {}
    real = engine.route

    def capture(inputs: Any, config: Any, **options: Any) -> Any:
        began = time.perf_counter()
        result = real(inputs, config, **options)
        captured.update(result=result, options=options, seconds=time.perf_counter() - began)
        return result

    def timed(stage: stages.Stage, *args: Any) -> Any:
        began = time.perf_counter()
        returned = stages.run_direct(stage, *args)
        timings[f"duckdb {stage.name}"] = time.perf_counter() - began
        if stage is stages.TRANSFORM:
            for suffix in ("", ".wal"):
                source = warehouse.with_name(warehouse.name + suffix)
                if source.exists():
                    shutil.copyfile(source, built.with_name(built.name + suffix))
        return returned

    engine.route = capture
    try:
        config = load_config()
        ctx = pipeline.make_context(
            snapshot=snapshot,
            warehouse_path=warehouse,
            outbox=work / "outbox",
            config=config,
            as_of=AS_OF,
            allow_backdated=True,
        )
        stages.run(ctx, timed)
    finally:
        engine.route = real
    timings["duckdb engine (in the route stage)"] = captured["seconds"]
    expected = captured["result"].decisions

    from switchboard.spark.arrow import local_frame
    from switchboard.spark.load import load_from_duckdb
    from switchboard.spark.pipeline import route_spark_marts
    from switchboard.spark.session import local_session

    home = work / "spark"
    began = time.perf_counter()
    session = local_session(home)
    timings["spark session start"] = time.perf_counter() - began
    began = time.perf_counter()
    load_from_duckdb(built, home, session=session)
    timings["spark load sources"] = time.perf_counter() - began
    began = time.perf_counter()
    result = dbt.build(home, AS_OF, config, selector=dbt.FIRST_RUN_OF_DAY, target="spark")
    timings["spark dbt build"] = time.perf_counter() - began
    began = time.perf_counter()
    routed = route_spark_marts(session, config, **captured["options"])
    got = local_frame(routed.decisions)
    timings["spark route"] = time.perf_counter() - began
    same = got.select(COMPARED).sort(KEYS).equals(expected.select(COMPARED).sort(KEYS))
    metrics = routed.metrics
    floor = time_floor(snapshot, expected.height, work / "floor")
    return {
        "accounts": size,
        "decisions": expected.height,
        "identical": same,
        "timings": timings,
        "floor": floor,
        "spark_nodes": len(result.nodes),
        "tasks": metrics.select("task", "groups", "records", "decisions", "seconds").to_dicts(),
        "groups": int(metrics["groups"].sum()),
        "largest_task_records": int(metrics["records"].cast(int).max() or 0),  # type: ignore[arg-type]
    }


def table(found: dict[str, Any]) -> str:
    lines = [
        f"Book: {found['accounts']:,} accounts, {found['decisions']:,} decisions; Spark's "
        f"decisions identical to DuckDB's: {'yes' if found['identical'] else 'NO'}; DuckDB "
        f"floor {found['floor']:.2f} s.",
        "",
        "| step | seconds | x floor |",
        "|---|---:|---:|",
    ]
    for name, seconds in found["timings"].items():
        lines.append(f"| {name} | {seconds:.2f} | {seconds / found['floor']:.1f} |")
    lines += [
        "",
        f"Executor: {found['groups']:,} groups in {len(found['tasks'])} tasks; the largest task "
        f"routed {found['largest_task_records']:,} records.",
        "",
        "| task | groups | records | decisions | seconds |",
        "|---:|---:|---:|---:|---:|",
    ]
    for task in found["tasks"]:
        lines.append(
            f"| {task['task']} | {task['groups']} | {task['records']:,} | "
            f"{task['decisions']:,} | {task['seconds']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000, help="accounts (default 100000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="switchboard-spark-bench-") as folder:
        found = measure(args.size, Path(folder))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"spark-{args.size}.json").write_text(json.dumps(found, indent=2), encoding="utf-8")
    print(table(found))
    return 0 if found["identical"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
