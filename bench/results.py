"""The benchmark's results: one size's measurements (SizeResult), kept as JSON in
bench/out/, and RESULTS.md rendered from them (bench/run.py writes it)."""

from __future__ import annotations

import itertools
import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

REPS = 1_000
ARRIVALS = 1_000
TERRITORIES = 200
GIB = 1024**3
BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
STAGES = (
    "make_context",
    "prepare",
    "ingest",
    "transform",
    "route",
    "check_output",
    "guard",
    "record",
    "deliver_pending",
    "publish_run",
)


@dataclass
class SizeResult:
    accounts: int
    repeats: int
    command: str
    generated_seconds: float | None
    reps: int = REPS
    territories: int = TERRITORIES
    stages: dict[str, list[float]] = field(default_factory=dict)
    hourly_total: list[float] = field(default_factory=list)
    decisions: int = 0
    conflicts: int = 0
    engine: list[float] = field(default_factory=list)
    engine_decisions: int = 0
    departure: list[float] = field(default_factory=list)
    departure_rep: str = ""
    departure_book: int = 0
    departure_decisions: int = 0
    departure_stages: dict[str, list[float]] = field(default_factory=dict)
    arrivals: list[float] = field(default_factory=list)
    arrivals_decisions: int = 0
    arrivals_profiled: bool = False
    floor: list[float] = field(default_factory=list)
    process: list[float] = field(default_factory=list)
    process_max_rss: list[int] = field(default_factory=list)
    process_tree_rss: list[int] = field(default_factory=list)
    # The same command again on the same export: answered from the run ledger.
    rerun: list[float] = field(default_factory=list)
    profile: str = ""
    profile_stage: str = ""

    def median(self, name: str) -> float:
        return statistics.median(getattr(self, name))

    def stage_median(self, name: str) -> float:
        return statistics.median(self.stages[name])


# ---------------------------------------------------------------- report


def _s(value: float) -> str:
    return f"{value:.2f}"


def _gib(value: float) -> str:
    return f"{value / GIB:.2f} GiB"


def size_table(result: SizeResult) -> str:
    """Markdown table of one size: median seconds per stage and the other measurements."""
    n = result.repeats
    rows = [f"| hourly stage `{name}` | {_s(result.stage_median(name))} |" for name in STAGES]
    rows.append(f"| **hourly stages total** | **{_s(result.median('hourly_total'))}** |")
    rows.append(
        f"| floor (DuckDB read snapshot + write {result.decisions:,} rows) | "
        f"{_s(result.median('floor'))} |"
    )
    ratio = result.median("hourly_total") / result.median("floor")
    rows.append(f"| hourly / floor | {ratio:.1f}x |")
    rows.append(
        f"| engine alone (`engine.route`, {result.engine_decisions:,} decisions) | "
        f"{_s(result.median('engine'))} |"
    )
    if result.departure:
        rows.append(
            f"| departure of {result.departure_rep} ({result.departure_book:,} "
            f"accounts, {result.departure_decisions:,} decisions), all stages | "
            f"{_s(result.median('departure'))} |"
        )
    if result.arrivals:
        rows.append(
            f"| arrivals ({ARRIVALS:,} new accounts, {result.arrivals_decisions:,} "
            f"decisions), warm, all stages"
            + (" (last repeat under cProfile)" if result.arrivals_profiled else "")
            + f" | {_s(result.median('arrivals'))} |"
        )
    if result.process:
        rows.append(
            f"| `switchboard run hourly` whole process (Prefect server included) | "
            f"{_s(result.median('process'))} |"
        )
        rows.append(
            f"| peak RSS, largest process (ru_maxrss) | "
            f"{_gib(statistics.median(result.process_max_rss))} |"
        )
        rows.append(
            f"| peak RSS, whole process tree (sampled) | "
            f"{_gib(statistics.median(result.process_tree_rss))} |"
        )
    if result.rerun:
        rerun = result.median("rerun")
        rows.append(
            f"| the same command again, unchanged export (answered from the run "
            f"ledger) | {_s(rerun)} ({rerun / result.median('floor'):.1f}x floor) |"
        )
    head = (
        f"### {result.accounts:,} accounts ({result.accounts // 10:,} leads, "
        f"{result.reps:,} reps, {result.territories} territories), median of {n}\n\n"
        f"Decisions: {result.decisions:,}; conflicts: {result.conflicts:,}. "
        + (
            f"Org generated in {result.generated_seconds:.1f} s. "
            if result.generated_seconds
            else ""
        )
        + f"Command: `{result.command}`\n\n| measurement | seconds |\n|---|---:|\n"
    )
    return head + "\n".join(rows) + "\n"


