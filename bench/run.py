"""Scale benchmark for the hourly run, departures, arrivals and the engine; writes RESULTS.md.

For each size it generates an org (1,000 reps, 200 territories, open pipeline, reps on
leave, one leaver) into bench/data/, then per repeat, on a fresh warehouse:

- times every hourly stage in-process (make_context, prepare, ingest, transform, route,
  check_output, guard, record, publish_run);
- times the engine alone (``switchboard.engine.route`` on the marts of that warehouse);
- times a departure of the rep with the largest book (all stages, mode="departure");
- times an arrivals run with 1,000 new accounts created after the hourly watermark;
- times the floor: DuckDB reading the same snapshot files into a fresh database and
  writing as many rows as the hourly run decided to CSV;
- times ``switchboard run hourly`` as a subprocess (Prefect's temporary server included)
  with its peak RSS.

    .venv/bin/python bench/run.py [--sizes 10000,100000,1000000] [--repeat N]
        [--out bench/RESULTS.md] [--quick] [--profile]

Results per size are also kept as JSON in bench/out/, so runs of different sizes made
one after the other end up in the same RESULTS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shlex
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/run.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

from bench.process import time_process  # noqa: E402
from bench.results import (  # noqa: E402
    ARRIVALS,
    GIB,
    OUT,
    REPS,
    TERRITORIES,
    SizeResult,
    _store,
    _stored,
    kept_scale_section,
    render,
)
from switchboard import pipeline, stages, warehouse  # noqa: E402
from switchboard.config import RoutingConfig, load_config  # noqa: E402
from switchboard.pipeline import Routed, RunContext  # noqa: E402
from switchboard.pipeline.context import connection  # noqa: E402
from switchboard.pipeline.inputs import ENGINE_TABLES  # noqa: E402
from switchboard.plans import Mode  # noqa: E402

AS_OF = datetime(2026, 11, 23, 9, 0)
SEED = 7
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
BENCH = ROOT / "bench"
DATA = BENCH / "data"

Progress = Callable[[str], None]


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@contextmanager
def _clock(into: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        into[name] = time.perf_counter() - started


# ---------------------------------------------------------------- org


def ensure_org(
    accounts: int,
    *,
    reps: int = REPS,
    territories: int = TERRITORIES,
    data: Path = DATA,
    say: Progress = _say,
) -> tuple[Path, float | None]:
    """The generated snapshot folder for this size; generated once, reused when the marker
    beside it matches. Returns the folder and the generation seconds (None when reused)."""
    from switchboard.generate import generate_org

    folder = data / f"org-{accounts}"
    marker = data / f"org-{accounts}.json"
    wanted = {
        "accounts": accounts,
        "reps": reps,
        "territories": territories,
        "seed": SEED,
        "as_of": AS_OF.isoformat(),
    }
    if marker.exists() and folder.is_dir():
        stored = json.loads(marker.read_text())
        if all(stored.get(k) == v for k, v in wanted.items()):
            say(f"org {accounts:,}: reusing {folder}")
            return folder, None
    say(f"org {accounts:,}: generating ({reps:,} reps, {territories} territories)")
    started = time.perf_counter()
    summary = generate_org(
        folder, accounts=accounts, seed=SEED, as_of=AS_OF, reps=reps, territories=territories
    )
    seconds = time.perf_counter() - started
    marker.write_text(json.dumps({**wanted, "seconds": seconds}))
    say(f"org {accounts:,}: generated in {seconds:.1f} s: {summary}")
    return folder, seconds


# ---------------------------------------------------------------- in-process stages


@dataclass
class HourlyRun:
    seconds: dict[str, float]
    decisions: int
    conflicts: int
    ctx: RunContext
    profiles: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def run_stages(
    snapshot: Path,
    workdir: Path,
    *,
    config: RoutingConfig,
    as_of: datetime = AS_OF,
    mode: Mode = "hourly",
    leaver_rep_ids: tuple[str, ...] = (),
    profile: tuple[str, ...] = (),
) -> HourlyRun:
    """Every stage of one run through switchboard.stages.run, called directly (no Prefect)
    and timed one by one, keyed by the stage's pipeline function. ``workdir`` holds
    warehouse.duckdb and outbox/. Stages named in ``profile`` run under cProfile; their
    top 15 cumulative entries end up in ``HourlyRun.profiles``."""
    seconds: dict[str, float] = {}
    workdir.mkdir(parents=True, exist_ok=True)
    wh = workdir / "warehouse.duckdb"
    profiles: dict[str, str] = {}
    results: dict[str, Any] = {}

    def timed(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        started = time.perf_counter()
        if name in profile:
            profiler = cProfile.Profile()
            result = profiler.runcall(fn, *args)
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(15)
            profiles[name] = text.getvalue()
        else:
            result = fn(*args)
        seconds[name] = time.perf_counter() - started
        results[name] = result
        return result

    def runner(stage: stages.Stage, *args: Any) -> Any:
        return timed(stage.function, stage, *args)

    ctx = timed(
        "make_context",
        lambda: pipeline.make_context(
            snapshot=snapshot,
            warehouse_path=wh,
            outbox=workdir / "outbox",
            config=config,
            as_of=as_of,
            mode=mode,
            leaver_rep_ids=leaver_rep_ids,
        ),
    )
    stages.run(ctx, runner)
    if "route" not in results:
        raise RuntimeError(f"{wh} already holds this run; use a fresh warehouse")
    routed: Routed = results["route"]
    ctx = results["prepare"][0]
    return HourlyRun(seconds, routed.decisions.height, routed.conflicts.height, ctx, profiles)


def time_engine(ctx: RunContext) -> tuple[float, int]:
    """``switchboard.engine.route`` alone on the marts already in the warehouse (read and
    collected first, outside the clock). Returns seconds and decisions."""
    from switchboard.engine import EngineInputs
    from switchboard.engine import route as engine_route

    with connection(ctx) as con:
        frames = {
            name: warehouse.read_table(con, table).collect()
            for name, table in ENGINE_TABLES.items()
        }
        history = warehouse.read_table(con, "marts.fct_rep_workload").collect()
        rep_state = warehouse.read_table(con, "routing.rep_state").collect()
    inputs = EngineInputs(
        **{name: frame.lazy() for name, frame in frames.items()},
        workload=history.filter(pl.col("as_of_date") == ctx.as_of.date()).lazy(),
        rep_state=rep_state.lazy(),
    )
    started = time.perf_counter()
    result = engine_route(inputs, ctx.config, run_id="bench-engine", as_of=ctx.as_of)
    return time.perf_counter() - started, result.decisions.height


def largest_book(ctx: RunContext) -> tuple[str, int]:
    """The valid owner with the most accounts in marts.dim_accounts."""
    with connection(ctx) as con:
        row = con.execute(
            "select a.owner_id, count(*) as n from marts.dim_accounts a "
            "join marts.dim_reps r on r.rep_id = a.owner_id and r.is_valid_owner "
            "group by 1 order by n desc, 1 limit 1"
        ).fetchone()
    if row is None:
        raise RuntimeError("no rep owns any account")
    return str(row[0]), int(row[1])


def arrivals_snapshot(snapshot: Path, folder: Path, count: int, created_at: datetime) -> Path:
    """The snapshot plus ``count`` new unowned accounts created at ``created_at`` (copies of
    the last rows under new ids), for an arrivals run after the hourly one."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in snapshot.iterdir():
        if path.is_file() and path.name != "accounts.csv":
            target = folder / path.name
            if not target.exists():
                target.symlink_to(path.resolve())
    accounts = pl.read_csv(snapshot / "accounts.csv", infer_schema=False)
    base = accounts.filter(pl.col("account_id").is_not_null()).tail(count)
    new = base.with_columns(
        account_id=pl.format("BENCHNEW{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(6)),
        name=pl.format("Bench Arrival {}", pl.int_range(pl.len())),
        created_at=pl.lit(created_at.isoformat()),
        owner_id=pl.lit(None, dtype=pl.String),
    )
    if "parent_account_id" in new.columns:
        new = new.with_columns(parent_account_id=pl.lit(None, dtype=pl.String))
    pl.concat([accounts, new]).write_csv(folder / "accounts.csv")
    return folder


# ---------------------------------------------------------------- floor


def time_floor(snapshot: Path, rows: int, workdir: Path) -> float:
    """DuckDB alone: read_csv_auto every snapshot file into a fresh database (as text, like
    the ingest; typed detection trips on the deliberate bad rows), then create ``rows``
    decision-shaped rows and COPY them to CSV."""
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "floor.duckdb"
    db.unlink(missing_ok=True)
    out = workdir / "floor_decisions.csv"
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    try:
        for path in sorted(snapshot.glob("*.csv")):
            con.execute(
                f"create table {path.stem} as select * from read_csv_auto(?, all_varchar = true)",
                [str(path)],
            )
        con.execute(
            "create table decisions as select 'run' as run_id, now() as decided_at, "
            "'account' as record_type, 'A' || lpad(i::varchar, 8, '0') as record_id, "
            "null::varchar as previous_owner_id, 'R' || (i % 1000)::varchar as owner_id, "
            "null::varchar as queue, 'territory' as rule, 'T' || (i % 200)::varchar "
            "as territory_id, false as conflict, 'matched territory and least loaded rep' "
            f"as rationale, 3600.0 as latency_seconds from range({int(rows)}) t(i)"
        )
        con.execute(f"copy decisions to '{out}' (header)")
    finally:
        con.close()
    return time.perf_counter() - started


# ---------------------------------------------------------------- one size


def bench_size(
    accounts: int,
    repeats: int,
    *,
    command: str,
    process: bool = True,
    arrivals: bool = True,
    departure: bool = True,
    reps: int = REPS,
    territories: int = TERRITORIES,
    data: Path = DATA,
    out: Path = OUT,
    profile: tuple[str, ...] = (),
    say: Progress = _say,
) -> SizeResult:
    """All measurements of one size; ``profile`` names the hourly stages to run under
    cProfile in the last repeat (the slowest of them is kept in the result)."""
    snapshot, generated = ensure_org(
        accounts, reps=reps, territories=territories, data=data, say=say
    )
    config = load_config()
    result = SizeResult(accounts, repeats, command, generated, reps, territories)
    for rep in range(repeats):
        work = out / f"{accounts}" / f"r{rep}"
        shutil.rmtree(work, ignore_errors=True)
        say(f"{accounts:,} r{rep + 1}/{repeats}: hourly stages")
        # The profiler runs in the arrivals run of the last repeat (same stages on the same
        # book plus 1,000 rows), so the hourly and departure timings stay clean.
        profiled = profile if rep == repeats - 1 else ()
        hourly = run_stages(
            snapshot, work / "inproc", config=config, profile=() if arrivals else profiled
        )
        for name, secs in hourly.seconds.items():
            result.stages.setdefault(name, []).append(secs)
        result.hourly_total.append(hourly.total)
        result.decisions, result.conflicts = hourly.decisions, hourly.conflicts
        say(
            f"{accounts:,} r{rep + 1}: hourly {hourly.total:.2f} s ("
            + ", ".join(f"{k} {v:.2f}" for k, v in hourly.seconds.items())
            + f"); {hourly.decisions:,} decisions"
        )

        engine_s, result.engine_decisions = time_engine(hourly.ctx)
        result.engine.append(engine_s)
        say(f"{accounts:,} r{rep + 1}: engine alone {engine_s:.2f} s")

        if departure:
            leaver, book = largest_book(hourly.ctx)
            result.departure_rep, result.departure_book = leaver, book
            dep = run_stages(
                snapshot, work / "inproc", config=config, mode="departure", leaver_rep_ids=(leaver,)
            )
            for name, secs in dep.seconds.items():
                result.departure_stages.setdefault(name, []).append(secs)
            result.departure.append(dep.total)
            result.departure_decisions = dep.decisions
            say(
                f"{accounts:,} r{rep + 1}: departure of {leaver} ({book:,} accounts) "
                f"{dep.total:.2f} s; {dep.decisions:,} decisions"
            )

        if arrivals:
            later = AS_OF + timedelta(minutes=5)
            arrived = arrivals_snapshot(
                snapshot, work / "arrivals_snapshot", ARRIVALS, AS_OF + timedelta(minutes=1)
            )
            arr = run_stages(
                arrived,
                work / "inproc",
                config=config,
                as_of=later,
                mode="arrivals",
                profile=profiled,
            )
            result.arrivals_profiled = bool(profiled)
            hourly.profiles.update(arr.profiles)
            result.arrivals.append(arr.total)
            result.arrivals_decisions = arr.decisions
            say(
                f"{accounts:,} r{rep + 1}: arrivals ({ARRIVALS:,} new accounts) "
                f"{arr.total:.2f} s; {arr.decisions:,} decisions"
            )

        if hourly.profiles:
            slowest = max(hourly.profiles, key=lambda name: result.stages[name][-1])
            result.profile_stage, result.profile = slowest, hourly.profiles[slowest]
            (out / f"profile-{accounts}-{slowest}.txt").write_text(result.profile)

        floor = time_floor(snapshot, hourly.decisions, work / "floor")
        result.floor.append(floor)
        say(f"{accounts:,} r{rep + 1}: floor {floor:.2f} s")

        if process:
            proc = time_process(snapshot, work / "process", out / "prefect-home", AS_OF)
            result.process.append(proc.seconds)
            result.process_max_rss.append(proc.max_rss_bytes)
            result.process_tree_rss.append(proc.tree_rss_bytes)
            say(
                f"{accounts:,} r{rep + 1}: `switchboard run hourly` {proc.seconds:.2f} s, "
                f"peak RSS {proc.max_rss_bytes / GIB:.2f} GiB "
                f"(tree {proc.tree_rss_bytes / GIB:.2f})"
            )
            again = time_process(snapshot, work / "process", out / "prefect-home", AS_OF)
            result.rerun.append(again.seconds)
            say(
                f"{accounts:,} r{rep + 1}: the same command on the unchanged export "
                f"{again.seconds:.2f} s"
            )
        shutil.rmtree(work, ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="comma-separated account counts",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="repeats per size (default 3 below 1M, 1 at 1M)"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    parser.add_argument("--quick", action="store_true", help="10k only, 1 repeat")
    parser.add_argument(
        "--no-process", action="store_true", help="skip the `switchboard run hourly` subprocess"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile ingest, transform and route in the arrivals run of the "
        "last repeat of each size; keeps the one slowest in the hourly run",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite --out from the results kept in bench/out/, run nothing",
    )
    args = parser.parse_args(argv)
    if args.render_only:
        args.out.write_text(render(_stored(OUT), _notes(), kept_scale_section(args.out)))
        _say(f"wrote {args.out}")
        return
    sizes = [10_000] if args.quick else [int(s.replace("_", "")) for s in args.sizes.split(",")]
    command = shlex.join([".venv/bin/python", "bench/run.py", *(argv or sys.argv[1:])])
    _say(f"sizes {sizes}; writing {args.out}")
    results = _stored(OUT)
    for size in sizes:
        repeats = 1 if args.quick else (args.repeat or (1 if size >= 1_000_000 else 3))
        result = bench_size(
            size,
            repeats,
            command=command,
            process=not args.no_process,
            profile=("ingest", "transform", "route") if args.profile else (),
        )
        results[size] = result
        _store(result, OUT)
        args.out.write_text(render(results, _notes(), kept_scale_section(args.out)))
        _say(f"{size:,}: done; wrote {args.out}")


def _notes() -> str:
    notes = BENCH / "NOTES.md"
    return notes.read_text() if notes.exists() else ""


if __name__ == "__main__":
    main()
