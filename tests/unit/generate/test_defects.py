"""The generator's bad rows (once each, never on a story record, switched off on request)
and the activity density knob, which leaves every other file as it was."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from switchboard.generate import ENTITIES, generate_org

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


def test_activities_per_account_fills_every_owned_account_and_leaves_the_rest_alone(
    tmp_path: Path,
) -> None:
    default = generate_org(tmp_path / "default", accounts=2000)
    dense = generate_org(tmp_path / "dense", accounts=2000, activities_per_account=10)
    for entity in ENTITIES:
        if entity != "activities":
            assert default.files[entity].read_bytes() == dense.files[entity].read_bytes(), entity
    assert default.counts["activities"] < 2000  # ~20% of the owned accounts, 2.5 each
    assert 19_000 < dense.counts["activities"] < 21_000  # 10 per account of the book
    activities = read(dense, "activities")
    accounts = read(dense, "accounts")
    owned = accounts.filter(pl.col("owner_id").is_not_null())["account_id"].drop_nulls()
    touched = activities["account_id"].unique()
    assert touched.is_in(owned.implode()).all()
    assert touched.len() > 0.99 * owned.n_unique()
    with pytest.raises(ValueError, match="activities_per_account"):
        generate_org(tmp_path / "bad", accounts=300, activities_per_account=-1)
