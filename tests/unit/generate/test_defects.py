"""The generator's bad rows: once each, never on a story record, and switched off on request."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from switchboard.generate import generate_org

from .conftest import read, ts


def test_bad_rows_are_there_once_each_and_never_on_story_records(
    tables: dict[str, pl.DataFrame],
) -> None:
    accounts = tables["accounts"]
    assert accounts["account_id"].null_count() == 1
    assert accounts.filter(pl.col("employees") == "lots").height == 1
    assert accounts.filter(pl.col("created_at") == "not-a-date").height == 1
    assert accounts.filter(pl.col("tier") == "7").height == 1
    ids = accounts["account_id"].drop_nulls()
    dup = ids.filter(ids.is_duplicated()).unique().to_list()
    assert len(dup) == 1 and not dup[0].startswith(("ACC-ACME", "ACC-GLOBEX"))
    copies = accounts.filter(pl.col("account_id") == dup[0])
    assert copies["name"].n_unique() == 2
    assert copies.drop("name").n_unique() == 1  # a copy under another name
    assert tables["leads"].filter(pl.col("email") == "not-an-email").height == 1
    assert tables["hr"].filter(pl.col("status") == "retired").height == 1
    assert set(tables["hr"]["status"]) == {"active", "leave", "terminated", "retired"}
    story = accounts.filter(pl.col("account_id").str.contains("ACME|GLOBEX"))
    assert story.height == 3 and story["employees"].str.contains(r"^\d+$").all()


def test_bad_rows_can_be_switched_off(tmp_path: Path) -> None:
    summary = generate_org(tmp_path, accounts=600, bad_rows=False)
    accounts = read(summary, "accounts")
    assert accounts["account_id"].null_count() == 0 and accounts["account_id"].is_unique().all()
    assert accounts["employees"].str.contains(r"^\d+$").all()
    assert accounts.select(ts("created_at")).to_series().null_count() == 0
    assert set(accounts["tier"]) == {"1", "2", "3"}
    assert read(summary, "leads")["email"].str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").all()
    hr = read(summary, "hr")
    assert hr.height == summary.counts["reps"]
    assert set(hr["status"]) <= {"active", "leave", "terminated"}
    assert summary.bad_rows == {}
