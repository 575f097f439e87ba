"""Change sets: what a full load added, changed and dropped, kept with the load; when the
next build may be incremental; the raw check on the changed rows only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard import changes, publish
from switchboard.contracts import load_contracts
from switchboard.ingest import ingest_snapshot
from switchboard.quality import StageCheckFailed, check_raw

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken_snapshot"
CONTRACTS = load_contracts()


def counts(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, tuple[int, int, int, int]]:
    rows = con.execute(
        "select entity, new_rows, changed_rows, gone_rows, unchanged_rows "
        "from raw.change_counts where run_id = ?",
        [run_id],
    ).fetchall()
    return {entity: tuple(rest) for entity, *rest in rows}  # type: ignore[misc]


def record_changes(con: duckdb.DuckDBPyConnection, entity: str) -> dict[str, str]:
    rows = con.execute(
        "select record_id, change from raw.changes where entity = ?", [entity]
    ).fetchall()
    return dict(rows)


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    folder = tmp_path / "snap"
    shutil.copytree(BROKEN, folder)
    return folder


def edit(
    folder: Path,
    entity: str,
    change: pl.Expr | None = None,
    keep: pl.Expr | None = None,
    add: pl.DataFrame | None = None,
) -> None:
    frame = pl.read_csv(folder / f"{entity}.csv", infer_schema=False)
    if change is not None:
        frame = frame.with_columns(change)
    if keep is not None:
        frame = frame.filter(keep)
    if add is not None:
        frame = pl.concat([frame, add])
    frame.write_csv(folder / f"{entity}.csv")


def test_a_first_load_is_all_new_and_has_no_base(snapshot: Path) -> None:
    con = duckdb.connect()
    report = ingest_snapshot(snapshot, con, "r1")
    first = counts(con, "r1")
    assert first["accounts"] == (report["accounts"].loaded_rows, 0, 0, 0)
    assert con.execute("select count(distinct base_run_id) from raw.change_counts").fetchone() == (
        0,
    )
    # No per-record rows: the first build is a full one, and the raw check reads it all.
    assert report.base_run_id is None
    assert con.execute("select count(*) from raw.changes").fetchone() == (0,)


def test_the_next_load_names_new_changed_and_gone_records(snapshot: Path) -> None:
    con = duckdb.connect()
    ingest_snapshot(snapshot, con, "r1")
    edit(
        snapshot,
        "accounts",
        change=pl.when(pl.col("account_id") == "A1")
        .then(pl.lit("Acme Corporation"))
        .otherwise("name")
        .alias("name"),
        keep=pl.col("account_id") != "A2",
        add=pl.read_csv(snapshot / "accounts.csv", infer_schema=False)
        .head(1)
        .with_columns(account_id=pl.lit("A-NEW")),
    )
    assert ingest_snapshot(snapshot, con, "r2").base_run_id == "r1"
    assert record_changes(con, "accounts") == {"A1": "changed", "A2": "gone", "A-NEW": "new"}
    new, changed, gone, unchanged = counts(con, "r2")["accounts"]
    assert (new, changed, gone) == (1, 1, 1)
    assert unchanged == con.execute("select count(*) - 2 from raw.accounts").fetchone()[0]
    assert con.execute("select distinct base_run_id from raw.changes").fetchall() == [("r1",)]
    # Entities that did not change count every row unchanged.
    assert counts(con, "r2")["reps"][:3] == (0, 0, 0)


def test_the_same_rows_in_another_order_or_format_are_no_change(snapshot: Path) -> None:
    con = duckdb.connect()
    ingest_snapshot(snapshot, con, "r1")
    frame = pl.read_csv(snapshot / "territories.csv", infer_schema=False)
    frame.reverse().write_csv(snapshot / "territories.csv")
    (snapshot / "hr.csv").write_text((snapshot / "hr.csv").read_text().replace("\n", "\r\n"))
    ingest_snapshot(snapshot, con, "r2")
    assert {e: c[:3] for e, c in counts(con, "r2").items()} == {
        e: (0, 0, 0) for e in counts(con, "r2")
    }
    assert con.execute("select count(*) from raw.changes").fetchone() == (0,)


def test_rows_without_a_key_are_compared_by_their_hash() -> None:
    contract = CONTRACTS["activities"]
    assert not contract.key_columns
    frame = pl.DataFrame(schema=contract.polars_schema)
    con = duckdb.connect()
    first = changes.change_set(con, {"activities": frame}, CONTRACTS, "r1")
    assert first.counts.row(0, named=True)["new_rows"] == 0


def test_hashes_of_another_polars_version_are_not_compared(snapshot: Path) -> None:
    con = duckdb.connect()
    ingest_snapshot(snapshot, con, "r1")
    con.execute("update raw.row_hashes set hash_version = 'polars-0.0'")
    ingest_snapshot(snapshot, con, "r2")
    new, changed, gone, unchanged = counts(con, "r2")["accounts"]
    assert changed == gone == unchanged == 0 and new > 0
    assert con.execute(
        "select count(*) from raw.change_counts where run_id = 'r2' and base_run_id is not null"
    ).fetchone() == (0,)


def built(con: duckdb.DuckDBPyConnection, raw_run_id: str | None, settings: str) -> None:
    publish.ensure_tables(con)
    con.execute("delete from routing.builds")
    con.execute(
        "insert into routing.builds by name select 'k' as build_key, "
        "now() as built_at, ? as raw_run_id, ? as settings_key",
        [raw_run_id, settings],
    )


def test_a_build_is_incremental_only_from_the_base_load_under_the_same_settings(
    snapshot: Path,
) -> None:
    con = duckdb.connect()
    assert changes.incremental_reason(con, "r1", "s") == (False, "first build of this warehouse")
    ingest_snapshot(snapshot, con, "r1")
    built(con, "r1", "s")
    assert changes.incremental_reason(con, "r1", "s") == (
        False,
        "no earlier export to compare with",
    )
    edit(snapshot, "accounts", keep=pl.col("account_id") != "A2")
    ingest_snapshot(snapshot, con, "r2")
    incremental, why = changes.incremental_reason(con, "r2", "s")
    assert incremental and why.startswith("1 of ")
    assert changes.incremental_reason(con, "r2", "other") == (
        False,
        "settings or the dbt project changed since the last build",
    )
    built(con, None, "s")  # a build that did not finish
    assert changes.incremental_reason(con, "r2", "s") == (
        False,
        "the marts were not built from the previous export",
    )

    built(con, "r2", "s")
    edit(
        snapshot,
        "territories",
        change=pl.col("priority").cast(pl.Int64).add(1).cast(pl.String).alias("priority"),
    )
    ingest_snapshot(snapshot, con, "r3")
    assert changes.incremental_reason(con, "r3", "s") == (False, "territories changed")

    built(con, "r3", "s")
    edit(snapshot, "accounts", change=(pl.col("name") + " x").alias("name"))
    ingest_snapshot(snapshot, con, "r4")
    incremental, why = changes.incremental_reason(con, "r4", "s")
    assert not incremental and "records changed" in why


def test_settings_key_ignores_the_as_of_only() -> None:
    key = changes.settings_key({"as_of": "2026-01-01", "high_water": 100}, "p")
    assert key == changes.settings_key({"as_of": "2026-06-01", "high_water": 100}, "p")
    assert key != changes.settings_key({"as_of": "2026-01-01", "high_water": 90}, "p")
    assert key != changes.settings_key({"as_of": "2026-01-01", "high_water": 100}, "q")


def test_the_raw_check_can_look_at_the_changed_rows_only(snapshot: Path) -> None:
    con = duckdb.connect()
    ingest_snapshot(snapshot, con, "r1")
    edit(
        snapshot,
        "hr",
        change=pl.when(pl.col("email") == "ada@example.com")
        .then(pl.lit("2024-02-02"))
        .otherwise("updated_at")
        .alias("updated_at"),
    )
    ingest_snapshot(snapshot, con, "r2")
    assert record_changes(con, "hr") == {"ada@example.com": "changed"}
    # A broken row the load did not change is not looked at again ...
    con.execute("update raw.hr set status = 'retired' where email <> 'ada@example.com'")
    check_raw(con, CONTRACTS, changed_only=True)
    # ... a changed one is.
    con.execute("update raw.hr set status = 'retired' where email = 'ada@example.com'")
    with pytest.raises(StageCheckFailed, match="'retired'"):
        check_raw(con, CONTRACTS, changed_only=True)


@pytest.mark.parametrize(
    ("changes", "on_changes", "scoped"),
    [
        (True, True, True),  # a later run's incremental build: what it changed
        (True, False, False),  # the day's first run: everything
    ],
)
def test_a_later_incremental_run_tests_the_scoped_marts_on_the_records_in_scope(
    tmp_path: Path, changes: bool, on_changes: bool, scoped: bool
) -> None:
    """dbt wraps every generic test's model in get_where_subquery (macros/changes.sql):
    the tests of dim_accounts, dim_leads and fct_territory_matches read int_records_in_scope
    only when both vars say so; a whole-table reconciliation and the tests of other marts
    never do."""
    from datetime import datetime

    from switchboard import dbt
    from switchboard.config import load_config

    variables = {
        **dbt.dbt_vars(datetime(2026, 11, 23, 9), load_config()),
        "changes": changes,
        "data_tests_on_changes": on_changes,
    }
    target = tmp_path / "target"
    dbt._invoke(
        ["compile"],
        tmp_path / "w.duckdb",
        [
            "--vars",
            json.dumps(variables),
            "--select",
            "dim_accounts,resource_type:test",
            "dim_reps,resource_type:test",
        ],
        target,
        tmp_path / "logs",
    )
    compiled = {path.stem: path.read_text() for path in target.rglob("compiled/**/*.sql")}
    accounts = [
        sql
        for name, sql in compiled.items()
        if "dim_accounts" in name and not name.startswith("row_count_matches")
    ]
    # a whole-table reconciliation, and the tests of marts that are never scoped
    whole = [
        sql
        for name, sql in compiled.items()
        if "dim_reps" in name or name.startswith("row_count_matches_dim_accounts")
    ]
    assert len(accounts) >= 3 and len(whole) >= 2
    assert all(("int_records_in_scope" in sql) == scoped for sql in accounts)
    assert not any("int_records_in_scope" in sql for sql in whole)
