"""The synthetic org generator's files: contract shape, determinism, formats, the as-of
and the optional inbound stories."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from switchboard.config import load_config
from switchboard.contracts import load_contracts
from switchboard.generate import ENTITIES, OrgSummary, generate_org

from .conftest import one, read, ts


def test_every_entity_is_written_with_exactly_the_contract_columns(org: OrgSummary) -> None:
    contracts = load_contracts()
    assert set(org.files) == set(ENTITIES) == set(contracts)
    for entity, path in org.files.items():
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert header.split(",") == contracts[entity].column_names, entity


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_gives_identical_bytes_and_another_seed_does_not(
    tmp_path: Path, file_format: str
) -> None:
    first = generate_org(tmp_path / "a", accounts=600, file_format=file_format)  # type: ignore[arg-type]
    second = generate_org(tmp_path / "b", accounts=600, file_format=file_format)  # type: ignore[arg-type]
    other = generate_org(tmp_path / "c", accounts=600, seed=8, file_format=file_format)  # type: ignore[arg-type]
    for entity in ENTITIES:
        assert first.files[entity].read_bytes() == second.files[entity].read_bytes(), entity
    for entity in ("accounts", "leads", "opportunities", "reps", "territory_members"):
        assert first.files[entity].read_bytes() != other.files[entity].read_bytes(), entity


def test_counts_follow_the_arguments_and_the_defaults(org: OrgSummary, tmp_path: Path) -> None:
    assert org.counts["accounts"] == 2000
    assert org.counts["leads"] == 200  # accounts // 10
    assert org.counts["reps"] == 24  # max(24, accounts // 1000)
    assert org.counts["territories"] == 15  # max(15, reps // 5)
    assert org.counts["hr"] == 24 + 1  # one HR row per rep, plus the former employee
    custom = generate_org(tmp_path, accounts=1000, leads=77, reps=40, territories=23)
    assert {k: custom.counts[k] for k in ("accounts", "leads", "reps", "territories")} == {
        "accounts": 1000,
        "leads": 77,
        "reps": 40,
        "territories": 23,
    }
    for entity in ENTITIES:
        assert read(custom, entity).height == custom.counts[entity]


def test_text_formats_follow_the_snapshot_contract(tables: dict[str, pl.DataFrame]) -> None:
    iso = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
    for entity, column in (
        ("accounts", "created_at"),
        ("leads", "created_at"),
        ("opportunities", "created_at"),
        ("activities", "occurred_at"),
        ("hr", "updated_at"),
    ):
        values = tables[entity][column].drop_nulls()
        bad = values.filter(~values.str.contains(iso)).to_list()
        assert bad in ([], ["not-a-date"]), (entity, column, bad[:3])
    assert set(tables["reps"]["is_active"].unique()) == {"true", "false"}
    assert set(tables["opportunities"]["is_closed"].unique()) == {"true", "false"}
    skills = tables["reps"]["skills"].drop_nulls()
    assert skills.str.contains(";").any()  # list cells are ;-separated
    assert tables["hr"]["status_start"].drop_nulls().str.contains(r"^\d{4}-\d{2}-\d{2}$").all()


def test_parquet_holds_contract_columns_and_types(tmp_path: Path) -> None:
    summary = generate_org(tmp_path, accounts=600, file_format="parquet")
    for entity, contract in load_contracts().items():
        frame = pl.read_parquet(summary.files[entity])
        assert frame.schema == pl.Schema(contract.polars_schema), entity
        assert frame.height == summary.counts[entity]
    accounts = pl.read_parquet(summary.files["accounts"])
    # Typed stand-ins for the text-only bad values: negative employees, missing created_at.
    assert accounts.filter(pl.col("employees") < 0).height == 1
    assert accounts["created_at"].null_count() == 1
    assert accounts.filter(pl.col("tier") == 7).height == 1


def test_writing_one_format_removes_the_other(tmp_path: Path) -> None:
    generate_org(tmp_path, accounts=300, file_format="parquet")
    generate_org(tmp_path, accounts=300, file_format="csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{e}.csv" for e in ENTITIES)


def test_progress_is_reported_once_per_entity(tmp_path: Path) -> None:
    seen: list[str] = []
    generate_org(tmp_path, accounts=300, progress=seen.append)
    assert [line.split(":")[0] for line in seen] == list(ENTITIES)


def test_arguments_that_cannot_make_an_org_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="accounts must be at least"):
        generate_org(tmp_path, accounts=50)
    with pytest.raises(ValueError, match="territories must be at least 15"):
        generate_org(tmp_path, accounts=2000, territories=10)
    with pytest.raises(ValueError, match="cannot staff"):
        generate_org(tmp_path, accounts=2000, reps=24, territories=100)
    with pytest.raises(ValueError, match="file_format"):
        generate_org(tmp_path, accounts=2000, file_format="xlsx")  # type: ignore[arg-type]


def test_as_of_moves_every_timestamp(tmp_path: Path) -> None:
    later = datetime(2027, 3, 1, 12, 0, 0)
    summary = generate_org(tmp_path, accounts=300, as_of=later, bad_rows=False)
    lead = one(read(summary, "leads"), "lead_id", "LEAD-ACME-CA")
    assert lead["created_at"] == (later - timedelta(minutes=30)).isoformat()
    created = read(summary, "accounts").select(ts("created_at")).to_series()
    assert (created < later).all() and (created > later - timedelta(days=3 * 366)).all()
    assert re.search(r"2027", summary.files["hr"].read_text())


def test_the_demos_inbound_stories_are_added_only_when_asked(
    org: OrgSummary, tmp_path: Path
) -> None:
    """Working-hours reps, a skills desk with a lead nobody can take and a round-robin
    team, in territories only the story leads match (no country, industries of their own)."""
    demo = generate_org(tmp_path, accounts=300, inbound_stories=True)
    reps = read(demo, "reps").filter(pl.col("rep_id").is_in(["REP-BERLIN", "REP-NEWYORK"]))
    assert reps.select("timezone", "working_hours").rows() == [
        ("Europe/Berlin", "Mon-Fri 09:00-17:30"),
        ("America/New_York", "Mon-Fri 09:00-17:30"),
    ]
    leads = read(demo, "leads").filter(pl.col("lead_id").str.starts_with("LEAD-SKILL"))
    assert leads.select("lead_id", "required_skills", "country").rows() == [
        ("LEAD-SKILL-DE", "de;security", None),
        ("LEAD-SKILL-JA", "ja", None),
    ]
    territories = read(demo, "territories").filter(pl.col("method").is_not_null())
    assert territories.select("territory_id", "method").rows() == [
        ("T-INBOUND-HOURS", "workload"),
        ("T-INBOUND-SKILLS", "workload"),
        ("T-INBOUND-RR", "round_robin"),
        ("T-INBOUND-SLA", "workload"),
    ]
    # The SLA story: a demo request (the shipped routing.yml's SLA source) for a desk of
    # two who report to Morgan Eastman, and no activity on it.
    sla_lead = read(demo, "leads").filter(pl.col("lead_id") == "LEAD-SLA")
    assert sla_lead.select("source", "industry").rows() == [("Demo Request", "Fusion Energy")]
    assert load_config().sla is not None and load_config().sla.source_keys == ["demo request"]
    desk = read(demo, "reps").filter(pl.col("rep_id").str.starts_with("REP-SLA"))
    assert desk.select("rep_id", "manager_id").rows() == [
        ("REP-SLA-1", "REP-MGR-EAST"),
        ("REP-SLA-2", "REP-MGR-EAST"),
    ]
    assert "LEAD-SLA" not in (read(demo, "activities")["lead_id"].drop_nulls().to_list())
    plain_sources = set(read(org, "leads")["source"].drop_nulls())
    assert "Demo Request" not in plain_sources  # the SLA re-routes no generated lead
    story_industries = set(territories["industries"].to_list())
    assert not story_industries & set(read(org, "accounts")["industry"].drop_nulls())
    hr = read(demo, "hr")
    assert set(reps["email"]) <= set(hr["email"])
    plain = read(org, "reps")
    assert plain["timezone"].is_null().all() and "REP-BERLIN" not in plain["rep_id"]
