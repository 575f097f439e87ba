"""Where one machine ends: a first hourly run on DuckDB at growing sizes, stage by stage.

For each size, one child process generates the org (10% leads, ``--activities`` per
account, 1,000 reps, 200 territories) into bench/data/, runs every stage of a first hourly
run on a fresh warehouse through switchboard.stages.run with a measuring runner, then
measures the DuckDB floor (bench/run.py's time_floor: the same files read into a fresh
database and as many decision rows written as the run decided). Per stage it records wall
and CPU seconds, the peak RSS (a 0.1 s sampler of /proc/self/status VmRSS, plus VmHWM
when the high-water mark rose during the stage), the spill (the peak size of DuckDB's
temporary directory, sampled, and the bytes the stage wrote to disk from /proc/self/io).

The parent samples the child's process tree and kills it past ``--kill-gib``, or when the
machine has less than ``--min-available-gib`` left (both reported as "died: memory"; the
child also offers itself first to the kernel's OOM killer), stops it when generation
alone passes ``--generate-minutes``, and reports a child that dies otherwise (the OOM
killer, an error) with the stage it died in and its last RSS. DuckDB's memory_limit and
temp_directory are set for every connection the child opens (``--duckdb-memory-gib``).

    .venv/bin/python bench/scale.py [--sizes 100000,300000] [--activities 10]
        [--kill-gib 20] [--duckdb-memory-gib 16] [--generate-minutes 25] [--keep-data]

Results per size go to bench/out/scale-<accounts>.json; the section "Where one machine
ends" of bench/RESULTS.md is rewritten from every size kept there, with the growth
figures fitted on the measured points.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/scale.py` puts bench/, not the root, on the path
    sys.path.insert(0, str(ROOT))

import switchboard  # noqa: E402
from bench.results import GIB, OUT, REPS, TERRITORIES  # noqa: E402
from bench.scale_report import ScaleResult, render, store, stored, write_section  # noqa: E402

BENCH = ROOT / "bench"
DATA = BENCH / "data"
RESULTS = BENCH / "RESULTS.md"
DEFAULT_SIZES = (100_000, 300_000)
ACTIVITIES = 10.0
SEED = 7

# ---------------------------------------------------------------- measuring (child)


def _status_kib(field_name: str) -> int:
    """One ``kB`` field of /proc/self/status (VmRSS, VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def _written_bytes() -> int:
    """Bytes this process caused to be written to storage (/proc/self/io write_bytes)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _dir_bytes(folder: Path) -> int:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def _available_bytes() -> int:
    """MemAvailable of the machine (/proc/meminfo)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class StageFigures:
    stage: str
    seconds: float
    cpu_seconds: float
    peak_rss: int  # bytes
    end_rss: int
    spill_peak: int  # bytes in DuckDB's temp directory, peak sampled during the stage
    written: int  # bytes written to storage during the stage


class Meter:
    """Samples this process's RSS and the spill directory every ``interval`` seconds and
    appends one JSON line per stage start and end to ``events``."""

    def __init__(self, events: Path, spill: Path, interval: float = 0.1) -> None:
        self.events, self.spill, self.interval = events, spill, interval
        self.peak = 0
        self.spill_peak = 0
        self.stages: list[StageFigures] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, _status_kib("VmRSS") * 1024)
            self.spill_peak = max(self.spill_peak, _dir_bytes(self.spill))

    def emit(self, **event: Any) -> None:
        with self.events.open("a") as handle:
            handle.write(json.dumps({"t": time.time(), **event}) + "\n")

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.emit(event="start", stage=name, rss=_status_kib("VmRSS") * 1024)
        self.peak = _status_kib("VmRSS") * 1024
        self.spill_peak = _dir_bytes(self.spill)
        hwm, written, cpu = _status_kib("VmHWM") * 1024, _written_bytes(), _cpu_seconds()
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        after = _status_kib("VmHWM") * 1024
        rss = _status_kib("VmRSS") * 1024
        figures = StageFigures(
            stage=name,
            seconds=seconds,
            cpu_seconds=_cpu_seconds() - cpu,
            # The high-water mark cannot be reset: when it rose, the stage set it.
            peak_rss=max(self.peak, rss, after if after > hwm else 0),
            end_rss=rss,
            spill_peak=max(self.spill_peak, _dir_bytes(self.spill)),
            written=_written_bytes() - written,
        )
        self.stages.append(figures)
        self.emit(event="end", **asdict(figures))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _limit_duckdb(memory_gib: float, temp: Path) -> None:
    """Every DuckDB database this process opens (the warehouse, dbt's, the floor's) gets
    the same memory_limit and temp_directory, so the spill lands where the meter looks."""
    import duckdb

    connect = duckdb.connect
    settings = {"memory_limit": f"{memory_gib}GiB", "temp_directory": str(temp)}

    def limited(database: Any = ":memory:", *args: Any, **kwargs: Any) -> Any:
        kwargs["config"] = {**settings, **(kwargs.get("config") or {})}
        return connect(database, *args, **kwargs)

    duckdb.connect = limited


