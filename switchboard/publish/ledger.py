"""The run ledger: a run's fingerprint, finding, starting, abandoning and stopping runs,
and recording a run's decisions, conflicts and alerts in the warehouse."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from switchboard import tables, warehouse
from switchboard.alerts import ALERTS
from switchboard.engine.schema import CONFLICTS, RECORDED_DECISIONS, REP_STATE, ROUND_ROBIN, RUNS
from switchboard.publish.schema import _now


def fingerprint(snapshot: Path, *parts: object) -> str:
    """SHA-256 over the snapshot's file names and bytes plus the run's parameters."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(snapshot).iterdir() if p.is_file()):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    for part in parts:
        digest.update(b"\0" + str(part).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    status: str
    message: str | None


def find_run(con: duckdb.DuckDBPyConnection, fp: str) -> RunRecord | None:
    """The most recent run of this fingerprint that got past its decisions, if any."""
    rows = con.execute(
        "select run_id, status, message from routing.runs where fingerprint = ? "
        "and status in ('decided', 'published') order by started_at desc limit 1",
        [fp],
    ).fetchall()
    return RunRecord(*rows[0]) if rows else None


def find_started(con: duckdb.DuckDBPyConnection, fp: str) -> str | None:
    """The run_id of the latest run of this fingerprint still 'started': it died before
    recording its decisions, and a run on the same inputs runs it again under that id."""
    rows = con.execute(
        "select run_id from routing.runs where fingerprint = ? and status = 'started' "
        "order by started_at desc limit 1",
        [fp],
    ).fetchall()
    return str(rows[0][0]) if rows else None


def abandon_started(con: duckdb.DuckDBPyConnection, *, keep: str, noticed_by: str) -> list[str]:
    """Close as 'abandoned' every run still 'started' but ``keep`` (the run about to go on).

    Only a run holding the warehouse's run lock may call this: then no other process is
    running, so a run still 'started' is one whose process died (killed, or failed before
    recording its decisions), and it would otherwise read 'started' forever. Its records
    still in routing.arrival_scope stay there for the next pass (switchboard.ingest).
    Returns the run_ids closed.
    """
    now = _now()
    closed = [
        str(r[0])
        for r in con.execute(
            "select run_id from routing.runs where status = 'started' and run_id <> ? "
            "order by started_at",
            [keep],
        ).fetchall()
    ]
    if closed:
        con.execute(
            "update routing.runs set status = 'abandoned', message = ?, finished_at = ? "
            "where status = 'started' and run_id <> ?",
            [
                f"abandoned: still 'started' at {now:%Y-%m-%d %H:%M:%S} UTC, when run "
                f"{noticed_by} took the warehouse; its process ended (killed, or stopped by "
                "an error) before recording its decisions",
                now,
                keep,
            ],
        )
    return closed


def start_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    fp: str,
    mode: str,
    snapshot: Path,
    as_of: datetime,
    rules_version: str,
    accepted_guards: Sequence[str] = (),
) -> None:
    row = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "fingerprint": fp,
                "mode": mode,
                "snapshot": str(snapshot),
                "as_of": as_of,
                "rules_version": rules_version,
                "status": "started",
                "message": None,
                "started_at": _now(),
                "finished_at": None,
                "accepted_guards": list(accepted_guards),
            }
        ],
        schema=RUNS,
    )
    con.execute("delete from routing.runs where run_id = ?", [run_id])
    warehouse.write_table(con, tables.RUNS, row, mode="append")


def set_status(
    con: duckdb.DuckDBPyConnection, run_id: str, status: str, message: str | None = None
) -> None:
    con.execute(
        "update routing.runs set status = ?, message = ?, finished_at = ? where run_id = ?",
        [status, message, _now(), run_id],
    )


# ---------------------------------------------------------------- recording


def record_run(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    decisions: pl.DataFrame,
    conflicts: pl.DataFrame,
    rep_state: pl.DataFrame,
    alerts: pl.DataFrame,
    round_robin: pl.DataFrame | None = None,
) -> None:
    """Write a run's decisions, conflicts, alerts and rep state (and where round-robin
    rotations stand) in one transaction and mark it decided. Rows of an earlier attempt
    of the same run are replaced, not duplicated.

    Decisions without ``input_hash`` (straight from the engine) are recorded with none: a
    queued record among them is decided again at the next run (switchboard.queued)."""
    if "input_hash" not in decisions.columns:
        decisions = decisions.with_columns(input_hash=pl.lit(None, pl.String()))
    con.execute("begin transaction")
    try:
        for table, frame, schema in (
            ("routing.decisions", decisions, RECORDED_DECISIONS),
            ("routing.conflicts", conflicts, CONFLICTS),
            ("routing.alerts", alerts, ALERTS),
        ):
            con.execute(f"delete from {table} where run_id = ?", [run_id])
            warehouse.write_table(con, table, frame.select(list(schema)), mode="append")
        if rep_state.height:
            warehouse.write_table(con, tables.REP_STATE, rep_state.select(list(REP_STATE)))
        if round_robin is not None:
            warehouse.write_table(con, tables.ROUND_ROBIN, round_robin.select(list(ROUND_ROBIN)))
        set_status(con, run_id, "decided")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise


def record_stopped(
    con: duckdb.DuckDBPyConnection, *, run_id: str, alerts: pl.DataFrame, message: str
) -> None:
    con.execute("delete from routing.alerts where run_id = ?", [run_id])
    warehouse.write_table(con, tables.ALERTS, alerts.select(list(ALERTS)), mode="append")
    set_status(con, run_id, "stopped", message)
