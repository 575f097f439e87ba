"""bench/scale.py's results: one size's figures (ScaleResult), kept as JSON in bench/out/,
and the "Where one machine ends" section of bench/RESULTS.md rendered from them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.results import GIB, REPS, SCALE_HEADING, TERRITORIES, section

HEADING = SCALE_HEADING
PIPELINE: tuple[str, ...] = (
    "make_context",
    "prepare",
    "deliver pending",
    "ingest",
    "dbt build",
    "route",
    "check",
    "guards",
    "record",
    "publish",
    "deliver",
)


# ---------------------------------------------------------------- one size (parent)


@dataclass
class ScaleResult:
    accounts: int
    activities_per_account: float
    command: str
    reps: int = REPS
    territories: int = TERRITORIES
    outcome: str = "ok"  # ok, or "died: memory" / "died: signal 9" / "stopped: ..."
    died_stage: str = ""
    last_rss: int = 0  # the child tree's RSS at the last sample before it ended
    peak_tree_rss: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    generated: bool = False
    stages: list[dict[str, Any]] = field(default_factory=list)
    decisions: int = 0
    snapshot_bytes: int = 0
    warehouse_bytes: int = 0
    duckdb_memory_gib: float = 0.0
    kill_gib: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0
    wall_seconds: float = 0.0
    error: str = ""

    def seconds(self, stage: str) -> float | None:
        return next((s["seconds"] for s in self.stages if s["stage"] == stage), None)

    @property
    def pipeline_seconds(self) -> float:
        return sum(s["seconds"] for s in self.stages if s["stage"] in PIPELINE)

    @property
    def pipeline_cpu(self) -> float:
        return sum(s["cpu_seconds"] for s in self.stages if s["stage"] in PIPELINE)

    @property
    def floor_cpu(self) -> float | None:
        return next((s["cpu_seconds"] for s in self.stages if s["stage"] == "floor"), None)

    @property
    def pipeline_peak(self) -> int:
        return max((s["peak_rss"] for s in self.stages if s["stage"] in PIPELINE), default=0)

    @property
    def floor(self) -> float | None:
        return self.seconds("floor")


# ---------------------------------------------------------------- report


def _gib(value: float) -> str:
    return f"{value / GIB:.2f}"


def stored(out: Path) -> dict[int, ScaleResult]:
    found: dict[int, ScaleResult] = {}
    for path in out.glob("scale-*.json"):
        raw = json.loads(path.read_text())
        found[int(raw["accounts"])] = ScaleResult(**raw)
    return dict(sorted(found.items()))


def store(result: ScaleResult, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"scale-{result.accounts}.json"
    path.write_text(json.dumps(asdict(result), indent=1))
    return path


def size_table(result: ScaleResult) -> str:
    counts = ", ".join(f"{n:,} {e}" for e, n in result.counts.items() if e != "accounts")
    head = (
        f"### {result.accounts:,} accounts: {result.outcome}"
        + (f" in `{result.died_stage}` at {_gib(result.last_rss)} GiB" if result.died_stage else "")
        + "\n\n"
        + (f"Rows: {counts}.\n\n" if counts else "")
        + "| stage | wall s | CPU s | peak RSS GiB | DuckDB spill peak GiB | written GiB |\n"
        "|---|---:|---:|---:|---:|---:|\n"
    )
    rows = [
        f"| `{s['stage']}` | {s['seconds']:.1f} | {s['cpu_seconds']:.1f} | {_gib(s['peak_rss'])} "
        f"| {_gib(s['spill_peak'])} | {_gib(s['written'])} |"
        for s in result.stages
    ]
    if result.died_stage:
        rows.append(f"| `{result.died_stage}` | died | | {_gib(result.last_rss)} (last) | | |")
    if result.outcome == "ok":
        floor = result.floor or 0.0
        rows.append(
            f"| **first hourly run** | **{result.pipeline_seconds:.1f}** | | "
            f"**{_gib(result.pipeline_peak)}** | | |"
        )
        rows.append(
            f"| **ratio to the floor** | **{result.pipeline_seconds / floor:.1f}x** | | | | |"
        )
    return head + "\n".join(rows) + "\n"


def summary_table(results: dict[int, ScaleResult]) -> str:
    lines = [
        "| accounts | outcome | generate s | first hourly run s | floor s | x floor "
        "| CPU s: run / floor (x) | peak RSS GiB (tree) | slowest stage | snapshot GiB "
        "| warehouse GiB | load 1 min |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---|",
    ]
    for size, r in results.items():
        gen = r.seconds("generate")
        pipeline = [s for s in r.stages if s["stage"] in PIPELINE]
        slowest = max(pipeline, key=lambda s: s["seconds"], default=None)
        ok = r.outcome == "ok" and r.floor
        where = f"`{slowest['stage']}` {slowest['seconds']:.1f} s" if slowest and ok else "-"
        files = f"{_gib(r.snapshot_bytes)} | {_gib(r.warehouse_bytes)}" if ok else "- | -"
        outcome = r.outcome + (f" in `{r.died_stage}`" if r.died_stage else "")
        lines.append(
            f"| {size:,} | {outcome} | {f'{gen:.1f}' if gen is not None else 'reused'} "
            f"| {f'{r.pipeline_seconds:.1f}' if ok else '-'} "
            f"| {f'{r.floor:.1f}' if ok and r.floor else '-'} "
            f"| {f'{r.pipeline_seconds / r.floor:.1f}' if ok and r.floor else '-'} "
            + (
                f"| {r.pipeline_cpu:.1f} / {r.floor_cpu:.1f} ({r.pipeline_cpu / r.floor_cpu:.1f}) "
                if ok and r.floor_cpu
                else "| - "
            )
            + f"| {_gib(r.peak_tree_rss)} "
            f"| {where} "
            f"| {files} "
            f"| {r.load_before:.1f} -> {r.load_after:.1f} |"
        )
    return "\n".join(lines) + "\n"


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least-squares slope and intercept of y on x."""
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return slope, my - slope * mx


