"""The arrivals run's watch loop (switchboard.runs.arrivals, the body of the arrivals flow):
another pass on each new export, until the deadline."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from switchboard import runs, stages
from switchboard.pipeline import RunContext
from switchboard.pipeline.watch import snapshot_signature, wait_for_export
from switchboard.summary import RunSummary
from switchboard.warehouse import WarehouseLocked


def test_a_new_export_ends_the_wait_and_a_quiet_folder_runs_out_the_clock(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("account_id\nA1\n")
    seen = snapshot_signature(tmp_path)
    started = time.monotonic()
    assert not wait_for_export(tmp_path, seen, started + 0.5, 0.1)
    assert time.monotonic() - started < 0.6

    def land() -> None:
        time.sleep(0.3)
        (tmp_path / "leads.csv").write_text("lead_id\nL1\n")

    writer = threading.Thread(target=land)
    writer.start()
    assert wait_for_export(tmp_path, seen, time.monotonic() + 10, 0.1)
    writer.join()
    assert time.monotonic() - started < 5


def test_the_flow_passes_again_for_each_export_that_lands_while_it_watches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    accounts = snapshot / "accounts.csv"
    accounts.write_text("account_id,created_at\nA1,2026-03-02T09:00:00\n")
    passes: list[RunContext] = []

    def one_pass(
        ctx: RunContext, runner: stages.Runner, lock_wait_seconds: float = 0
    ) -> RunSummary:
        passes.append(ctx)
        if len(passes) == 1:  # an export lands while the first pass runs
            with accounts.open("a") as handle:
                handle.write("A2,2026-03-02T09:00:30\n")
        return RunSummary(run_id=ctx.run_id, mode=ctx.mode, status="published")

    monkeypatch.setattr(stages, "run", one_pass)
    monkeypatch.setattr(runs, "warm_up", lambda: None)
    started = time.monotonic()
    summary = runs.arrivals(
        snapshot=str(snapshot),
        warehouse=str(tmp_path / "w"),
        outbox=str(tmp_path / "o"),
        watch_seconds=1.5,
        poll_seconds=0.1,
    )
    assert len(passes) == 2
    assert [p.mode for p in passes] == ["arrivals", "arrivals"]
    assert passes[0].fingerprint != passes[1].fingerprint  # the second saw the new export
    assert summary.run_id == passes[1].run_id
    assert 1.3 < time.monotonic() - started < 10  # it watched until the deadline


def test_watching_needs_the_clock() -> None:
    with pytest.raises(ValueError, match="leave as_of unset"):
        runs.arrivals(snapshot=".", as_of="2026-03-02T09:00:00", watch_seconds=5)


def test_a_pass_that_finds_the_warehouse_busy_is_tried_again_while_watching(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "accounts.csv").write_text("account_id,created_at\nA1,2026-03-02T09:00:00\n")
    calls: list[str] = []

    def busy_once(
        ctx: RunContext, runner: stages.Runner, lock_wait_seconds: float = 0
    ) -> RunSummary:
        calls.append(ctx.run_id)
        if len(calls) == 1:
            raise WarehouseLocked("another run holds the warehouse")
        return RunSummary(run_id=ctx.run_id, mode=ctx.mode, status="published")

    monkeypatch.setattr(stages, "run", busy_once)
    monkeypatch.setattr(runs, "warm_up", lambda: None)
    summary = runs.arrivals(snapshot=str(snapshot), watch_seconds=1.0, poll_seconds=0.1)
    assert len(calls) == 2 and summary.status == "published"

    def always_busy(
        ctx: RunContext, runner: stages.Runner, lock_wait_seconds: float = 0
    ) -> RunSummary:
        raise WarehouseLocked("another run holds the warehouse")

    monkeypatch.setattr(stages, "run", always_busy)
    with pytest.raises(WarehouseLocked):
        runs.arrivals(snapshot=str(snapshot), watch_seconds=0.5, poll_seconds=0.1)
    with pytest.raises(WarehouseLocked):  # one pass, no watching: as before
        runs.arrivals(snapshot=str(snapshot))
