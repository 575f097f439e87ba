"""A run whose process died (kill -9) is not left 'started' forever: the next run, holding
the run lock, closes it as 'abandoned', unless it has the same inputs, in which case it is
run again under its run_id; decided and published runs resume as before."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from switchboard import pipeline, publish, warehouse
from switchboard.config import RoutingConfig
from switchboard.ingest import ingest_arrivals, ingest_snapshot
from switchboard.pipeline import RunContext
from tests.snapshots import make_snapshot
from tests.unit.ingest.test_arrivals import BOOK, SINCE, scope

AS_OF = datetime(2026, 11, 23, 9, 0)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    folder = tmp_path / "snap"
    folder.mkdir()
    (folder / "accounts.csv").write_text("account_id\nA1\n")
    return folder


def context(snapshot: Path, as_of: datetime = AS_OF) -> RunContext:
    return pipeline.make_context(
        snapshot=snapshot,
        warehouse_path=snapshot.parent / "w.duckdb",
        outbox=snapshot.parent / "outbox",
        config=RoutingConfig(),
        as_of=as_of,
    )


def register(ctx: RunContext, run_id: str, fp: str, status: str, started: datetime) -> None:
    con = warehouse.connect(ctx.warehouse)
    try:
        publish.ensure_tables(con)
        publish.start_run(
            con,
            run_id=run_id,
            fp=fp,
            mode="hourly",
            snapshot=ctx.snapshot,
            as_of=started,
            rules_version="v",
        )
        con.execute("update routing.runs set started_at = ? where run_id = ?", [started, run_id])
        if status != "started":
            publish.set_status(con, run_id, status)
    finally:
        con.close()


def runs(ctx: RunContext) -> dict[str, tuple[str, str | None]]:
    con = duckdb.connect(str(ctx.warehouse), read_only=True)
    try:
        rows = con.execute("select run_id, status, message from routing.runs").fetchall()
    finally:
        con.close()
    return {run_id: (status, message) for run_id, status, message in rows}


def test_the_next_run_closes_runs_left_started_as_abandoned(snapshot: Path) -> None:
    ctx = context(snapshot)
    register(ctx, "killed-1", "other-inputs", "started", AS_OF - timedelta(hours=2))
    register(ctx, "killed-2", "more-inputs", "started", AS_OF - timedelta(hours=1))
    register(ctx, "fine", "old-inputs", "published", AS_OF - timedelta(hours=3))
    ctx, todo = pipeline.prepare(ctx)
    assert todo == "route"
    ledger = runs(ctx)
    assert ledger[ctx.run_id] == ("started", None)
    assert ledger["fine"] == ("published", None)
    for killed in ("killed-1", "killed-2"):
        status, message = ledger[killed]
        assert status == "abandoned"
        assert message is not None
        assert f"when run {ctx.run_id} took the warehouse" in message
        assert " UTC" in message  # when it was noticed


def test_a_run_left_started_on_the_same_inputs_is_run_again_under_its_run_id(
    snapshot: Path,
) -> None:
    first = context(snapshot)
    register(first, first.run_id, first.fingerprint, "started", AS_OF)
    later = context(snapshot, AS_OF + timedelta(hours=1))
    assert later.run_id != first.run_id  # its own id would differ (the as-of is in it)
    resumed, todo = pipeline.prepare(later)
    assert (resumed.run_id, todo) == (first.run_id, "route")
    assert runs(resumed) == {first.run_id: ("started", None)}
    con = duckdb.connect(str(resumed.warehouse), read_only=True)
    try:
        as_of = con.execute("select as_of from routing.runs").fetchall()
    finally:
        con.close()
    assert as_of == [(AS_OF + timedelta(hours=1),)]  # the retry's as-of


@pytest.mark.parametrize(("status", "todo"), [("decided", "publish"), ("published", "done")])
def test_decided_and_published_runs_resume_as_before_and_still_close_the_dead(
    snapshot: Path, status: str, todo: str
) -> None:
    ctx = context(snapshot)
    register(ctx, "earlier", ctx.fingerprint, status, AS_OF - timedelta(hours=1))
    register(ctx, "killed", "other-inputs", "started", AS_OF - timedelta(minutes=30))
    resumed, what = pipeline.prepare(ctx)
    assert (resumed.run_id, what) == ("earlier", todo)
    ledger = runs(ctx)
    assert ledger["earlier"][0] == status and ledger["killed"][0] == "abandoned"
    assert set(ledger) == {"earlier", "killed"}


def test_a_dry_run_closes_nothing(snapshot: Path) -> None:
    ctx = context(snapshot)
    register(ctx, "killed", "other-inputs", "started", AS_OF)
    pipeline.prepare(replace(ctx, dry_run=True))
    assert runs(ctx)["killed"][0] == "started"


def test_an_abandoned_pass_keeps_its_records_in_scope_for_the_next_pass(tmp_path: Path) -> None:
    con = duckdb.connect()
    try:
        publish.ensure_tables(con)
        snap = make_snapshot(tmp_path / "s", {"accounts.csv": BOOK})
        ingest_snapshot(snap, con, "hourly-1")
        make_snapshot(snap, {"accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\n"})
        publish.start_run(
            con,
            run_id="arrivals-1",
            fp="a1",
            mode="arrivals",
            snapshot=snap,
            as_of=SINCE,
            rules_version="v",
        )
        ingest_arrivals(snap, con, "arrivals-1", SINCE)  # ... and the pass is killed
        make_snapshot(
            snap,
            {"accounts.csv": BOOK + "A3,New,2024-03-01T12:01:00\nA4,Newer,2024-03-01T12:02:00\n"},
        )
        publish.start_run(
            con,
            run_id="arrivals-2",
            fp="a2",
            mode="arrivals",
            snapshot=snap,
            as_of=SINCE,
            rules_version="v",
        )
        assert publish.abandon_started(con, keep="arrivals-2", noticed_by="arrivals-2") == [
            "arrivals-1"
        ]
        ingest_arrivals(snap, con, "arrivals-2", SINCE)
        # A3 is in raw already (the killed pass appended it): only the scope still routes it.
        assert scope(con) == [("account", "A3", "arrivals-2"), ("account", "A4", "arrivals-2")]
    finally:
        con.close()