def growth(
    results: dict[int, ScaleResult], target: int = 10_000_000, limit_gib: float = 24.0
) -> str:
    """Per million accounts and per GiB, fitted on the sizes that finished (the two
    largest, the growth there being what decides the next size)."""
    done = [r for r in results.values() if r.outcome == "ok"]
    if len(done) < 2:
        return "Fewer than two sizes finished: no growth fitted.\n"
    big = sorted(done, key=lambda r: r.accounts)[-2:]
    names = [s["stage"] for s in big[-1].stages if s["stage"] != "floor"] + ["floor"]
    lines = [
        f"Fitted on {big[0].accounts:,} and {big[1].accounts:,} accounts (the marginal cost "
        f"between the two largest sizes that finished); a projection at {target:,} is a "
        "straight line, not a measurement.\n",
        "| stage | s per 1M accounts | CPU s per 1M accounts | peak RSS GiB per 1M accounts "
        f"| projected s at {target / 1e6:g}M | projected peak RSS GiB at {target / 1e6:g}M |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def points(stage: str, key: str) -> list[tuple[float, float]]:
        found = []
        for r in big:
            s = next((x for x in r.stages if x["stage"] == stage), None)
            if s is not None:
                found.append((r.accounts / 1e6, float(s[key])))
        return found

    crossing: list[tuple[float, str]] = []
    for name in names:
        wall, cpu, rss = (
            points(name, "seconds"),
            points(name, "cpu_seconds"),
            points(name, "peak_rss"),
        )
        if len(wall) < 2:
            continue
        (ws, wi), (cs, _), (rs, ri) = _fit(wall), _fit(cpu), _fit(rss)
        at = target / 1e6
        lines.append(
            f"| `{name}` | {ws:.1f} | {cs:.1f} | {rs / GIB:.2f} | {ws * at + wi:.0f} "
            f"| {(rs * at + ri) / GIB:.1f} |"
        )
        if rs > 0:
            crossing.append(((limit_gib * GIB - ri) / rs, name))
    last = big[-1]
    per_gib = last.accounts / (last.pipeline_peak / GIB)
    lines.append("")
    lines.append(
        f"- Accounts per GiB of peak RSS: {per_gib:,.0f} at {last.accounts:,} "
        f"({big[0].accounts / (big[0].pipeline_peak / GIB):,.0f} at {big[0].accounts:,})."
    )
    (ts, _) = _fit([(r.accounts / 1e6, r.pipeline_seconds) for r in big])
    (cs, _) = _fit(
        [
            (r.accounts / 1e6, sum(s["cpu_seconds"] for s in r.stages if s["stage"] in PIPELINE))
            for r in big
        ]
    )
    lines.append(
        f"- First hourly run: {ts:.0f} s per million accounts of wall time on 2 cores "
        f"({cs:.0f} CPU s per million, {cs / max(ts, 1e-9):.2f} cores busy on average)."
    )
    if crossing:
        at, name = min(crossing)
        lines.append(
            f"- The first stage whose fitted peak RSS reaches the machine's {limit_gib:g} GiB: "
            f"`{name}`, at about {at:.1f}M accounts."
        )
    return "\n".join(lines) + "\n"


def breaks_first(results: dict[int, ScaleResult]) -> str:
    """The smallest size that did not finish: how, in which stage, at what RSS, against
    the peak of that stage at the largest size that finished."""
    dead = [r for r in results.values() if r.outcome != "ok"]
    done = [r for r in results.values() if r.outcome == "ok"]
    if not dead:
        return "Every size finished.\n"
    first = min(dead, key=lambda r: r.accounts)
    line = (
        f"**Breaks first: `{first.died_stage}`**, at {first.accounts:,} accounts "
        f"({first.outcome}, {_gib(first.last_rss)} GiB at the last sample)"
    )
    if done:
        big = max(done, key=lambda r: r.accounts)
        peak = next((s["peak_rss"] for s in big.stages if s["stage"] == first.died_stage), None)
        if peak is not None:
            line += (
                f"; at {big.accounts:,} accounts that stage peaked at {_gib(peak)} GiB, "
                f"the most of any stage"
                if peak == big.pipeline_peak
                else f"; at {big.accounts:,} accounts that stage peaked at {_gib(peak)} GiB"
            )
    return line + ".\n"


def render(results: dict[int, ScaleResult], commands: list[str]) -> str:
    sizes = ", ".join(f"{s:,}" for s in results)
    any_result = next(iter(results.values()))
    parts = [
        f"{HEADING}\n",
        "Written by `bench/scale.py`: a first hourly run on DuckDB, one child process per "
        f"size ({sizes} accounts; 10% leads, {any_result.activities_per_account:g} "
        f"activities per account, {any_result.reps:,} reps, {any_result.territories} "
        "territories), every stage "
        "measured by the stage runner: wall and CPU seconds, peak RSS (VmRSS sampled every "
        "0.1 s, VmHWM when it rose in the stage), the peak size of DuckDB's temporary "
        "directory (spill) and the bytes written to disk. `floor` is bench/run.py's DuckDB "
        "floor in the same process. DuckDB's memory_limit is "
        f"{any_result.duckdb_memory_gib:g} GiB; the parent kills the child past "
        f"{any_result.kill_gib:g} GiB of RSS. The machine (2 cores, 24 GiB, no swap) is "
        "shared with other work, so wall times are noisy (the 1-minute load average "
        "before and after each size is in the table); the memory figures are the ones to "
        "read.\n",
        "Commands:\n",
        "```\n" + "\n".join(commands) + "\n```\n",
        summary_table(results),
    ]
    parts.append(breaks_first(results))
    parts += [size_table(r) for r in results.values()]
    parts += ["### Growth\n", growth(results)]
    return "\n".join(parts)


def write_section(path: Path, text: str) -> None:
    """Replace the section under HEADING in ``path``, or append it."""
    current = path.read_text() if path.exists() else ""
    start, end = section(current, HEADING)
    if start < 0:
        current = current.rstrip("\n") + ("\n\n" if current else "") + text
    else:
        current = current[:start] + text + current[end:]
    path.write_text(current)
