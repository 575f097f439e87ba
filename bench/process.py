"""A whole `switchboard run hourly` process, timed: wall time and peak memory, the largest
process's and the whole tree's (the CLI and the Prefect server it starts), sampled from
/proc. Used by bench/run.py, bench/rerun.py and bench/scale.py."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import switchboard

ROOT = Path(__file__).resolve().parent.parent


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total


@dataclass
class ProcessRun:
    seconds: float
    max_rss_bytes: int
    tree_rss_bytes: int
    returncode: int
    command: str


def time_process(snapshot: Path, workdir: Path, prefect_home: Path, as_of: datetime) -> ProcessRun:
    """`switchboard run hourly` as a subprocess: wall time, the largest single process's
    peak RSS (wait4's ru_maxrss, covers children it waited for) and the peak of the whole
    process tree sampled from /proc every 0.1 s (main process + Prefect's server)."""
    workdir.mkdir(parents=True, exist_ok=True)
    cli = Path(sys.executable).with_name("switchboard")
    args = [
        str(cli),
        "run",
        "hourly",
        "--snapshot",
        str(snapshot),
        "--warehouse",
        str(workdir / "warehouse.duckdb"),
        "--outbox",
        str(workdir / "outbox"),
        "--as-of",
        as_of.isoformat(),
    ]
    env = {**os.environ, **switchboard.TELEMETRY_OFF, "PREFECT_HOME": str(prefect_home)}
    log = workdir / "process.log"
    started = time.perf_counter()
    with log.open("w") as handle:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)
        peak_tree = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, tree_rss_bytes(proc.pid))
            time.sleep(0.1)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log.read_text()[-2000:]
        raise RuntimeError(f"switchboard run hourly exited {proc.returncode}:\n{tail}")
    return ProcessRun(seconds, usage.ru_maxrss * 1024, peak_tree, proc.returncode, shlex.join(args))
