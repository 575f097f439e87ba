"""Whole-process `switchboard run hourly`: the first run on a fresh warehouse, then the
same command on the unchanged export (answered from the run ledger), each as a ratio to
the DuckDB floor measured in the same run (bench/run.py's time_floor).

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

from run import OUT, ensure_org, time_floor, time_process


def measure(accounts: int, repeat: int) -> str:
    snapshot, _ = ensure_org(accounts)
    first: list[float] = []
    again: list[float] = []
    floors: list[float] = []
    for rep in range(repeat):
        work = OUT / "rerun" / f"{accounts}-r{rep}"
        shutil.rmtree(work, ignore_errors=True)
        first.append(time_process(snapshot, work / "process", OUT / "prefect-home").seconds)
        again.append(time_process(snapshot, work / "process", OUT / "prefect-home").seconds)
        floors.append(time_floor(snapshot, accounts, work / "floor"))  # write the book back
        print(f"{accounts:,} r{rep + 1}: first {first[-1]:.2f} s, re-run {again[-1]:.2f} s, "
              f"floor {floors[-1]:.2f} s", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    floor = statistics.median(floors)
    return (f"| {accounts:,} | {floor:.2f} | {statistics.median(first):.2f} "
            f"({statistics.median(first) / floor:.0f}x) | {statistics.median(again):.2f} "
            f"({statistics.median(again) / floor:.1f}x) |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = [measure(int(size), args.repeat) for size in args.sizes.split(",")]
    table = ("| accounts | floor s | first run s (x floor) | re-run, unchanged export s "
             "(x floor) |\n|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n")
    (OUT / "rerun.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
