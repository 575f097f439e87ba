"""Whole-process `switchboard run hourly`: the first run on a fresh warehouse, the same
command on the unchanged export (answered from the run ledger), and the next hour's run
(1% of accounts changed, 1,000 new accounts, one leaver in HR), each as a ratio to the
DuckDB floor measured in the same run (bench/run.py's time_floor).

    .venv/bin/python bench/rerun.py [--sizes 10000,100000] [--repeat 3]

Prints a Markdown table and keeps it in bench/out/rerun.md; bench/run.py measures the
same re-run inside its full scenario set.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datetime import timedelta

import polars as pl
from run import AS_OF, OUT, arrivals_snapshot, ensure_org, time_floor, time_process

NEW_ACCOUNTS = 1_000
CHANGED_SHARE = 0.01


def next_hour_snapshot(snapshot: Path, folder: Path) -> Path:
    """The export an hour later: 1,000 new unowned accounts, 1% of the accounts renamed,
    and the first active rep in HR terminated (a leaver)."""
    arrivals_snapshot(snapshot, folder, NEW_ACCOUNTS, AS_OF + timedelta(minutes=30))
    accounts = pl.read_csv(folder / "accounts.csv", infer_schema=False)
    every = max(int(1 / CHANGED_SHARE), 1)
    accounts.with_columns(
        name=pl.when(pl.int_range(pl.len()) % every == 0)
        .then(pl.col("name") + " (renamed)")
        .otherwise(pl.col("name"))
    ).write_csv(folder / "accounts.csv")
    hr = pl.read_csv(snapshot / "hr.csv", infer_schema=False)
    leaver = hr.with_row_index().filter(pl.col("status") == "active")["index"][0]
    (folder / "hr.csv").unlink(missing_ok=True)
    hr.with_columns(
        status=pl.when(pl.int_range(pl.len()) == leaver)
        .then(pl.lit("terminated"))
        .otherwise(pl.col("status")),
        status_start=pl.when(pl.int_range(pl.len()) == leaver)
        .then(pl.lit(AS_OF.date().isoformat()))
        .otherwise(pl.col("status_start")),
    ).write_csv(folder / "hr.csv")
    return folder


def measure(accounts: int, repeat: int) -> str:
    snapshot, _ = ensure_org(accounts)
    first: list[float] = []
    again: list[float] = []
    later: list[float] = []
    floors: list[float] = []
    peaks: list[int] = []
    for rep in range(repeat):
        work = OUT / "rerun" / f"{accounts}-r{rep}"
        shutil.rmtree(work, ignore_errors=True)
        home = OUT / "prefect-home"
        run = time_process(snapshot, work / "process", home, AS_OF)
        first.append(run.seconds)
        peaks.append(max(run.max_rss_bytes, run.tree_rss_bytes))
        again.append(time_process(snapshot, work / "process", home, AS_OF).seconds)
        hour = next_hour_snapshot(snapshot, work / "next-hour")
        later.append(
            time_process(hour, work / "process", home, as_of=AS_OF + timedelta(hours=1)).seconds
        )
        floors.append(time_floor(snapshot, accounts, work / "floor"))  # write the book back
        print(
            f"{accounts:,} r{rep + 1}: first {first[-1]:.2f} s ({peaks[-1] / 2**30:.2f} GiB), "
            f"re-run {again[-1]:.2f} s, "
            f"next hour {later[-1]:.2f} s, floor {floors[-1]:.2f} s",
            flush=True,
        )
        shutil.rmtree(work, ignore_errors=True)
    floor = statistics.median(floors)

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({statistics.median(values) / floor:.1f}x)"

    peak = max(peaks) / 2**30
    return (
        f"| {accounts:,} | {floor:.2f} | {cell(first)} | {peak:.2f} | {cell(again)} "
        f"| {cell(later)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [measure(int(size), args.repeat) for size in args.sizes.split(",")]
    table = (
        "| accounts | floor s | first run s (x floor) | first run peak RSS GiB "
        "| re-run, unchanged export s (x floor) | next hour s (x floor) |\n"
        "|---:|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )
    (OUT / "rerun.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