def _machine() -> str:
    mem = "?"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return (
        f"- CPUs (nproc): {os.cpu_count()}\n- RAM: {mem}\n"
        f"- Python {platform.python_version()} on {platform.platform()}\n"
        f"- DuckDB {duckdb.__version__}, Polars {pl.__version__}\n"
    )


def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "**not met**")


def targets_table(results: dict[int, SizeResult]) -> str:
    big = results.get(1_000_000)
    mid = results.get(100_000)
    rows: list[tuple[str, str, str]] = []

    def add(target: str, measured: str | None, ok: bool | None) -> None:
        rows.append((target, measured or "—", _verdict(ok)))

    if big and big.process:
        wall = big.median("process")
        rss = max(statistics.median(big.process_tree_rss), statistics.median(big.process_max_rss))
        add("hourly at 1M ≤ 60 s (whole process)", f"{wall:.1f} s", wall <= 60)
        add("hourly at 1M ≤ 4 GiB peak RSS (larger of the two readings)", _gib(rss), rss <= 4 * GIB)
    else:
        add("hourly at 1M ≤ 60 s (whole process)", None, None)
        add("hourly at 1M ≤ 4 GiB peak RSS", None, None)
    largest = big or (results[max(results)] if results else None)
    label = f" (at {largest.accounts:,})" if largest and largest is not big else ""
    if largest:
        add(
            f"engine ≤ 3 s at 1M{label}",
            f"{largest.median('engine'):.2f} s",
            largest.median("engine") <= 3 if big else None,
        )
        add(
            f"departure ≤ 20 s at 1M{label}",
            f"{largest.median('departure'):.1f} s",
            largest.median("departure") <= 20 if big else None,
        )
    if big and mid:
        growth = big.median("hourly_total") / mid.median("hourly_total")
        add("growth 100k→1M ≤ 6x (hourly stages total)", f"{growth:.1f}x", growth <= 6)
    else:
        add("growth 100k→1M ≤ 6x (hourly stages total)", None, None)
    if largest:
        ratio = largest.median("hourly_total") / largest.median("floor")
        add(f"hourly / floor ≤ 4x{label}", f"{ratio:.1f}x", ratio <= 4 if big else None)
    if largest and largest.arrivals:
        arr = largest.median("arrivals")
        add(
            f"arrivals: {ARRIVALS:,} new records ≤ 10 s warm{label}",
            f"{arr:.1f} s",
            arr <= 10 if big else None,
        )
    else:
        add(f"arrivals: {ARRIVALS:,} new records ≤ 10 s warm", None, None)
    reruns = [r for r in results.values() if r.rerun]
    if reruns:
        worst = max(reruns, key=lambda r: r.median("rerun"))
        add(
            "re-run on an unchanged export ≤ 2 s, any size (whole process; slowest size)",
            f"{worst.median('rerun'):.2f} s at {worst.accounts:,} "
            f"({worst.median('rerun') / worst.median('floor'):.1f}x floor)",
            worst.median("rerun") <= 2,
        )
    else:
        add("re-run on an unchanged export ≤ 2 s", None, None)
    latency = _latency()
    if latency and latency.get("p50_seconds") is not None:
        p50 = float(latency["p50_seconds"])
        size = int(latency["size"])
        add(
            f"time to owner p50 ≤ 40 s, every-minute deployment served (at {size:,}; "
            f"{latency['routed']}/{latency['created']} routed, `bench/latency.py`)",
            f"{p50:.1f} s (p90 {float(latency['p90_seconds']):.1f} s)",
            p50 <= 40 if size >= 1_000_000 else None,
        )
    else:
        add("time to owner p50 ≤ 40 s (`bench/latency.py`)", None, None)
    body = "\n".join(f"| {t} | {m} | {v} |" for t, m, v in rows)
    return "| target | measured | verdict |\n|---|---:|---|\n" + body + "\n"


