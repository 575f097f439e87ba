"""Arrivals ingest: which records a pass appends to raw and lists in routing.arrival_scope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from switchboard import publish
from switchboard.ingest import ingest_arrivals, ingest_snapshot
from tests.snapshots import make_snapshot

SINCE = datetime(2024, 3, 1, 12, 0)
BOOK = "account_id,name,created_at\nA1,Acme,2024-01-05\nA2,Beta,2024-01-06\n"


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    publish.ensure_tables(connection)
    yield connection
    connection.close()


def scope(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    return con.sql(
        "select record_type, record_id, run_id from routing.arrival_scope order by all"
    ).fetchall()


def register(con: duckdb.DuckDBPyConnection, run_id: str, mode: str, status: str) -> None:
    publish.start_run(
        con, run_id=run_id, fp=run_id, mode=mode, snapshot=Path("."), as_of=SINCE, rules_version="v"
    )
    publish.set_status(con, run_id, status)


def test_a_pass_appends_and_scopes_what_raw_lacks_whenever_it_was_created(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    snap = make_snapshot(tmp_path / "s", {"accounts.csv": BOOK})
    ingest_snapshot(snap, con, "hourly-1")
    make_snapshot(
        snap,
        {
            "accounts.csv": BOOK
            + "A3,After the watermark,2024-03-01T12:00:30\n"
            + "A4,Exported late,2024-03-01T11:15:00\n"  # before the watermark, within look-back
            + "A5,Long ago,2024-03-01T09:00:00\n"  # beyond the look-back: the hourly's
            + "A6,After the pass began,2024-03-01T12:05:00\n"
            + "A7,,2024-03-01T12:01:00\n",  # no name: quarantined, not scoped
            "leads.csv": "lead_id,email,created_at\nL1,a@b.co,2024-03-01T12:02:00\n",
        },
    )
    report = ingest_arrivals(snap, con, "arrivals-1", SINCE)

    assert scope(con) == [
        ("account", "A3", "arrivals-1"),
        ("account", "A4", "arrivals-1"),
        ("account", "A6", "arrivals-1"),
        ("lead", "L1", "arrivals-1"),
    ]
    assert report["accounts"].input_rows == 4 and report["accounts"].quarantined_rows == 1
    assert con.execute("select count(*) from raw.accounts").fetchall() == [(5,)]
    # Nothing new: an unchanged export appends nothing more.
    ingest_arrivals(snap, con, "arrivals-1", SINCE)
    assert con.execute("select count(*) from raw.accounts").fetchall() == [(5,)]


def test_a_retry_keeps_the_scope_of_a_pass_that_died_and_drops_what_was_routed(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    snap = make_snapshot(tmp_path / "s", {"accounts.csv": BOOK})
    ingest_snapshot(snap, con, "hourly-1")
    make_snapshot(snap, {"accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\n"})
    register(con, "arrivals-1", "arrivals", "started")
    ingest_arrivals(snap, con, "arrivals-1", SINCE)
    # arrivals-1 died before deciding; the next pass also routes A3, under its own run.
    make_snapshot(
        snap, {"accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\nA4,Newer,2024-03-01T12:02:00\n"}
    )
    register(con, "arrivals-2", "arrivals", "started")
    ingest_arrivals(snap, con, "arrivals-2", SINCE)
    assert scope(con) == [("account", "A3", "arrivals-2"), ("account", "A4", "arrivals-2")]
    # Once arrivals-2 has published, its records leave the scope.
    publish.set_status(con, "arrivals-2", "published")
    make_snapshot(
        snap,
        {
            "accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\n"
            "A4,Newer,2024-03-01T12:02:00\nA5,Newest,2024-03-01T12:03:00\n"
        },
    )
    register(con, "arrivals-3", "arrivals", "started")
    ingest_arrivals(snap, con, "arrivals-3", SINCE)
    assert scope(con) == [("account", "A5", "arrivals-3")]


def test_a_full_ingest_with_a_watermark_scopes_the_records_new_to_raw(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """A departure run or the first arrivals pass of a day reloads everything; the records
    raw did not hold still reach the arrivals scope, even when a stopped pass left some."""
    snap = make_snapshot(tmp_path / "s", {"accounts.csv": BOOK})
    ingest_snapshot(snap, con, "hourly-1")
    make_snapshot(snap, {"accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\n"})
    register(con, "arrivals-1", "arrivals", "stopped")
    ingest_arrivals(snap, con, "arrivals-1", SINCE)
    make_snapshot(
        snap, {"accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\nA4,Newer,2024-03-01T12:02:00\n"}
    )
    register(con, "departure-1", "departure", "started")
    ingest_snapshot(snap, con, "departure-1", arrivals_since=SINCE)
    # A3 was left by a pass that stopped on a failed check: the hourly run routes it.
    assert scope(con) == [("account", "A4", "departure-1")]
    assert con.execute("select count(*) from raw.accounts").fetchall() == [(4,)]
