"""HubSpot- and Salesforce-report-shaped exports, read through their presets, route like
the native export of the same org."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl

from switchboard.config import DEFAULT_CONFIG_PATH
from switchboard.ingest.parse import normalise, parse_timestamp
from tests.e2e.conftest import AS_OF, q

HUBSPOT_HEADERS = {
    "account_id": "Record ID",
    "name": "Company name",
    "created_at": "Create Date",
    "domain": "Company Domain Name",
    "parent_account_id": "Parent Company",
    "country": "Country/Region",
    "state": "State/Region",
    "postal_code": "Postal Code",
    "industry": "Industry",
    "employees": "Number of Employees",
    "annual_revenue": "Annual Revenue",
    "owner_id": "Company owner",
}


def hubspot_accounts(org: Path, out: Path) -> None:
    """org's accounts.csv as HubSpot exports companies: its headers, US month/day/year
    dates, owners as e-mails (some upper-cased). Broken values stay broken."""
    accounts = pl.read_csv(org / "accounts.csv", infer_schema=False)
    reps = pl.read_csv(org / "reps.csv", infer_schema=False).select("rep_id", "email")
    us_date = parse_timestamp(normalise("created_at", "timestamp")).dt.strftime(
        "%-m/%-d/%Y %H:%M:%S"
    )
    email = (
        pl.when(pl.int_range(pl.len()) % 3 == 0)
        .then(pl.col("email").str.to_uppercase())
        .otherwise(pl.col("email"))
    )
    hubspot = (
        accounts.lazy()
        .join(reps.lazy(), left_on="owner_id", right_on="rep_id", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce(us_date, pl.col("created_at")).alias("created_at"),
            pl.coalesce(email, pl.col("owner_id")).alias("owner_id"),
        )
        .drop("email")
        .rename(HUBSPOT_HEADERS)
        .collect()
    )
    hubspot.write_csv(out / "accounts.csv")


def test_a_hubspot_export_routes_like_the_native_one(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    snapshot = tmp_path / "hubspot"
    shutil.copytree(org, snapshot)
    hubspot_accounts(org, snapshot)
    header, first = (snapshot / "accounts.csv").read_text().splitlines()[:2]
    assert header.startswith("Record ID,Company name,Create Date") and "/2024 " in first
    routes_like_the_native_run(snapshot, routed_org, tmp_path, mapping="hubspot")


SALESFORCE_REPORT_HEADERS = {
    "accounts": {
        "account_id": "Account ID",
        "name": "Account Name",
        "created_at": "Created Date",
        "domain": "Website",
        "parent_account_id": "Parent Account ID",
        "country": "Billing Country",
        "state": "Billing State/Province",
        "postal_code": "Billing Zip/Postal Code",
        "employees": "Employees",
        "annual_revenue": "Annual Revenue",
        "owner_id": "Account Owner ID",
    },
    "reps": {
        "rep_id": "User ID",
        "name": "Full Name",
        "email": "Email",
        "role": "Role",
        "manager_id": "Manager ID",
        "is_active": "Active",
    },
}


def salesforce_report(org: Path, out: Path) -> None:
    """org's accounts and reps as Salesforce report exports: field labels, US dates with
    12-hour times (to the minute when the seconds are zero)."""
    for entity, headers in SALESFORCE_REPORT_HEADERS.items():
        frame = pl.read_csv(org / f"{entity}.csv", infer_schema=False)
        if entity == "accounts":
            when = parse_timestamp(normalise("created_at", "timestamp"))
            us = (
                pl.when(when.dt.second() == 0)
                .then(when.dt.strftime("%-m/%-d/%Y %-I:%M %p"))
                .otherwise(when.dt.strftime("%-m/%-d/%Y %-I:%M:%S %p"))
            )
            frame = frame.with_columns(pl.coalesce(us, pl.col("created_at")).alias("created_at"))
        frame.rename(headers).write_csv(out / f"{entity}.csv")


def test_a_salesforce_report_export_routes_like_the_native_one(
    org: Path, routed_org: Path, tmp_path: Path
) -> None:
    snapshot = tmp_path / "report"
    shutil.copytree(org, snapshot)
    salesforce_report(org, snapshot)
    text = (snapshot / "accounts.csv").read_text()
    assert text.startswith("Account ID,Account Name,Created Date") and " AM," in text
    # Named in routing.yml this time rather than passed as the flow's mapping.
    config = tmp_path / "routing.yml"
    config.write_text(DEFAULT_CONFIG_PATH.read_text() + "\nmapping: salesforce-report\n")
    routes_like_the_native_run(snapshot, routed_org, tmp_path, config=config)


def routes_like_the_native_run(
    snapshot: Path,
    routed_org: Path,
    tmp_path: Path,
    mapping: str | None = None,
    config: Path | None = None,
) -> None:
    """`switchboard run hourly` on `snapshot` at AS_OF with `--mapping` or `--config`; the
    quarantine, every account's owner and every decision match routed_org's native run."""
    from typer.testing import CliRunner

    from switchboard.cli import app

    args = [
        "run",
        "hourly",
        "--snapshot",
        str(snapshot),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
        "--outbox",
        str(tmp_path / "outbox"),
        "--as-of",
        AS_OF.isoformat(),
    ]
    args += ["--mapping", mapping] if mapping else []
    args += ["--config", str(config)] if config else []
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output

    wh = tmp_path / "w.duckdb"
    quarantined = "select entity, row_number, expectation from raw.quarantine order by all"
    assert q(wh, quarantined).equals(q(routed_org, quarantined))
    owners = "select account_id, owner_id from marts.dim_accounts order by account_id"
    assert q(wh, owners).height == q(routed_org, owners).height > 700
    assert q(wh, owners).equals(q(routed_org, owners))
    decided = (
        "select record_type, record_id, owner_id, queue, rule from routing.decisions "
        "order by record_type, record_id"
    )
    assert q(wh, decided).height > 0
    assert q(wh, decided).equals(q(routed_org, decided))
