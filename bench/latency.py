"""Time from record creation to owner with the every-minute `arrivals` deployment, served.

Builds the book of one size with an hourly run (as of now), then serves the `arrivals`
deployment of prefect.yaml exactly as a user would (`switchboard serve -d arrivals`, a
local Prefect server, one flow run per minute watching the export) and, once its first
pass has published (steady state), a writer appends new accounts to the snapshot's
accounts.csv at a steady rate, each stamped with its real creation time. When
the writer stops and the last pass has published, every new account's time to owner is
read from the warehouse: the publishing run's finished_at minus the account's created_at.

    .venv/bin/python bench/latency.py [--size 1000000] [--minutes 10] [--per-minute 100]

Writes bench/out/latency-<size>.json (bench/run.py quotes the largest size in its targets
table) and prints a summary. The hourly deployment is not served, so no hourly run lands
in the window.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import switchboard  # noqa: E402
from bench.run import OUT, _say, ensure_org, run_stages  # noqa: E402
from switchboard.config import load_config  # noqa: E402

PREFIX = "LATENCY"


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def live_snapshot(org: Path, folder: Path) -> Path:
    """The org's files, with accounts.csv copied (the writer appends to it)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for path in org.iterdir():
        if path.is_file():
            if path.name == "accounts.csv":
                shutil.copyfile(path, folder / path.name)
            else:
                (folder / path.name).symlink_to(path.resolve())
    return folder


class Writer:
    """Appends one new unowned account per call, as one line in one write."""

    def __init__(self, accounts_csv: Path) -> None:
        header = accounts_csv.open(encoding="utf-8").readline()
        self.columns = next(csv.reader([header]))
        template = (
            pl.read_csv(accounts_csv, infer_schema=False, n_rows=50)
            .filter(pl.col("account_id").is_not_null() & pl.col("country").is_not_null())
            .row(0, named=True)
        )
        self.template = {k: template.get(k) for k in self.columns}
        self.path = accounts_csv
        self.count = 0

    def add(self) -> tuple[str, datetime]:
        self.count += 1
        account_id = f"{PREFIX}{self.count:06d}"
        created = _utc_now().replace(microsecond=0)
        row = {
            **self.template,
            "account_id": account_id,
            "name": f"Latency {self.count}",
            "owner_id": None,
            "parent_account_id": None,
            "created_at": created.isoformat(),
        }
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(
            ["" if row.get(c) is None else row[c] for c in self.columns]
        )
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            os.write(fd, buffer.getvalue().encode())
        finally:
            os.close(fd)
        return account_id, created


