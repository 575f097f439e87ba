"""Bad exports never move a book at ingest: cells cleared instead of rows dropped, newest
HR row wins, cut and binary files named, row-count guards, and the rep roster."""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard.config import RoutingConfig
from switchboard.contracts import load_contracts
from switchboard.errors import SnapshotError
from switchboard.guards import ExportGuard, GuardTripped
from switchboard.ingest import ingest_snapshot
from tests.snapshots import CLEAN, make_snapshot

REQUIRED = tuple(e for e, c in load_contracts().items() if c.required)


def export_guard(**overrides: object) -> ExportGuard:
    limits = RoutingConfig().guards
    settings: dict[str, object] = {
        "max_row_drop": limits.max_row_drop,
        "min_row_drop": limits.min_row_drop,
        "required": REQUIRED,
        **overrides,
    }
    return ExportGuard(**settings)  # type: ignore[arg-type]


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def quarantine(con: duckdb.DuckDBPyConnection, entity: str) -> list[tuple[object, ...]]:
    return con.sql(
        "select row_number, column_name, action, reason from raw.quarantine "
        "where entity = ? order by row_number, column_name",
        params=[entity],
    ).fetchall()


def roster(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, object]]:
    frame = con.sql("select * from raw.rep_roster").pl()
    return {row["rep_id"]: row for row in frame.iter_rows(named=True)}


# ------------------------------------------------------------------- cell by cell


