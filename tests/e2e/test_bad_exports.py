"""Ordinary export accidents, run through a real hourly run: only evidence moves a book.

Each probe changes one thing in the session's generated org and runs hourly routing on a
fresh warehouse. The clean org's first run is the reference: a probe must not move any
account the clean run left alone, and an incomplete export must publish nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from flows.hourly_routing import hourly_routing
from switchboard.guards import GuardTripped
from switchboard.summary import RunSummary
from tests.e2e.conftest import AS_OF, q

pytestmark = pytest.mark.e2e


def run(snapshot: Path, tmp: Path, accept: list[str] | None = None) -> RunSummary:
    return hourly_routing(
        snapshot=str(snapshot),
        warehouse=str(tmp / "w.duckdb"),
        outbox=str(tmp / "outbox"),
        as_of=AS_OF.isoformat(),
        accept_guards=accept,
    )


def probe(
    org: Path, folder: Path, entity: str, change: Callable[[pl.DataFrame], pl.DataFrame]
) -> Path:
    """The org with one entity's file rewritten by ``change`` (all columns as text)."""
    shutil.copytree(org, folder)
    path = folder / f"{entity}.csv"
    change(pl.read_csv(path, infer_schema=False)).write_csv(path)
    return folder


def cell(frame: pl.DataFrame, key: str, value: str, column: str, new: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col(key) == value).then(pl.lit(new)).otherwise(pl.col(column)).alias(column)
    )


@pytest.fixture(scope="module")
def busy_reps(org: Path) -> list[str]:
    """Ordinary reps (no story), HR active, in a territory, with the biggest books."""
    accounts = pl.read_csv(org / "accounts.csv", infer_schema=False)
    hr = pl.read_csv(org / "hr.csv", infer_schema=False).filter(pl.col("status") == "active")
    reps = pl.read_csv(org / "reps.csv", infer_schema=False).join(
        hr.select("email"), on="email", how="semi"
    )
    members = pl.read_csv(org / "territory_members.csv", infer_schema=False)
    return (
        accounts.group_by(rep_id="owner_id")
        .len()
        .filter(pl.col("rep_id").str.contains(r"^REP-\d{4}$"))
        .join(reps.select("rep_id"), on="rep_id", how="semi")
        .join(members.select("rep_id"), on="rep_id", how="semi")
        .sort("len", "rep_id", descending=[True, False])
        .head(3)["rep_id"]
        .to_list()
    )


@pytest.fixture(scope="module")
def clean(clean_hourly: tuple[Path, str]) -> pl.DataFrame:
    """The clean org's decisions on a fresh warehouse."""
    folder, run_id = clean_hourly
    return q(folder / "w.duckdb", "select * from routing.decisions where run_id = ?", [run_id])


def decisions(tmp: Path, summary: RunSummary) -> pl.DataFrame:
    return q(tmp / "w.duckdb", "select * from routing.decisions where run_id = ?", [summary.run_id])


def test_bad_rep_rows_hold_the_rep_instead_of_moving_the_book(
    org: Path, tmp_path: Path, busy_reps: list[str], clean: pl.DataFrame
) -> None:
    """The probes that used to re-route whole books ("not a known rep"), in one export:
    capacity -5 and a capacity too large for an integer (cells cleared, the reps stay
    available), an e-mail typo (row set aside: the rep is held) and a rep whose HR row is
    missing from this one export (held). No held rep loses or gains a record; a
    rep_data_problem alert names each held rep, the column and the value."""
    low, huge, typo = busy_reps
    snapshot = probe(
        org,
        tmp_path / "snap",
        "reps",
        lambda reps: cell(
            cell(
                cell(reps, "rep_id", low, "capacity", "-5"),
                "rep_id",
                huge,
                "capacity",
                "99999999999999999999999",
            ),
            "rep_id",
            typo,
            "email",
            "ana@@example",
        ),
    )
    reps = pl.read_csv(snapshot / "reps.csv", infer_schema=False)
    # a rep the clean run gives new records to
    no_hr = (
        clean.filter((pl.col("rule") == "territory") & ~pl.col("owner_id").is_in(busy_reps))[
            "owner_id"
        ]
        .mode()
        .sort()[0]
    )
    email = reps.filter(pl.col("rep_id") == no_hr)["email"].item()
    hr = pl.read_csv(snapshot / "hr.csv", infer_schema=False)
    hr.filter(pl.col("email") != email).write_csv(snapshot / "hr.csv")

    summary = run(snapshot, tmp_path)
    assert summary.status == "published"
    wh = tmp_path / "w.duckdb"
    got = decisions(tmp_path, summary)
    affected = [low, huge, typo, no_hr]
    assert got.filter(pl.col("previous_owner_id").is_in(affected)).is_empty()
    held = [typo, no_hr]
    assert got.filter(pl.col("owner_id").is_in(held)).is_empty()
    # The same records need an owner as in the clean run; capacity and the held reps only
    # change who gets them (the clean run gave some to the rep now missing from HR).
    assert sorted(got["record_id"]) == sorted(clean["record_id"])
    assert clean.filter(pl.col("owner_id") == no_hr).height > 0

    cleared = q(
        wh,
        "select value, action from raw.quarantine where entity = 'reps' "
        "and column_name = 'capacity' order by value",
    )
    assert cleared.rows() == [("-5", "cell_cleared"), ("99999999999999999999999", "cell_cleared")]
    states = q(
        wh,
        "select rep_id, availability, is_valid_owner, is_available, "
        "data_problem_column from marts.dim_reps where rep_id in (?, ?, ?, ?)",
        affected,
    )
    assert sorted(states.rows()) == sorted(
        [
            (low, "available", True, True, None),
            (huge, "available", True, True, None),
            (typo, "data_problem", True, False, "email"),
            (no_hr, "data_problem", True, False, "email"),
        ]
    )
    alerts = dict(
        q(
            wh,
            "select rep_id, message from routing.alerts "
            "where type = 'rep_data_problem' and run_id = ?",
            [summary.run_id],
        ).rows()
    )
    assert set(alerts) == {typo, no_hr}
    assert "'ana@@example'" in alerts[typo] and "column email" in alerts[typo]
    assert f"no HR row for {email} (1 of 2" in alerts[no_hr]


