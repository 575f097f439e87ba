"""Faults injected into a real hourly run: a kill at each stage boundary, then a normal
run, must end in exactly one published run with every record decided once and nothing
published twice."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from flows import tasks
from flows.hourly_routing import hourly_routing
from switchboard import pipeline, publish
from switchboard.summary import RunSummary
from tests.e2e.conftest import AS_OF, copy_warehouse, q

pytestmark = pytest.mark.e2e


Record = tuple[str, str]


def run_hourly(snapshot: Path, tmp: Path, config: str | None = None) -> RunSummary:
    return hourly_routing(
        snapshot=str(snapshot),
        warehouse=str(tmp / "w.duckdb"),
        outbox=str(tmp / "outbox"),
        config=config,
        as_of=AS_OF.isoformat(),
    )


def outbox_moves(outbox: Path) -> list[Record]:
    """Every reassignment row in every run folder of the outbox."""
    rows: list[Record] = []
    for path in sorted(outbox.glob("*/reassignments.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            rows += [(r["record_type"], r["record_id"]) for r in csv.DictReader(handle)]
    return rows


def decided(warehouse: Path, run_id: str) -> list[Record]:
    frame = q(
        warehouse, "select record_type, record_id from routing.decisions where run_id = ?", [run_id]
    )
    return list(frame.iter_rows())


@pytest.fixture(scope="module")
def clean_run(clean_hourly: tuple[Path, str]) -> tuple[set[Record], set[Record]]:
    """What an undisturbed run decides and reassigns: the records that need an owner."""
    tmp, run_id = clean_hourly
    records = decided(tmp / "w.duckdb", run_id)
    assert len(records) == len(set(records)) > 0
    return set(records), set(outbox_moves(tmp / "outbox"))


def fail(message: str) -> Callable[..., object]:
    def crash(*args: object, **kwargs: object) -> object:
        raise SystemError(message)

    return crash


def after_publishing(step: Callable[..., object], message: str) -> Callable[..., object]:
    """The real step, then a crash: the process dies after the step's effects landed."""

    def crash(*args: object, **kwargs: object) -> object:
        step(*args, **kwargs)
        raise SystemError(message)

    return crash


# (where the run dies, module, attribute, the replacement, the status it leaves behind)
KILLS = {
    "after_ingest": (pipeline, "transform", lambda: fail("killed after ingest"), "started"),
    "after_dbt": (pipeline, "route", lambda: fail("killed after dbt build"), "started"),
    "after_record": (pipeline, "publish_run", lambda: fail("killed after record"), "decided"),
    "publish_after_queueing": (
        publish,
        "write_outbox",
        lambda: fail("killed after queueing messages"),
        "decided",
    ),
    "publish_after_outbox": (
        publish,
        "write_outbox",
        lambda: after_publishing(publish.write_outbox, "killed after the outbox files"),
        "decided",
    ),
}


# The kills inside publishing start from a run that recorded its decisions and died before
# publishing them (the after_record kill, made once per module): publishing reads the
# decisions back from the warehouse, so the first attempt and a resumed one publish alike.
FROM_DECIDED = ("after_record", "publish_after_queueing", "publish_after_outbox")


@pytest.fixture(scope="module")
def decided_run(org: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A warehouse left by a run killed after recording its decisions (KILLS['after_record']):
    'decided', nothing in the outbox. Copy it to run anything on it. Also returns how many
    decisions it recorded."""
    module, name, make_fault, left_behind = KILLS["after_record"]
    tmp = tmp_path_factory.mktemp("decided")
    with pytest.MonkeyPatch.context() as faulty:
        faulty.setattr(tasks.publish, "retries", 0)
        faulty.setattr(module, name, make_fault())
        with pytest.raises(SystemError, match="killed after record"):
            run_hourly(org, tmp)
    wh = tmp / "w.duckdb"
    assert q(wh, "select status from routing.runs")["status"].to_list() == [left_behind]
    assert not (tmp / "outbox").exists()
    recorded = q(wh, "select count(*) n from routing.decisions").item()
    assert recorded > 0
    return wh, recorded


@pytest.mark.parametrize("where", list(KILLS))
def test_a_run_killed_at_a_stage_boundary_recovers_exactly_once(
    org: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_run: tuple[set[Record], set[Record]],
    where: str,
    request: pytest.FixtureRequest,
) -> None:
    module, name, make_fault, left_behind = KILLS[where]
    wh = tmp_path / "w.duckdb"
    # A kill is not a transient error: no Prefect retry of the publish task in between.
    monkeypatch.setattr(tasks.publish, "retries", 0)
    recorded = None
    if where in FROM_DECIDED:
        source, recorded = request.getfixturevalue("decided_run")
        copy_warehouse(source, tmp_path)
    if where != "after_record":  # that kill is decided_run's own
        with monkeypatch.context() as faulty:
            faulty.setattr(module, name, make_fault())
            with pytest.raises(SystemError, match="killed"):
                run_hourly(org, tmp_path)
    runs = q(wh, "select status from routing.runs")
    assert runs["status"].to_list() == [left_behind]
    if recorded is not None:  # nothing decided again, nothing lost
        assert q(wh, "select count(*) n from routing.decisions").item() == recorded

    summary = run_hourly(org, tmp_path)
    assert summary.status == "published"
    fp = q(wh, "select fingerprint from routing.runs where run_id = ?", [summary.run_id]).item()
    ledger = q(wh, "select run_id, status from routing.runs where fingerprint = ?", [fp])
    assert ledger.rows() == [(summary.run_id, "published")]

    # Every record that needs an owner: exactly one decision, in the final run.
    expected_records, expected_moves = clean_run
    final = decided(wh, summary.run_id)
    assert Counter(final) == Counter(expected_records)
    assert q(wh, "select count(*) n from routing.decisions").item() == len(final)

    # Nothing published twice, nothing lost, wherever the files landed.
    moves = outbox_moves(tmp_path / "outbox")
    assert Counter(moves) == Counter(expected_moves)
    dupes = q(
        wh,
        "select message_key from routing.outbox_messages group by message_key having count(*) > 1",
    )
    assert dupes.is_empty()
    pending = q(wh, "select count(*) n from routing.outbox_messages where status = 'pending'")
    assert pending.item() == 0

    # And a third run on the same snapshot publishes nothing new.
    again = run_hourly(org, tmp_path)
    assert again.run_id == summary.run_id and "nothing new" in again.message
    assert Counter(outbox_moves(tmp_path / "outbox")) == Counter(expected_moves)