def serve(snapshot: Path, workdir: Path) -> subprocess.Popen[str]:
    cli = Path(sys.executable).with_name("switchboard")
    env = {
        **os.environ,
        **switchboard.TELEMETRY_OFF,
        "PREFECT_HOME": str(workdir / "prefect-home"),
        "PREFECT_UI_ENABLED": "false",
    }
    env.pop("PREFECT_API_URL", None)
    log = (workdir / "serve.log").open("w")
    return subprocess.Popen(
        [
            str(cli),
            "serve",
            "-d",
            "arrivals",
            "--snapshot",
            str(snapshot),
            "--warehouse",
            str(workdir / "warehouse.duckdb"),
            "--outbox",
            str(workdir / "outbox"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_ready(workdir: Path, process: subprocess.Popen[str], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    log = workdir / "serve.log"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"switchboard serve exited:\n{log.read_text()[-2000:]}")
        if "serving" in log.read_text():
            return
        time.sleep(0.5)
    raise RuntimeError("switchboard serve did not become ready")


def wait_first_pass(warehouse: Path, timeout: float = 300) -> None:
    """Wait until the deployment has published its first pass: Prefect's scheduler creates
    the first runs of a new deployment a minute or two late, which a user meets once, on
    the first day, and which is not the steady state this benchmark measures."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(2)
        try:
            con = duckdb.connect(str(warehouse), read_only=True)
        except duckdb.IOException:  # a pass holds the warehouse
            continue
        try:
            done = con.sql(
                "select count(*) from routing.runs where mode = 'arrivals' and status = 'published'"
            ).fetchall()[0][0]
        finally:
            con.close()
        if done:
            return
    raise RuntimeError("the arrivals deployment published no pass")


def measure(warehouse: Path, created: dict[str, datetime]) -> dict[str, Any]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        routed = con.sql(
            "select d.record_id, r.run_id, r.started_at, r.finished_at from routing.decisions d "
            "join routing.runs r using (run_id) where r.status = 'published' "
            f"and d.record_id like '{PREFIX}%'"
        ).pl()
        passes = con.sql(
            "select started_at, finished_at, as_of from routing.runs "
            "where mode = 'arrivals' and status = 'published' order by started_at"
        ).pl()
    finally:
        con.close()
    created_frame = pl.DataFrame(
        {"record_id": list(created), "created_at": list(created.values())},
        schema={"record_id": pl.String, "created_at": pl.Datetime("us")},
    )
    joined = created_frame.join(routed, on="record_id", how="left").with_columns(
        seconds=(pl.col("finished_at") - pl.col("created_at")).dt.total_milliseconds() / 1000
    )
    seconds = sorted(joined["seconds"].drop_nulls().to_list())
    durations = (passes["finished_at"] - passes["started_at"]).dt.total_milliseconds() / 1000
    decided_twice = routed.group_by("record_id").len().filter(pl.col("len") > 1).height

    def pct(p: float) -> float:
        return seconds[min(len(seconds) - 1, int(p * len(seconds)))]

    return {
        "created": len(created),
        "routed": len(seconds),
        "decided_twice": decided_twice,
        "p50_seconds": statistics.median(seconds) if seconds else None,
        "p90_seconds": pct(0.9) if seconds else None,
        "p99_seconds": pct(0.99) if seconds else None,
        "max_seconds": max(seconds) if seconds else None,
        "passes": passes.height,
        "pass_seconds_median": float(durations.median()) if passes.height else None,
        "pass_seconds_max": float(durations.max()) if passes.height else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--per-minute", type=int, default=100)
    parser.add_argument(
        "--out", type=Path, default=None, help="default bench/out/latency-<size>.json"
    )
    args = parser.parse_args(argv)

    org, _ = ensure_org(args.size)
    workdir = OUT / "latency" / str(args.size)
    shutil.rmtree(workdir, ignore_errors=True)
    snapshot = live_snapshot(org, workdir / "snapshot")
    started = _utc_now().replace(microsecond=0)
    _say(f"{args.size:,}: hourly run as of {started:%H:%M:%S} to build the book")
    hourly = run_stages(snapshot, workdir, config=load_config(), as_of=started)
    _say(f"{args.size:,}: hourly {hourly.total:.1f} s; serving the arrivals deployment")
    process = serve(snapshot, workdir)
    created: dict[str, datetime] = {}
    writing_from = started
    try:
        wait_ready(workdir, process)
        wait_first_pass(workdir / "warehouse.duckdb")
        _say("the first pass has published; writing new accounts")
        writing_from = _utc_now().replace(microsecond=0)
        writer = Writer(snapshot / "accounts.csv")
        gap = 60.0 / args.per_minute
        end = time.monotonic() + args.minutes * 60
        next_at = time.monotonic()
        while time.monotonic() < end:
            record_id, at = writer.add()
            created[record_id] = at
            next_at += gap
            time.sleep(max(0.0, next_at - time.monotonic()))
        _say(
            f"wrote {len(created):,} accounts over {args.minutes:g} min; "
            "waiting for the last passes"
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            time.sleep(10)
            try:
                if measure(workdir / "warehouse.duckdb", created)["routed"] == len(created):
                    break
            except duckdb.IOException:  # a pass holds the warehouse; look again later
                continue
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    result = {
        "size": args.size,
        "minutes": args.minutes,
        "per_minute": args.per_minute,
        "command": "python bench/latency.py " + " ".join(argv or sys.argv[1:]),
        "measured_at": started.isoformat(),
        "writing_from": writing_from.isoformat(),
        "writing_until": (writing_from + timedelta(minutes=args.minutes)).isoformat(),
        **measure(workdir / "warehouse.duckdb", created),
    }
    out = args.out or OUT / f"latency-{args.size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    _say(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