def test_a_bad_optional_cell_is_cleared_and_the_rep_row_kept(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    reps = (
        "rep_id,name,email,role,capacity,is_active\n"
        "R1,Ada,ada@example.com,AE,-5,true\n"
        "R2,Bo,bo@example.com,AE,99999999999999999999999,maybe\n"
    )
    hr = "email,status\nada@example.com,active\nbo@example.com,active\n"
    report = ingest_snapshot(make_snapshot(tmp_path, {"reps.csv": reps, "hr.csv": hr}), con, "r")
    assert report["reps"].loaded_rows == 2 and report["reps"].quarantined_rows == 0
    loaded = con.sql("select rep_id, capacity, is_active from raw.reps order by 1").fetchall()
    assert loaded == [("R1", None, True), ("R2", None, None)]
    entries = quarantine(con, "reps")
    assert [(row, column, action) for row, column, action, _ in entries] == [
        (1, "capacity", "cell_cleared"),
        (2, "capacity", "cell_cleared"),
        (2, "is_active", "cell_cleared"),
    ]
    assert entries[0][3] == (
        "capacity '-5' is below the minimum 1; the cell was cleared and the row kept"
    )


def test_slack_user_id_is_optional_and_a_value_that_is_no_member_id_is_cleared(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    ingest_snapshot(make_snapshot(tmp_path / "1", {}), con, "r1")  # no such column at all
    assert con.sql("select slack_user_id from raw.reps").fetchall() == [(None,)]
    reps = (
        "rep_id,name,email,role,Slack ID\n"
        "R1,Ada,ada@example.com,AE, U0ADA123 \n"
        "R2,Bo,bo@example.com,AE,@bo\n"
    )
    hr = "email,status\nada@example.com,active\nbo@example.com,active\n"
    report = ingest_snapshot(
        make_snapshot(tmp_path / "2", {"reps.csv": reps, "hr.csv": hr}), con, "r2"
    )
    assert report["reps"].loaded_rows == 2
    assert con.sql("select rep_id, slack_user_id from raw.reps order by 1").fetchall() == [
        ("R1", "U0ADA123"),
        ("R2", None),
    ]
    assert [(row, column, action) for row, column, action, _ in quarantine(con, "reps")] == [
        (2, "slack_user_id", "cell_cleared")
    ]
    assert roster(con)["R1"]["slack_user_id"] == "U0ADA123"


def test_a_roster_kept_before_slack_user_id_existed_still_updates(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    ingest_snapshot(make_snapshot(tmp_path / "1", {}), con, "r1")
    con.execute("alter table raw.rep_roster drop column slack_user_id")  # an older warehouse
    reps = "rep_id,name,email,role,slack_user_id\nR1,Ada,ada@example.com,AE,U0ADA123\n"
    ingest_snapshot(make_snapshot(tmp_path / "2", {"reps.csv": reps}), con, "r2")
    assert roster(con)["R1"]["slack_user_id"] == "U0ADA123"


def test_a_required_cell_still_sets_the_row_aside_but_the_rep_is_held(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """An e-mail typo quarantines the reps row; the roster keeps the rep with the problem,
    and the rep's territory memberships still load."""
    first = make_snapshot(tmp_path / "1", {})
    ingest_snapshot(first, con, "r1")
    reps = "rep_id,name,email,role\nR1,Ada,ada@@example,AE\n"
    report = ingest_snapshot(make_snapshot(tmp_path / "2", {"reps.csv": reps}), con, "r2")
    assert report["reps"].loaded_rows == 0
    assert report["territory_members"].loaded_rows == 1  # R1 still exists
    held = roster(con)["R1"]
    assert held["email"] == "ada@example.com"  # the last good row
    assert held["reps_problem_column"] == "email"
    assert held["reps_problem_value"] == "ada@@example"
    assert held["missing_reps_exports"] == 0


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        (
            "timezone",
            "Europe/Berlni",
            "timezone 'Europe/Berlni' is not an IANA time zone name (such as Europe/Berlin)",
        ),
        (
            "working_hours",
            "weekdays 9-5",
            "working_hours 'weekdays 9-5' is not working hours such as Mon-Fri 09:00-17:30 or "
            "Mon-Thu 09:00-17:00; Fri 09:00-13:00",
        ),
    ],
)
def test_bad_working_hours_or_time_zone_hold_the_rep_instead_of_clearing_the_cell(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, column: str, value: str, reason: str
) -> None:
    """Clearing the cell would make the rep work around the clock: the row is set aside
    and the rep held with the last good row, like a broken required value."""
    good = (
        "rep_id,name,email,role,timezone,working_hours\n"
        "R1,Ada,ada@example.com,AE,Europe/Berlin,Mon-Thu 09:00-17:00; fri 9:00-13:00\n"
    )
    ingest_snapshot(make_snapshot(tmp_path / "1", {"reps.csv": good}), con, "r1")
    assert con.sql("select timezone, working_hours from raw.reps").fetchall() == [
        ("Europe/Berlin", "Mon-Thu 09:00-17:00; fri 9:00-13:00")
    ]
    broken = good.replace(
        "Europe/Berlin" if column == "timezone" else "Mon-Thu 09:00-17:00; fri 9:00-13:00", value
    )
    report = ingest_snapshot(make_snapshot(tmp_path / "2", {"reps.csv": broken}), con, "r2")
    assert report["reps"].loaded_rows == 0
    assert quarantine(con, "reps") == [(1, column, "row_quarantined", reason)]
    held = roster(con)["R1"]
    assert (held["reps_problem_column"], held["reps_problem_value"]) == (column, value)
    assert held["timezone"] == "Europe/Berlin"  # the last good row stands in


def test_a_roster_from_before_the_new_rep_columns_still_updates(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    ingest_snapshot(make_snapshot(tmp_path / "1", {}), con, "r1")
    con.execute("alter table raw.rep_roster drop column working_hours")
    ingest_snapshot(make_snapshot(tmp_path / "2", {}), con, "r2")
    assert "working_hours" in con.sql("select * from raw.rep_roster").columns


# ------------------------------------------------------------------- newest wins


def test_duplicate_hr_rows_keep_the_newest_not_the_first(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    hr = (
        "email,status,status_start,updated_at\n"
        "ada@example.com,active,2024-01-01,2026-01-01T00:00:00\n"
        "ada@example.com,terminated,2026-11-30,2026-11-30T09:00:00\n"
        "bo@example.com,leave,2026-10-01,\n"
        "bo@example.com,active,2026-11-01,\n"
    )
    ingest_snapshot(make_snapshot(tmp_path, {"hr.csv": hr}), con, "r")
    kept = con.sql("select email, status, _row_number from raw.hr order by 1").fetchall()
    assert kept == [("ada@example.com", "terminated", 2), ("bo@example.com", "active", 4)]
    entries = quarantine(con, "hr")
    assert [(row, column) for row, column, *_ in entries] == [(1, "email"), (3, "email")]
    assert entries[0][3] == (
        "email 'ada@example.com' repeats row 2, which is newer by updated_at then status_start"
    )


def test_without_dating_columns_the_first_duplicate_wins(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = "account_id,name,created_at\nA1,First,2024-01-01\nA1,Second,2024-02-01\n"
    ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert con.sql("select name from raw.accounts").fetchall() == [("First",)]


# ------------------------------------------------------------------- cut and binary files


def test_a_last_line_cut_short_is_quarantined_as_truncated(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = (
        "account_id,name,created_at,country,owner_id\n"
        "A1,Acme,2024-01-05,US,R1\nA2,Beta,2024-01-06,US,R1\nA3,Gam"
    )
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert report["accounts"].loaded_rows == 2
    entries = {
        column: (row, action, reason) for row, column, action, reason in quarantine(con, "accounts")
    }
    row, action, reason = entries["_row"]
    assert (row, action) == (3, "row_quarantined")
    assert "has 2 of 5 fields" in reason and "the export looks cut" in reason


def test_a_last_value_cut_short_is_quarantined_as_truncated(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """The probe: the file stops inside the last column, so the field count is right but
    the owner id is cut to a prefix of every other one."""
    rows = "".join(f"A{i},Acme {i},2024-01-05,REP-000{i}\n" for i in range(1, 6))
    accounts = "account_id,name,created_at,owner_id\n" + rows + "A9,Cut,2024-01-05,REP-00"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert report["accounts"].loaded_rows == 5
    ((row, column, _, reason),) = quarantine(con, "accounts")
    assert (row, column) == (6, "_row")
    assert "'REP-00' is shorter than every other owner_id" in reason


def test_a_complete_file_without_a_final_line_break_loads_whole(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    accounts = "account_id,name,created_at,owner_id\nA1,Acme,2024-01-05,R1\nA2,Beta,2024-01-06,R2"
    report = ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": accounts}), con, "r")
    assert report["accounts"].loaded_rows == 2 and report.quarantine.height == 0


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("accounts.csv", CLEAN["accounts.csv"])
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (gzip.compress(CLEAN["accounts.csv"].encode(), mtime=0), "is a gzip archive, not CSV"),
        (_zip_bytes(), "is a zip archive (an .xlsx workbook is one), not CSV"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "legacy Excel (.xls) workbook"),
        (b"PAR1" + b"\x00" * 16, "is a Parquet file, not CSV: name it accounts.parquet"),
        (b"account_id,name\x00\x01\x02,created_at\n", "is a binary file, not CSV text"),
    ],
    ids=["gzip", "zip", "xls", "parquet", "binary"],
)
def test_binary_files_are_named_in_one_line(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, content: bytes, named: str
) -> None:
    with pytest.raises(SnapshotError) as caught:
        ingest_snapshot(make_snapshot(tmp_path, {"accounts.csv": content}), con, "r")
    message = str(caught.value)
    assert named in message and "accounts.csv" in message and "\n" not in message


# ------------------------------------------------------------------- export guards


def _accounts(n: int) -> str:
    return "account_id,name,created_at\n" + "".join(f"A{i},Acme {i},2024-01-05\n" for i in range(n))


def test_a_header_only_required_file_stops_before_anything_is_written(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    ingest_snapshot(make_snapshot(tmp_path / "1", {"accounts.csv": _accounts(40)}), con, "r1")
    header_only = make_snapshot(tmp_path / "2", {"accounts.csv": "account_id,name,created_at\n"})
    with pytest.raises(GuardTripped) as caught:
        ingest_snapshot(header_only, con, "r2", guard=export_guard())
    assert caught.value.guard == "empty_export"
    assert "accounts.csv has no usable rows (a header only)" in caught.value.message
    assert "--accept-guard empty_export" in caught.value.message
    assert con.sql("select count(*) from raw.accounts").fetchall() == [(40,)]
    ingest_snapshot(
        header_only, con, "r3", guard=export_guard(accepted=frozenset({"empty_export"}))
    )
    assert con.sql("select count(*) from raw.accounts").fetchall() == [(0,)]


def test_a_file_that_lost_rows_against_the_last_export_stops(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    ingest_snapshot(make_snapshot(tmp_path / "1", {"accounts.csv": _accounts(40)}), con, "r1")
    cut = make_snapshot(tmp_path / "2", {"accounts.csv": _accounts(20)})
    with pytest.raises(GuardTripped) as caught:
        ingest_snapshot(cut, con, "r2", guard=export_guard())
    assert caught.value.guard == "max_row_drop"
    assert "accounts.csv loaded 20 rows where the last export loaded 40 (-50% > 10%)" in (
        caught.value.message
    )
    assert con.sql("select count(*) from raw.accounts").fetchall() == [(40,)]
    # a small drop, or one under the row floor, is normal churn
    ingest_snapshot(
        make_snapshot(tmp_path / "3", {"accounts.csv": _accounts(38)}),
        con,
        "r3",
        guard=export_guard(),
    )
    # a territory change replaces the plan on purpose
    ingest_snapshot(
        cut, con, "r4", guard=export_guard(exempt=frozenset({"accounts"}), accepted=frozenset())
    )


def test_rows_lost_to_quarantine_count_as_lost(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """An export whose dates changed format quarantines every row: as good as empty."""
    ingest_snapshot(make_snapshot(tmp_path / "1", {"accounts.csv": _accounts(40)}), con, "r1")
    us_dates = "account_id,name,created_at\n" + "".join(
        f"A{i},Acme {i},1/5/2024\n" for i in range(40)
    )
    with pytest.raises(GuardTripped) as caught:
        ingest_snapshot(
            make_snapshot(tmp_path / "2", {"accounts.csv": us_dates}),
            con,
            "r2",
            guard=export_guard(),
        )
    assert "all 40 rows quarantined" in caught.value.message


# ------------------------------------------------------------------- the rep roster


def _reps(*ids: str) -> str:
    return "rep_id,name,email,role\n" + "".join(
        f"{i},{i},{i.lower()}@example.com,AE\n" for i in ids
    )


def _hr(*ids: str) -> str:
    return "email,status\n" + "".join(f"{i.lower()}@example.com,active\n" for i in ids)


def test_absence_is_counted_per_new_export(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    def load(name: str, reps: str, hr: str) -> dict[str, dict[str, object]]:
        folder = make_snapshot(
            tmp_path / name,
            {"reps.csv": reps, "hr.csv": hr, "territory_members.csv": "territory_id,rep_id\n"},
        )
        ingest_snapshot(folder, con, name)
        return roster(con)

    state = load("1", _reps("R1", "R2", "R3"), _hr("R1", "R2", "R3"))
    assert {r: (s["missing_reps_exports"], s["missing_hr_exports"]) for r, s in state.items()} == {
        "R1": (0, 0),
        "R2": (0, 0),
        "R3": (0, 0),
    }
    # R2 leaves the reps file, R3 leaves HR
    state = load("2", _reps("R1", "R3"), _hr("R1", "R2"))
    assert state["R2"]["missing_reps_exports"] == 1
    assert state["R2"]["reps_problem_reason"] == "missing from the reps export"
    assert state["R3"]["missing_hr_exports"] == 1
    # the same files again are not a second export
    state = load("2", _reps("R1", "R3"), _hr("R1", "R2"))
    assert (state["R2"]["missing_reps_exports"], state["R3"]["missing_hr_exports"]) == (1, 1)
    # a new export that still leaves them out
    state = load("3", _reps("R1", "R3") + "R9,R9,r9@example.com,AE\n", _hr("R1", "R2", "R9"))
    assert (state["R2"]["missing_reps_exports"], state["R3"]["missing_hr_exports"]) == (2, 2)
    # back in both files: the counters reset
    state = load("4", _reps("R1", "R2", "R3"), _hr("R1", "R2", "R3"))
    assert {
        r: (s["missing_reps_exports"], s["missing_hr_exports"])
        for r, s in state.items()
        if r != "R9"
    } == {"R1": (0, 0), "R2": (0, 0), "R3": (0, 0)}


def test_a_broken_hr_row_is_a_problem_not_an_absence(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    hr = "email,status\nada@example.com,retired\n"
    ingest_snapshot(make_snapshot(tmp_path, {"hr.csv": hr}), con, "r")
    ada = roster(con)["R1"]
    assert (ada["hr_problem_column"], ada["hr_problem_value"]) == ("status", "retired")
    assert ada["missing_hr_exports"] == 0


def test_roster_frame_keeps_its_schema_when_nothing_changes(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    ingest_snapshot(make_snapshot(tmp_path, {}), con, "r")
    schema = con.sql("select * from raw.rep_roster").pl().schema
    assert schema["skills"] == pl.List(pl.String) and schema["missing_hr_exports"] == pl.Int64


def test_the_last_hr_status_outlives_the_hr_row(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """HR exports often drop terminated employees: the roster remembers the status."""
    hr = "email,status,status_start\nada@example.com,terminated,2026-01-31\n"
    ingest_snapshot(make_snapshot(tmp_path / "1", {"hr.csv": hr}), con, "r1")
    ingest_snapshot(make_snapshot(tmp_path / "2", {"hr.csv": "email,status\n"}), con, "r2")
    ada = roster(con)["R1"]
    assert (ada["last_hr_status"], str(ada["last_hr_status_start"])) == ("terminated", "2026-01-31")
    assert ada["missing_hr_exports"] == 1