def test_header_only_and_cut_accounts_files_publish_nothing(
    org: Path, tmp_path: Path, clean_hourly: tuple[Path, str]
) -> None:
    """After a good run, a header-only accounts.csv and one cut in half mid-line stop the
    next run at ingest: nothing loaded, nothing decided, only the guard alert."""
    folder, first = clean_hourly
    shutil.copy(folder / "w.duckdb", tmp_path / "w.duckdb")
    wh = tmp_path / "w.duckdb"
    header_only = probe(org, tmp_path / "empty", "accounts", lambda a: a.head(0))
    with pytest.raises(GuardTripped, match="empty_export"):
        run(header_only, tmp_path)
    data = (org / "accounts.csv").read_bytes()
    cut = tmp_path / "cut"
    shutil.copytree(org, cut)
    (cut / "accounts.csv").write_bytes(data[: len(data) // 2 - 7])
    with pytest.raises(GuardTripped, match="max_row_drop") as caught:
        run(cut, tmp_path)
    assert "is the export cut?" in caught.value.message
    runs = q(wh, "select run_id, status from routing.runs order by started_at")
    assert runs["status"].to_list() == ["published", "stopped", "stopped"]
    assert q(wh, "select distinct run_id from routing.decisions")["run_id"].to_list() == [first]
    assert (
        q(wh, "select count(*) from raw.accounts").item()
        == q(wh, "select loaded_rows from raw.export_history where entity = 'accounts'").item()
    )
    for stopped in runs["run_id"][1:]:
        moves = (tmp_path / "outbox" / stopped / "reassignments.csv").read_text()
        assert moves.count("\n") <= 1, "a stopped run listed reassignments"
        alerts = (tmp_path / "outbox" / stopped / "alerts.jsonl").read_text()
        assert '"guard_tripped"' in alerts


def test_the_newest_hr_row_wins_a_duplicate_email(
    org: Path, tmp_path: Path, busy_reps: list[str]
) -> None:
    """An export with an old active row and a newer terminated row for one e-mail: the
    termination is evidence, and the rep's book is redistributed like any leaver's."""
    leaver = busy_reps[0]
    email = (
        pl.read_csv(org / "reps.csv", infer_schema=False)
        .filter(pl.col("rep_id") == leaver)["email"]
        .item()
    )

    def terminate_later(hr: pl.DataFrame) -> pl.DataFrame:
        old = hr.filter(pl.col("email") == email).with_columns(
            updated_at=pl.lit("2020-01-01T00:00:00")
        )
        new = old.with_columns(
            status=pl.lit("terminated"),
            status_start=pl.lit((AS_OF.date()).isoformat()),
            updated_at=pl.lit(AS_OF.isoformat()),
        )
        return pl.concat([hr.filter(pl.col("email") != email), old, new])

    snapshot = probe(org, tmp_path / "snap", "hr", terminate_later)
    summary = run(snapshot, tmp_path)
    wh = tmp_path / "w.duckdb"
    assert (
        q(wh, "select availability from marts.dim_reps where rep_id = ?", [leaver]).item()
        == "terminated"
    )
    book = q(wh, "select count(*) from raw.accounts where owner_id = ?", [leaver]).item()
    moved = decisions(tmp_path, summary).filter(
        (pl.col("previous_owner_id") == leaver) & (pl.col("record_type") == "account")
    )
    assert moved.height == book > 0
    reason = q(
        wh, "select reason from raw.quarantine where entity = 'hr' and value = ?", [email]
    ).item()
    assert "which is newer by updated_at" in reason
