"""A small hand-built org for the dbt project's tests: its raw tables on two consecutive
as-of days, the helpers that write them and run a build, and `org`: that org built on
both days (module-scoped, so tests/unit/dbt_project/test_models.py builds it once)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
import yaml

from switchboard import dbt, reference, warehouse
from switchboard.config import RoutingConfig
from switchboard.config.workload import Workload, WorkloadWeights
from switchboard.engine.schema import DECISIONS, RUNS
from tests.raw_tables import raw_frame, write_raw_tables

DAY_1 = datetime(2026, 3, 9, 12, 0)


DAY_2 = datetime(2026, 3, 10, 12, 0)


CREATED = datetime(2025, 1, 1)


# Activity density counts in the index here (routing.yml's default weight is 0).
CONFIG = RoutingConfig(workload=Workload(weights=WorkloadWeights(activity_density=0.5)))


def write_raw(path: Path, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
    """Replace every raw table (absent entities empty), load reference and routing tables."""
    con = warehouse.connect(path)
    try:
        write_raw_tables(con, tables)
        reference.load_reference_tables(con)
        warehouse.ensure_routing_tables(con)
    finally:
        con.close()


def run_build(path: Path, as_of: datetime, **kwargs: Any) -> dbt.DbtResult:
    return dbt.build(
        path,
        as_of,
        CONFIG,
        target_dir=path.parent / "target",
        log_dir=path.parent / "logs",
        **kwargs,
    )


def account(account_id: str, name: str, **fields: Any) -> dict[str, Any]:
    return {"account_id": account_id, "name": name, "created_at": CREATED, **fields}


def rep(rep_id: str, email: str, role: str = "AE", **fields: Any) -> dict[str, Any]:
    return {"rep_id": rep_id, "name": rep_id.title(), "email": email, "role": role, **fields}


ACCOUNTS = [
    account(
        "A-ACME",
        "Acme, Inc.",
        domain="https://www.shop.acme.co.uk/about",
        country="United Kingdom",
        state="England",
        postal_code="ec1a 1bb",
        industry=" Software ",
        employees=5000,
        annual_revenue=5e8,
        tier=1,
        owner_id="R-ANN",
    ),
    account(
        "A-ACME-US",
        "Acme Corp",
        domain="info@acme.com",
        country="USA",
        state="NY",
        parent_account_id="A-ACME",
        employees=800,
        tier=1,
        owner_id="R-BEN",
    ),
    account(
        "A-ACME-US-EAST",
        "Acme East",
        country="US",
        state="us-ny",
        parent_account_id="A-ACME-US",
        tier=2,
        owner_id="R-EVE",
    ),
    account(
        "A-GLOBEX",
        "Globex GmbH",
        domain="www.globex.de",
        country="deu",
        state="DE-BY",
        tier=2,
        owner_id="R-CARL",
    ),
    account(
        "A-GLOBEX-SUB",
        "Globex Corporation",
        domain="http://globex.com:8080/",
        country="Germany",
        parent_account_id="A-GLOBEX",
        tier=3,
        owner_id="R-DEACT",
    ),
    account(
        "A-INITECH",
        "Initech, LLC",
        domain="INITECH.COM",
        country="us",
        state="california",
        postal_code="94105",
        employees=120,
        tier=3,
        created_at=datetime(2026, 3, 1, 8, 0),
    ),
    account("A-CYCLE-1", "Loop One", parent_account_id="A-CYCLE-2", owner_id="R-GHOST"),
    account("A-CYCLE-2", "Loop Two", parent_account_id="A-CYCLE-1", owner_id="R-ROLE"),
    account("A-HOOLI", "Hooli", domain="hooli.xyz", country="US", owner_id="R-NOHR"),
    account("A-OUT", "Outre", country="France", owner_id="R-ANN"),
    account("A-NAMED", "Nommé SA", country="FR", owner_id="R-ANN"),
]


LEADS = [
    {"lead_id": "L-DOMAIN", "email": "Jane@Acme.co.uk", "country": "US", "state": "CA"},
    {"lead_id": "L-PERSONAL", "email": "bob@gmail.com", "company": "Initech LLC"},
    {"lead_id": "L-LINK", "email": "x@newco.io", "account_id": "A-GLOBEX"},
    {"lead_id": "L-TIE", "email": "sue@hotmail.com", "company": "ACME"},
    {"lead_id": "L-NONE", "email": "zed@yahoo.co.uk", "company": "Unknown Co"},
    {"lead_id": "L-WEB", "email": "pat@gmail.com", "domain": "https://www.initech.com/x"},
]


LEADS = [{"created_at": DAY_1 - timedelta(hours=2), **lead} for lead in LEADS]


REPS = [
    rep("R-ANN", "ann@example.com", capacity=2),
    rep("R-BEN", "ben@example.com"),
    rep("R-CARL", "carl@example.com"),
    rep("R-DEACT", "deact@example.com", is_active=False),
    rep("R-ROLE", "role@example.com"),
    rep("R-NOHR", "nohr@example.com"),
    rep("R-FUTURE", "future@example.com", role="Account Executive"),
    rep("R-DAN", "Dan@Example.com"),
    rep("R-EVE", "eve@example.com", role="sdr"),
]


HR = [
    {"email": "ann@example.com", "status": "active"},
    {"email": "ben@example.com", "status": "terminated", "status_start": date(2026, 3, 1)},
    {"email": "carl@example.com", "status": "leave", "status_start": date(2026, 3, 1)},
    {"email": "deact@example.com", "status": "active"},
    {
        "email": "role@example.com",
        "status": "active",
        "role": "Sales Manager",
        "updated_at": datetime(2026, 2, 15, 8, 0),
    },
    {"email": "future@example.com", "status": "terminated", "status_start": date(2026, 4, 1)},
    {"email": "DAN@example.COM", "status": "active"},
    {
        "email": "eve@example.com",
        "status": "leave",
        "status_start": date(2026, 1, 1),
        "status_end": date(2026, 3, 1),
    },
]


TERRITORIES = [
    {
        "territory_id": "T-UK",
        "name": "UK",
        "priority": 1,
        "segment": "Enterprise",
        "countries": ["United Kingdom"],
    },
    {
        # same priority as T-UK and overlapping it: a coverage warning
        "territory_id": "T-LONDON",
        "name": "London",
        "priority": 1,
        "segment": "Strategic",
        "countries": ["GB"],
        "postal_prefixes": ["EC"],
    },
    {
        "territory_id": "T-WEST",
        "name": "US West",
        "priority": 2,
        "countries": ["US"],
        "states": ["California"],
    },
    {
        "territory_id": "T-EAST",
        "name": "US East",
        "priority": 2,
        "countries": ["USA"],
        "states": ["NY"],
    },
    {"territory_id": "T-FR", "name": "France", "priority": 3, "countries": ["France"]},
    {
        "territory_id": "T-SOFTWARE",
        "name": "Software Enterprise",
        "priority": 5,
        "industries": ["software"],
        "min_employees": 1000,
    },
    {"territory_id": "T-BAY", "name": "Bay Area", "priority": 4, "postal_prefixes": ["941"]},
    {"territory_id": "T-ALL", "name": "Everything else", "priority": 99},
]


MEMBERS = [
    {"territory_id": "T-UK", "rep_id": "R-ANN", "is_primary": True},
    {"territory_id": "T-WEST", "rep_id": "R-FUTURE"},
    {"territory_id": "T-EAST", "rep_id": "R-BEN", "weight": 2.0},
    {"territory_id": "T-FR", "rep_id": "R-DAN"},
]


OPPORTUNITIES = [
    {
        "opportunity_id": "O-US",
        "account_id": "A-ACME-US",
        "owner_id": "R-BEN",
        "stage": "Proposal",
        "is_closed": False,
        "amount": 180_000.0,
    },
    {
        "opportunity_id": "O-WON",
        "account_id": "A-ACME",
        "owner_id": "R-ANN",
        "stage": "Closed Won",
        "is_closed": True,
        "amount": 10.0,
    },
    {
        "opportunity_id": "O-UK",
        "account_id": "A-ACME",
        "owner_id": "R-ANN",
        "stage": "Discovery",
        "is_closed": False,
        "amount": 50_000.0,
    },
]


NAMED = [{"account_id": "A-NAMED", "owner_id": "R-ANN", "tier": 1, "program": "Strategic"}]


ACTIVITIES = [
    {"account_id": "A-ACME", "rep_id": "R-ANN", "occurred_at": DAY_1 - timedelta(days=d)}
    for d in (1, 2, 3, 4, 5, 6)
] + [{"account_id": "A-ACME", "rep_id": "R-ANN", "occurred_at": DAY_1 - timedelta(days=40)}]


ORG_DAY_1: dict[str, list[dict[str, Any]]] = {
    "accounts": ACCOUNTS,
    "leads": LEADS,
    "reps": REPS,
    "hr": HR,
    "territories": TERRITORIES,
    "territory_members": MEMBERS,
    "opportunities": OPPORTUNITIES,
    "named_accounts": NAMED,
    "activities": ACTIVITIES,
}


def day_2_accounts() -> list[dict[str, Any]]:
    """Day 2: Initech gets an owner, Acme US moves to Ann, Hooli leaves the CRM."""
    owners = {"A-INITECH": "R-DAN", "A-ACME-US": "R-ANN"}
    return [
        {**row, "owner_id": owners.get(row["account_id"], row.get("owner_id"))}
        for row in ACCOUNTS
        if row["account_id"] != "A-HOOLI"
    ]


def decision(
    record_id: str, owner_id: str, decided_at: datetime, run_id: str = "earlier-run"
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "decided_at": decided_at,
        "record_type": "lead",
        "record_id": record_id,
        "owner_id": owner_id,
        "rule": "territory",
        "conflict": False,
        "candidates": [],
        "rules_version": "test",
        "latency_seconds": 1.0,
    }


@dataclass(frozen=True)
class Org:
    path: Path
    day_1: dbt.DbtResult
    day_2: dbt.DbtResult
    marts_day_1: dict[str, pl.DataFrame]


MARTS = (
    "dim_accounts",
    "dim_leads",
    "dim_reps",
    "dim_named_accounts",
    "dim_territory_members",
    "fct_open_opportunities",
    "fct_territory_matches",
    "fct_rep_workload",
    "fct_ownership_gaps",
)


def read_marts(path: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name: con.sql(f"select * from marts.{name}").pl() for name in MARTS}
    finally:
        con.close()


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> Org:
    path = tmp_path_factory.mktemp("org") / "warehouse.duckdb"
    write_raw(path, ORG_DAY_1)
    con = warehouse.connect(path)
    decisions = pl.DataFrame(
        [
            decision("L-OLD-1", "R-ANN", DAY_1 - timedelta(days=1)),
            decision("L-OLD-2", "R-ANN", DAY_1 - timedelta(days=2)),
            decision("L-OLD-2", "R-ANN", DAY_1 - timedelta(days=2, hours=1), "earlier-run-2"),
            decision("L-OLDER", "R-ANN", DAY_1 - timedelta(days=8)),
        ],
        schema=DECISIONS,
        orient="row",
    )
    warehouse.write_table(con, "routing.decisions", decisions, mode="append")
    runs = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "mode": "hourly",
                "as_of": DAY_1 - timedelta(days=2),
                "status": "published",
            }
            for run_id in ("earlier-run", "earlier-run-2")
        ],
        schema=RUNS,
    )
    warehouse.write_table(con, "routing.runs", runs, mode="append")
    con.close()

    day_1 = run_build(path, DAY_1)
    marts_day_1 = read_marts(path)

    con = warehouse.connect(path)
    warehouse.write_table(con, "raw.accounts", raw_frame("accounts", day_2_accounts()))
    con.close()
    # dbt's unit tests check fixed rows, whatever the warehouse holds: day 1 ran them.
    day_2 = run_build(path, DAY_2, exclude=dbt.DEVELOPMENT_ONLY)
    return Org(path=path, day_1=day_1, day_2=day_2, marts_day_1=marts_day_1)


@pytest.fixture(scope="module")
def day_1(org: Org) -> dict[str, pl.DataFrame]:
    return org.marts_day_1


@pytest.fixture
def con(org: Org) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(org.path), read_only=True)
    yield connection
    connection.close()


def by_id(frame: pl.DataFrame, key: str) -> dict[str, dict[str, Any]]:
    return {row[key]: row for row in frame.iter_rows(named=True)}


def documented_columns() -> dict[str, list[str]]:
    """Model (and snapshot) name -> documented column names, from the folders' yml files."""
    documented: dict[str, list[str]] = {}
    folders = ("models", "snapshots", "seeds", "macros")
    paths = [p for f in folders for p in (dbt.PROJECT_DIR / f).glob("**/_*.yml")]
    for path in paths:
        if path.name == "_sources.yml" or not path.is_file():
            continue
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        for kind in ("models", "snapshots"):
            for node in spec.get(kind, []):
                documented[node["name"]] = [c["name"] for c in node.get("columns", [])]
    return documented