def _latency() -> dict[str, Any] | None:
    """The time-to-owner result of the largest size bench/latency.py measured, if any."""
    found = sorted(
        OUT.glob("latency-*.json"), key=lambda path: int(path.stem.partition("-")[2] or 0)
    )
    return json.loads(found[-1].read_text()) if found else None


def growth_line(results: dict[int, SizeResult]) -> str:
    sizes = sorted(results)
    parts = []
    for small, large in itertools.pairwise(sizes):
        a, b = results[small], results[large]
        parts.append(
            f"{small:,}→{large:,} ({large // small}x records): hourly stages "
            f"{b.median('hourly_total') / a.median('hourly_total'):.1f}x, engine "
            f"{b.median('engine') / a.median('engine'):.1f}x, departure "
            f"{b.median('departure') / a.median('departure'):.1f}x"
        )
    return "\n".join(f"- {p}" for p in parts) + "\n" if parts else "- one size only\n"


SCALE_HEADING = "## Where one machine ends"


def section(text: str, heading: str) -> tuple[int, int]:
    """Where the section under ``heading`` sits in ``text`` (up to the next `## `
    heading); (-1, -1) when there is none."""
    start = text.find(heading + "\n")
    if start < 0:
        return -1, -1
    end = text.find("\n## ", start + len(heading))
    return start, (end + 1 if end >= 0 else len(text))


def kept_scale_section(path: Path) -> str:
    """The section bench/scale.py wrote into ``path``, so a re-render keeps it."""
    text = path.read_text() if path.exists() else ""
    start, end = section(text, SCALE_HEADING)
    return text[start:end] if start >= 0 else ""


def render(results: dict[int, SizeResult], notes: str = "", kept: str = "") -> str:
    sections = [
        "# Switchboard scale benchmark\n",
        "Written by `bench/run.py` (the sections after the cProfile output come from "
        "bench/NOTES.md); `bench/run.py --render-only` rewrites it from the results "
        "kept in bench/out/.\n",
        "## Machine\n",
        _machine(),
        "## Per size\n",
        "Seconds are medians across repeats. Hourly stages run in-process on a fresh "
        "warehouse per repeat (`make_context` hashes the snapshot files for the run "
        "fingerprint and is counted in the total). The departure, engine and arrivals "
        "timings run on the warehouse the hourly run left behind. The whole-process "
        "wall time uses a dedicated PREFECT_HOME under bench/out/.\n",
    ]
    sections += [size_table(results[size]) for size in sorted(results)]
    sections += ["## Growth\n", growth_line(results), "## Issue targets\n", targets_table(results)]
    for size in sorted(results):
        if results[size].profile:
            lines = results[size].profile.strip().splitlines()
            sections.append(
                f"## cProfile: `{results[size].profile_stage}` at {size:,} "
                "(top 15 cumulative, profiled in the arrivals run)\n\n```\n"
                + "\n".join(lines[:40])
                + "\n```\n"
            )
    if notes:
        sections.append(notes.strip() + "\n")
    if kept:
        sections.append(kept.strip() + "\n")
    return "\n".join(sections)


def _store(result: SizeResult, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"results-{result.accounts}.json").write_text(json.dumps(asdict(result), indent=1))


def _stored(out: Path) -> dict[int, SizeResult]:
    found: dict[int, SizeResult] = {}
    for path in out.glob("results-*.json"):
        raw = json.loads(path.read_text())
        found[int(raw["accounts"])] = SizeResult(**raw)
    return found