def org_folder(accounts: int, activities: float, data: Path) -> Path:
    return data / f"scale-org-{accounts}-a{activities:g}"


def ensure_scale_org(
    accounts: int, activities: float, *, data: Path, reps: int, territories: int, meter: Meter
) -> tuple[Path, dict[str, int], bool]:
    """The snapshot for this size, generated under the meter's "generate" stage unless the
    marker beside it matches. Returns the folder, rows per entity and whether it was
    generated now."""
    from bench.run import AS_OF
    from switchboard.generate import generate_org

    folder = org_folder(accounts, activities, data)
    marker = folder.with_suffix(".json")
    wanted = {
        "accounts": accounts,
        "activities_per_account": activities,
        "reps": reps,
        "territories": territories,
        "seed": SEED,
        "as_of": AS_OF.isoformat(),
    }
    if marker.exists() and folder.is_dir():
        stored = json.loads(marker.read_text())
        if all(stored.get(k) == v for k, v in wanted.items()):
            return folder, dict(stored["counts"]), False
    shutil.rmtree(folder, ignore_errors=True)
    with meter.stage("generate"):
        summary = generate_org(
            folder,
            accounts=accounts,
            seed=SEED,
            as_of=AS_OF,
            reps=reps,
            territories=territories,
            activities_per_account=activities,
        )
    marker.write_text(json.dumps({**wanted, "counts": summary.counts}))
    return folder, summary.counts, True


def child(args: argparse.Namespace) -> None:
    """One size, in this process: generate, the hourly stages, the floor; events to
    ``args.events``, the summary as the last event."""
    # On a shared machine the kernel's OOM killer should pick this process, not others.
    Path("/proc/self/oom_score_adj").write_text("1000")
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    spill = work / "duckdb_tmp"
    spill.mkdir(parents=True)
    _limit_duckdb(args.duckdb_memory_gib, spill)
    meter = Meter(Path(args.events), spill)

    from bench.run import AS_OF, time_floor
    from switchboard import pipeline, stages
    from switchboard.config import load_config
    from switchboard.pipeline import Routed

    snapshot, counts, generated = ensure_scale_org(
        args.child,
        args.activities,
        data=Path(args.data),
        reps=args.reps,
        territories=args.territories,
        meter=meter,
    )
    meter.emit(event="org", counts=counts, generated=generated, snapshot=str(snapshot))
    results: dict[str, Any] = {}

    def runner(stage: stages.Stage, *stage_args: Any) -> Any:
        with meter.stage(stage.label):
            results[stage.function] = stage(*stage_args)
        return results[stage.function]

    with meter.stage("make_context"):
        ctx = pipeline.make_context(
            snapshot=snapshot,
            warehouse_path=work / "warehouse.duckdb",
            outbox=work / "outbox",
            config=load_config(),
            as_of=AS_OF,
        )
    stages.run(ctx, runner)
    routed: Routed = results["route"]
    warehouse_bytes = (work / "warehouse.duckdb").stat().st_size
    with meter.stage("floor"):
        time_floor(snapshot, routed.decisions.height, work / "floor")
    meter.close()
    meter.emit(
        event="done",
        decisions=routed.decisions.height,
        warehouse_bytes=warehouse_bytes,
        snapshot_bytes=_dir_bytes(snapshot),
    )


def _events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut by the kill
            continue
    return events


