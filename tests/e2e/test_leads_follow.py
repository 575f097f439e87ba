"""A new account and leads from its domain in one export: the leads follow the account's
decision, in an hourly run and in an arrivals pass (docs/ARCHITECTURE.md, "Rule
hierarchy")."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from flows.arrivals import arrivals
from flows.hourly_routing import hourly_routing
from tests.e2e.conftest import AS_OF, copy_warehouse, q

pytestmark = pytest.mark.e2e

CREATED = (AS_OF + timedelta(minutes=1)).isoformat()

# Newco Robotics is a 5,000-employee company in California (NA-West Enterprise); its two
# leads write from New York and Texas, whose own territories are NA-East and NA-Central
# Enterprise. Farco is in Brazil, which no territory covers; its lead writes from
# California.
NEW_ACCOUNTS = [
    {
        "account_id": "ACC-NEWCO",
        "name": "Newco Robotics",
        "domain": "newco-robotics.com",
        "country": "US",
        "state": "CA",
        "postal_code": "94105",
        "industry": "Manufacturing",
        "employees": "5000",
        "annual_revenue": "900000000.0",
        "tier": "2",
    },
    {
        "account_id": "ACC-FARCO",
        "name": "Farco Industria",
        "domain": "farco.com",
        "country": "BR",
        "state": None,
        "postal_code": None,
        "industry": "Manufacturing",
        "employees": "3000",
        "annual_revenue": "400000000.0",
        "tier": "2",
    },
]
NEW_LEADS = [
    {
        "lead_id": "LEAD-NEWCO-1",
        "email": "ana.silva@newco-robotics.com",
        "company": "Newco Robotics",
        "domain": None,
        "country": "US",
        "state": "NY",
        "postal_code": "10001",
    },
    # Same company, written in other cases: e-mail and web domain match all the same.
    {
        "lead_id": "LEAD-NEWCO-2",
        "email": "Bo.Lee@NewCo-Robotics.COM",
        "company": "NEWCO ROBOTICS INC",
        "domain": "WWW.NewCo-Robotics.com",
        "country": "US",
        "state": "TX",
        "postal_code": "75201",
    },
    {
        "lead_id": "LEAD-FARCO-1",
        "email": "joao@FarCo.com",
        "company": "Farco",
        "domain": None,
        "country": "US",
        "state": "CA",
        "postal_code": "94105",
    },
]


def _append(path: Path, rows: list[dict[str, str | None]], **common: str | None) -> None:
    """Append rows (missing columns empty) to a snapshot CSV read as text."""
    existing = pl.read_csv(path, infer_schema=False)
    new = pl.DataFrame(
        [{**dict.fromkeys(existing.columns), **common, **row} for row in rows],
        schema=existing.schema,
    )
    pl.concat([existing, new]).write_csv(path)


def _export_with_newcos(org: Path, snap: Path) -> Path:
    """The org's export plus the two new accounts and their three leads, all unowned."""
    shutil.copytree(org, snap)
    _append(snap / "accounts.csv", NEW_ACCOUNTS, created_at=CREATED)
    _append(
        snap / "leads.csv",
        NEW_LEADS,
        created_at=CREATED,
        industry="Manufacturing",
        employees="5000",
        source="Web",
    )
    return snap


def _check_leads_followed(warehouse: Path, run_id: str) -> None:
    decisions = q(warehouse, "select * from routing.decisions where run_id = ?", [run_id])
    by_id = {row["record_id"]: row for row in decisions.to_dicts()}
    matched = q(
        warehouse,
        "select lead_id, matched_account_id, match_method "
        "from marts.dim_leads where lead_id like 'LEAD-%CO-%' order by lead_id",
    )
    assert matched.rows() == [
        ("LEAD-FARCO-1", "ACC-FARCO", "domain"),
        ("LEAD-NEWCO-1", "ACC-NEWCO", "domain"),
        ("LEAD-NEWCO-2", "ACC-NEWCO", "domain"),
    ]

    newco = by_id["ACC-NEWCO"]
    assert (newco["rule"], newco["territory_id"]) == ("territory", "T-NAW-ENT")
    (owner_name,) = q(
        warehouse, "select rep_name from marts.dim_reps where rep_id = ?", [newco["owner_id"]]
    )["rep_name"]
    for lead_id in ("LEAD-NEWCO-1", "LEAD-NEWCO-2"):
        lead = by_id[lead_id]
        assert (lead["rule"], lead["owner_id"], lead["queue"]) == (
            "account_owner",
            newco["owner_id"],
            None,
        ), lead
        assert lead["rationale"] == (
            "Lead follows account ACC-NEWCO (Newco Robotics, matched by domain), routed this "
            f"run by territory NA-West Enterprise to {owner_name}."
        )

    farco = by_id["ACC-FARCO"]
    assert (farco["rule"], farco["queue"]) == ("fallback_queue", "fallback-queue")
    lead = by_id["LEAD-FARCO-1"]
    assert (lead["rule"], lead["owner_id"], lead["queue"]) == (
        "account_owner",
        None,
        "fallback-queue",
    )
    assert lead["rationale"] == (
        "Lead follows account ACC-FARCO (Farco Industria, matched by domain), sent this run "
        "to catch-all queue fallback-queue, so the lead goes there too."
    )


def test_an_hourly_run_sends_the_new_accounts_leads_where_the_account_goes(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    wh = copy_warehouse(routed_org, tmp_path / "wh")
    snap = _export_with_newcos(org, tmp_path / "snap")
    summary = hourly_routing(
        snapshot=str(snap),
        warehouse=str(wh),
        outbox=str(tmp_path / "outbox"),
        as_of=(AS_OF + timedelta(hours=1)).isoformat(),
    )
    assert summary.status == "published"
    _check_leads_followed(wh, summary.run_id)


def test_an_arrivals_pass_sends_the_new_accounts_leads_where_the_account_goes(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    wh = copy_warehouse(routed_org, tmp_path / "wh")
    snap = _export_with_newcos(org, tmp_path / "snap")
    summary = arrivals(
        snapshot=str(snap),
        warehouse=str(wh),
        outbox=str(tmp_path / "outbox"),
        as_of=(AS_OF + timedelta(minutes=2)).isoformat(),
    )
    assert summary.status == "published"
    decided = q(
        wh, "select record_id from routing.decisions where run_id = ? order by 1", [summary.run_id]
    )
    assert decided["record_id"].to_list() == [
        "ACC-FARCO",
        "ACC-NEWCO",
        "LEAD-FARCO-1",
        "LEAD-NEWCO-1",
        "LEAD-NEWCO-2",
    ]
    _check_leads_followed(wh, summary.run_id)