def measure(
    accounts: int, args: argparse.Namespace, *, command: str, say: Callable[[str], None]
) -> ScaleResult:
    """Run one size in a child process, guarding memory and generation time."""
    from bench.process import tree_rss_bytes

    out = Path(args.out)
    work = out / "scale" / str(accounts)
    events = out / f"scale-{accounts}.events.jsonl"
    events.unlink(missing_ok=True)
    log = out / f"scale-{accounts}.log"
    result = ScaleResult(
        accounts,
        args.activities,
        command,
        reps=args.reps,
        territories=args.territories,
        duckdb_memory_gib=args.duckdb_memory_gib,
        kill_gib=args.kill_gib,
        load_before=os.getloadavg()[0],
    )
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(accounts)]
    argv += ["--events", str(events), "--work", str(work), "--data", str(args.data)]
    argv += ["--activities", str(args.activities), "--reps", str(args.reps)]
    argv += ["--territories", str(args.territories)]
    argv += ["--duckdb-memory-gib", str(args.duckdb_memory_gib)]
    env = {**os.environ, **switchboard.TELEMETRY_OFF}
    started = time.perf_counter()
    stage, stage_started, last_report = "", started, started
    seen = 0
    with log.open("w") as handle:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        while True:
            pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = tree_rss_bytes(proc.pid)
            if rss:
                result.last_rss = rss
            result.peak_tree_rss = max(result.peak_tree_rss, rss)
            new = _events(events)
            for event in new[seen:]:
                if event["event"] == "start":
                    stage, stage_started = event["stage"], time.perf_counter()
                    say(f"{accounts:,}: {stage} ({rss / GIB:.2f} GiB)")
                elif event["event"] == "end":
                    say(
                        f"{accounts:,}: {event['stage']} {event['seconds']:.1f} s, "
                        f"peak {event['peak_rss'] / GIB:.2f} GiB, "
                        f"spill {event['spill_peak'] / GIB:.2f} GiB"
                    )
            seen = len(new)
            now = time.perf_counter()
            if rss > args.kill_gib * GIB:
                os.kill(proc.pid, signal.SIGKILL)
                result.outcome = f"died: memory (over {args.kill_gib:g} GiB)"
            elif _available_bytes() < args.min_available_gib * GIB:
                os.kill(proc.pid, signal.SIGKILL)
                result.outcome = (
                    f"died: memory (the machine under {args.min_available_gib:g} GiB available)"
                )
            elif stage == "generate" and now - stage_started > args.generate_minutes * 60:
                os.kill(proc.pid, signal.SIGKILL)
                result.outcome = f"stopped: generation over {args.generate_minutes:g} min"
            elif now - last_report > 60:
                say(f"{accounts:,}: {stage} for {now - stage_started:.0f} s, {rss / GIB:.2f} GiB")
                last_report = now
            time.sleep(0.2)
    result.wall_seconds = time.perf_counter() - started
    result.load_after = os.getloadavg()[0]
    code = os.waitstatus_to_exitcode(status)
    final = _events(events)
    result.stages = [
        {k: v for k, v in e.items() if k not in ("event", "t")}
        for e in final
        if e["event"] == "end"
    ]
    for event in final:
        if event["event"] == "org":
            result.counts, result.generated = event["counts"], event["generated"]
        if event["event"] == "done":
            result.decisions = event["decisions"]
            result.warehouse_bytes = event["warehouse_bytes"]
            result.snapshot_bytes = event["snapshot_bytes"]
    starts = [e["stage"] for e in final if e["event"] == "start"]
    ends = {e["stage"] for e in result.stages}
    if code != 0:
        result.died_stage = next((s for s in reversed(starts) if s not in ends), "start-up")
        if result.outcome == "ok":
            result.outcome = f"died: signal {-code}" if code < 0 else f"died: exit {code}"
            if code == -signal.SIGKILL:
                result.outcome += " (the kernel's OOM killer?)"
        result.error = log.read_text()[-3000:]
    if not args.keep_work:
        shutil.rmtree(work, ignore_errors=True)
    if result.outcome == "ok" and not args.keep_data:
        shutil.rmtree(org_folder(accounts, args.activities, Path(args.data)), ignore_errors=True)
        org_folder(accounts, args.activities, Path(args.data)).with_suffix(".json").unlink(
            missing_ok=True
        )
    return result


# ---------------------------------------------------------------- main


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in DEFAULT_SIZES))
    parser.add_argument("--activities", type=float, default=ACTIVITIES, help="per account")
    parser.add_argument("--reps", type=int, default=REPS)
    parser.add_argument("--territories", type=int, default=TERRITORIES)
    parser.add_argument("--kill-gib", type=float, default=20.0, help="child tree RSS limit")
    parser.add_argument(
        "--min-available-gib",
        type=float,
        default=1.0,
        help="kill the child when the machine has less memory available (shared machines)",
    )
    parser.add_argument("--duckdb-memory-gib", type=float, default=16.0)
    parser.add_argument("--generate-minutes", type=float, default=25.0)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument(
        "--keep-data", action="store_true", help="keep the generated org of a size that finished"
    )
    parser.add_argument("--keep-work", action="store_true", help="keep the warehouse")
    parser.add_argument(
        "--render-only", action="store_true", help="rewrite the section from --out, run nothing"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--events", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in str(args.sizes).split(",") if s]
    if args.child is None and (not sizes or min(sizes) < 200):
        parser.error("--sizes: account counts of at least 200, comma-separated")
    if args.activities < 0 or args.kill_gib <= 0 or args.duckdb_memory_gib <= 0:
        parser.error("--activities must be >= 0, --kill-gib and --duckdb-memory-gib > 0")
    args.size_list = sizes
    return args


def main(argv: list[str] | None = None) -> dict[int, ScaleResult]:
    args = parse(argv)
    if args.child is not None:
        child(args)
        return {}
    command = shlex.join([".venv/bin/python", "bench/scale.py", *(argv or sys.argv[1:])])
    Path(args.out).mkdir(parents=True, exist_ok=True)
    for size in [] if args.render_only else args.size_list:
        _say(f"{size:,}: starting (load {os.getloadavg()[0]:.1f})")
        result = measure(size, args, command=command, say=_say)
        path = store(result, Path(args.out))
        _say(f"{size:,}: {result.outcome}; kept {path}")
    results = stored(Path(args.out))
    commands = sorted({r.command for r in results.values()})
    text = render(results, commands)
    (Path(args.out) / "scale.md").write_text(text)
    write_section(Path(args.results), text)
    print(text)
    return results


if __name__ == "__main__":
    main()
