"""The dbt project end to end on a small hand-built warehouse.

One org is built twice, on consecutive as-of days with ownership changes in between, so
the marts, the incremental workload history and the ownership snapshot can all be checked
against numbers worked out by hand. dbt's own data and unit tests run inside each build.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
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

pytestmark = pytest.mark.dbt  # builds the dbt project: not in `make test-fast`

DAY_1 = datetime(2026, 3, 9, 12, 0)
DAY_2 = datetime(2026, 3, 10, 12, 0)
CREATED = datetime(2025, 1, 1)
# Activity density counts in the index here (routing.yml's default weight is 0).
CONFIG = RoutingConfig(workload=Workload(weights=WorkloadWeights(activity_density=0.5)))


# --------------------------------------------------------------------------- warehouse


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


# --------------------------------------------------------------------------- the builds


def test_builds_run_every_node_including_dbt_unit_tests(org: Org) -> None:
    assert org.day_1.count("unit_test") >= 9 and org.day_2.count("unit_test") == 0
    assert org.day_1.status_of("test_territory_matching_criteria") == "pass"
    assert org.day_1.status_of("test_workload_index_components_and_formula") == "pass"
    assert org.day_1.status_of("test_territory_fairness_arithmetic") == "pass"
    assert (
        org.day_1.status_of("test_rep_available_days_count_hr_dates_and_observed_unavailability")
        == "pass"
    )
    for result in (org.day_1, org.day_2):
        statuses = {node.status for node in result.nodes}
        assert statuses <= {"success", "pass", "warn"}, statuses
        # warnings: the A-CYCLE-1 / A-CYCLE-2 hierarchy cycle, A-ACME in T-UK and T-LONDON
        # (both priority 1), and five territories nobody available works: T-LONDON, T-SOFTWARE,
        # T-BAY and T-ALL have no members, T-EAST only R-BEN (terminated). T-ALL matches every
        # record, so no record is left without a territory.
        warnings = {node.name: node.failures for node in result.warnings}
        assert warnings == {
            "expression_is_true_int_accounts_rolled_up_to_parents_not_has_cycle": 2,
            "warn_equal_priority_territory_overlaps": 1,
            "warn_territories_without_available_member": 5,
        }
        assert result.status_of("warn_records_matching_no_territory") == "pass"
        assert result.count("snapshot") == 2
    assert org.day_2.variables["as_of"] == "2026-03-10T12:00:00"
    assert org.day_2.variables["weight_activity_density"] == 0.5


def test_the_warehouse_is_free_after_a_build(org: Org) -> None:
    """Another process can open the file for writing as soon as build() returns."""
    script = "import duckdb, sys; duckdb.connect(sys.argv[1]).close()"
    done = subprocess.run(
        [sys.executable, "-c", script, str(org.path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_marts_land_in_their_own_schemas(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts', 'main')"
    ).fetchall()
    schemas = {schema for schema, _ in rows}
    assert schemas == {"staging", "intermediate", "marts"}
    names = {name for _, name in rows}
    assert {*MARTS, "snap_account_ownership", "stg_crm__accounts"} <= names


# --------------------------------------------------------------------------- normalisation


def test_countries_states_and_domains_are_normalised(day_1: dict[str, pl.DataFrame]) -> None:
    accounts = by_id(day_1["dim_accounts"], "account_id")
    expected = {
        "A-ACME": ("GB", "ENG", "acme.co.uk", "EC1A1BB"),
        "A-ACME-US": ("US", "NY", "acme.com", None),
        "A-ACME-US-EAST": ("US", "NY", None, None),
        "A-GLOBEX": ("DE", "BY", "globex.de", None),
        "A-GLOBEX-SUB": ("DE", None, "globex.com", None),
        "A-INITECH": ("US", "CA", "initech.com", "94105"),
        "A-HOOLI": ("US", None, "hooli.xyz", None),
        "A-OUT": ("FR", None, None, None),
        "A-CYCLE-1": (None, None, None, None),
    }
    for account_id, values in expected.items():
        row = accounts[account_id]
        actual = (row["country_code"], row["state_code"], row["domain"], row["postal_code"])
        assert actual == values, account_id
    assert accounts["A-ACME"]["industry"] == "Software"
    assert accounts["A-ACME"]["industry_key"] == "software"
    assert accounts["A-INITECH"]["company_name_key"] == "initech"


def test_lead_email_domains_and_personal_flags(day_1: dict[str, pl.DataFrame]) -> None:
    leads = by_id(day_1["dim_leads"], "lead_id")
    assert leads["L-DOMAIN"]["email"] == "jane@acme.co.uk"
    flags = {
        lead_id: (row["email_domain"], row["is_personal_email"]) for lead_id, row in leads.items()
    }
    assert flags == {
        "L-DOMAIN": ("acme.co.uk", False),
        "L-PERSONAL": ("gmail.com", True),
        "L-LINK": ("newco.io", False),
        "L-TIE": ("hotmail.com", True),
        "L-NONE": ("yahoo.co.uk", True),
        "L-WEB": ("gmail.com", True),
    }


def test_seed_lists_personal_providers(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute("select domain from reference.personal_email_domains").fetchall()
    domains = {row[0] for row in rows}
    assert len(domains) >= 300
    for provider in ("gmail.com", "googlemail.com", "outlook.com", "icloud.com", "proton.me"):
        assert provider in domains
    assert {"web.de", "mail.ru", "qq.com", "163.com", "yahoo.co.uk", "hotmail.fr"} <= domains


# --------------------------------------------------------------------------- matching


def test_leads_are_matched_to_accounts(day_1: dict[str, pl.DataFrame]) -> None:
    leads = by_id(day_1["dim_leads"], "lead_id")
    matches = {
        lead_id: (row["matched_account_id"], row["match_method"]) for lead_id, row in leads.items()
    }
    assert matches == {
        "L-DOMAIN": ("A-ACME", "domain"),
        "L-PERSONAL": ("A-INITECH", "company_name"),  # personal e-mail: by company name
        "L-LINK": ("A-GLOBEX", "crm_link"),
        "L-TIE": ("A-ACME", "company_name"),  # Acme, Inc. and Acme Corp: the parent wins
        "L-NONE": (None, None),
        "L-WEB": ("A-INITECH", "domain"),  # personal e-mail but a company web domain
    }
    assert leads["L-TIE"]["match_candidate_count"] == 2
    assert leads["L-DOMAIN"]["matched_account_owner_id"] == "R-ANN"


def test_hierarchy_rolls_up_to_the_ultimate_parent_and_reports_cycles(
    day_1: dict[str, pl.DataFrame],
) -> None:
    accounts = by_id(day_1["dim_accounts"], "account_id")
    hierarchy = {
        account_id: (
            row["parent_account_id"],
            row["ultimate_parent_account_id"],
            row["hierarchy_depth"],
            row["has_hierarchy_cycle"],
        )
        for account_id, row in accounts.items()
    }
    assert hierarchy["A-ACME"] == (None, "A-ACME", 0, False)
    assert hierarchy["A-ACME-US"] == ("A-ACME", "A-ACME", 1, False)
    assert hierarchy["A-ACME-US-EAST"] == ("A-ACME-US", "A-ACME", 2, False)
    assert hierarchy["A-GLOBEX-SUB"] == ("A-GLOBEX", "A-GLOBEX", 1, False)
    assert hierarchy["A-CYCLE-1"] == ("A-CYCLE-2", None, 1, True)
    assert hierarchy["A-CYCLE-2"] == ("A-CYCLE-1", None, 1, True)


def test_cycle_paths_stop_before_repeating(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select account_id, hierarchy_path from intermediate.int_accounts_rolled_up_to_parents "
        "where has_cycle order by account_id"
    ).fetchall()
    assert rows == [
        ("A-CYCLE-1", ["A-CYCLE-1", "A-CYCLE-2"]),
        ("A-CYCLE-2", ["A-CYCLE-2", "A-CYCLE-1"]),
    ]


def test_territory_matches(day_1: dict[str, pl.DataFrame]) -> None:
    matches = day_1["fct_territory_matches"]
    found: dict[tuple[str, str, str], set[str]] = {}
    for row in matches.iter_rows(named=True):
        key = (row["record_type"], row["record_id"], row["match_source"])
        found.setdefault(key, set()).add(row["territory_id"])
    assert found[("account", "A-ACME", "record")] == {"T-UK", "T-LONDON", "T-SOFTWARE", "T-ALL"}
    assert found[("account", "A-ACME-US", "record")] == {"T-EAST", "T-ALL"}
    assert found[("account", "A-INITECH", "record")] == {"T-WEST", "T-BAY", "T-ALL"}
    assert found[("account", "A-OUT", "record")] == {"T-FR", "T-ALL"}
    assert found[("account", "A-CYCLE-1", "record")] == {"T-ALL"}
    # A lead matches on its own address and through its matched account (the Acme story).
    assert found[("lead", "L-DOMAIN", "record")] == {"T-WEST", "T-ALL"}
    assert found[("lead", "L-DOMAIN", "account")] == {"T-UK", "T-LONDON", "T-SOFTWARE", "T-ALL"}
    assert ("lead", "L-NONE", "account") not in found

    uk = matches.filter(pl.col("territory_id") == "T-UK").row(0, named=True)
    assert (uk["territory_name"], uk["priority"], uk["specificity"], uk["segment"]) == (
        "UK",
        1,
        1,
        "Enterprise",
    )
    software = matches.filter(pl.col("territory_id") == "T-SOFTWARE").row(0, named=True)
    assert software["specificity"] == 2
    accounts = by_id(day_1["dim_accounts"], "account_id")
    # T-LONDON: priority 1 like T-UK, and more specific
    assert accounts["A-ACME"]["segment"] == "Strategic"
    assert accounts["A-ACME"]["territory_match_count"] == 4


def test_open_pipeline(day_1: dict[str, pl.DataFrame]) -> None:
    open_ids = set(day_1["fct_open_opportunities"]["opportunity_id"])
    assert open_ids == {"O-US", "O-UK"}
    accounts = by_id(day_1["dim_accounts"], "account_id")
    assert accounts["A-ACME"]["has_open_pipeline"] is True
    assert accounts["A-ACME"]["open_pipeline_amount"] == 50_000.0
    assert accounts["A-GLOBEX"]["has_open_pipeline"] is False


# --------------------------------------------------------------------------- reps


def test_rep_availability(day_1: dict[str, pl.DataFrame]) -> None:
    reps = by_id(day_1["dim_reps"], "rep_id")
    availability = {
        rep_id: (row["availability"], row["is_valid_owner"], row["is_available"])
        for rep_id, row in reps.items()
    }
    assert availability == {
        "R-ANN": ("available", True, True),
        "R-BEN": ("terminated", False, False),
        "R-CARL": ("on_leave", True, False),
        "R-DEACT": ("deactivated", False, False),
        "R-ROLE": ("role_change", False, False),  # HR role Sales Manager overrides CRM's AE
        # Missing from HR in one export is not evidence of a departure: held, keeps the
        # book, takes nothing new (not_in_hr needs routing.yml's evidence.missing_exports).
        "R-NOHR": ("data_problem", True, False),
        "R-FUTURE": ("available", True, True),  # termination dated after the as-of date
        "R-DAN": ("available", True, True),  # HR e-mail in other letter case
        "R-EVE": ("available", True, True),  # leave ended before the as-of date
    }
    assert reps["R-ANN"]["capacity"] == 2
    assert reps["R-BEN"]["capacity"] == 200  # routing.yml default
    assert reps["R-ROLE"]["role"] == "Sales Manager"
    assert reps["R-ROLE"]["carries_accounts"] is False
    assert reps["R-NOHR"]["hr_status"] is None


def test_every_rep_has_exactly_one_dim_row(day_1: dict[str, pl.DataFrame]) -> None:
    rep_ids = day_1["dim_reps"]["rep_id"].to_list()
    assert sorted(rep_ids) == sorted(r["rep_id"] for r in REPS)


def test_territory_members(day_1: dict[str, pl.DataFrame]) -> None:
    members = by_id(day_1["dim_territory_members"], "rep_id")
    assert members["R-BEN"]["weight"] == 2.0
    assert members["R-DAN"]["weight"] == 1.0
    assert members["R-ANN"]["is_primary"] is True
    assert members["R-DAN"]["is_primary"] is False
    assert members["R-BEN"]["rep_is_available"] is False


def test_territory_match_records_exist(day_1: dict[str, pl.DataFrame]) -> None:
    matches = day_1["fct_territory_matches"]
    account_ids = set(day_1["dim_accounts"]["account_id"])
    lead_ids = set(day_1["dim_leads"]["lead_id"])
    for row in matches.iter_rows(named=True):
        known = account_ids if row["record_type"] == "account" else lead_ids
        assert row["record_id"] in known, row


# --------------------------------------------------------------------------- workload


def test_workload_index(day_1: dict[str, pl.DataFrame]) -> None:
    workload = by_id(day_1["fct_rep_workload"], "rep_id")
    ann = workload["R-ANN"]
    # 3 owned accounts, 1 with open pipeline, 2 distinct records routed in the last 7 days,
    # 6 activities in 30 days over 3 accounts; weights 1 / 0.5 / 0.25 / 0.5; capacity 2.
    assert (
        ann["active_accounts"],
        ann["pipeline_accounts"],
        ann["inbound_last_7d"],
        ann["activity_density"],
        ann["capacity"],
    ) == (3, 1, 2, 2.0, 2)
    assert ann["workload_index"] == pytest.approx(100 * (3 + 0.5 + 0.5 + 1.0) / 2)
    assert ann["days_over_high_water"] == 1
    ben = workload["R-BEN"]
    assert (ben["active_accounts"], ben["pipeline_accounts"], ben["capacity"]) == (1, 1, 200)
    assert ben["workload_index"] == pytest.approx(100 * 1.5 / 200)
    assert ben["days_over_high_water"] == 0
    assert workload["R-FUTURE"]["workload_index"] == 0


def test_workload_history_is_kept_across_runs(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select as_of_date, active_accounts, pipeline_accounts, workload_index, "
        "days_over_high_water from marts.fct_rep_workload where rep_id = 'R-ANN' "
        "order by as_of_date"
    ).fetchall()
    assert rows == [
        (date(2026, 3, 9), 3, 1, pytest.approx(250.0), 1),
        # day 2: Acme US (open pipeline) moved to Ann; 6 activities over 4 accounts
        (date(2026, 3, 10), 4, 2, pytest.approx(100 * (4 + 1 + 0.5 + 0.75) / 2), 2),
    ]
    per_day = con.execute(
        "select as_of_date, count(*) from marts.fct_rep_workload group by 1 order by 1"
    ).fetchall()
    assert per_day == [(date(2026, 3, 9), len(REPS)), (date(2026, 3, 10), len(REPS))]


# --------------------------------------------------------------------------- ownership gaps


def test_ownership_gaps(day_1: dict[str, pl.DataFrame]) -> None:
    gaps = by_id(day_1["fct_ownership_gaps"], "account_id")
    reasons = {account_id: row["reason"] for account_id, row in gaps.items()}
    assert reasons == {
        "A-ACME-US": "terminated",
        "A-GLOBEX": "on_leave",
        "A-GLOBEX-SUB": "deactivated",
        "A-INITECH": "unowned",
        "A-CYCLE-1": "unknown_owner",
        "A-CYCLE-2": "role_change",
        "A-HOOLI": "data_problem",  # its owner has no HR row in this one export
        "A-OUT": "outside_territory",  # Ann works T-UK only; A-NAMED is named to her
    }
    since = {account_id: row["gap_since"] for account_id, row in gaps.items()}
    assert since["A-ACME-US"] == datetime(2026, 3, 1)  # HR status_start
    assert since["A-GLOBEX"] == datetime(2026, 3, 1)
    assert since["A-INITECH"] == datetime(2026, 3, 1, 8, 0)  # created_at
    assert since["A-CYCLE-2"] == datetime(2026, 2, 15, 8, 0)  # HR updated_at
    assert since["A-GLOBEX-SUB"] == DAY_1  # first observed deactivated
    assert since["A-CYCLE-1"] == DAY_1  # first observed with this owner
    assert gaps["A-INITECH"]["gap_hours"] == pytest.approx(8 * 24 + 4)
    assert gaps["A-ACME-US"]["has_open_pipeline"] is True
    assert gaps["A-ACME-US"]["tier"] == 1
    assert gaps["A-GLOBEX"]["is_owner_valid"] is True
    assert gaps["A-ACME-US"]["is_owner_valid"] is False


def test_ownership_gaps_follow_the_latest_build(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select account_id, reason, gap_since from marts.fct_ownership_gaps order by 1"
    ).fetchall()
    gaps = {account_id: (reason, gap_since) for account_id, reason, gap_since in rows}
    assert gaps == {
        # day 2's new owners work other territories: Dan France, Ann the UK
        "A-INITECH": ("outside_territory", DAY_2),
        "A-ACME-US": ("outside_territory", DAY_2),
        "A-GLOBEX": ("on_leave", datetime(2026, 3, 1)),
        "A-GLOBEX-SUB": ("deactivated", DAY_1),  # still dated from when it was first seen
        "A-CYCLE-1": ("unknown_owner", DAY_1),
        "A-CYCLE-2": ("role_change", datetime(2026, 2, 15, 8, 0)),
        "A-OUT": ("outside_territory", DAY_1),
        # A-HOOLI left the CRM
    }


# --------------------------------------------------------------------------- snapshot


def owner_on(con: duckdb.DuckDBPyConnection, account_id: str, moment: datetime) -> list[Any]:
    """The query from docs/ANALYSTS.md: who owned the account at that moment."""
    rows = con.execute(
        """
        select owner_id
        from marts.snap_account_ownership
        where account_id = ?
          and dbt_valid_from <= ?
          and (dbt_valid_to > ? or dbt_valid_to is null)
        """,
        [account_id, moment, moment],
    ).fetchall()
    return [row[0] for row in rows]


def test_ownership_snapshot_history(con: duckdb.DuckDBPyConnection) -> None:
    history = con.execute(
        "select owner_id, dbt_valid_from, dbt_valid_to from marts.snap_account_ownership "
        "where account_id = 'A-ACME-US' order by dbt_valid_from"
    ).fetchall()
    assert history == [("R-BEN", DAY_1, DAY_2), ("R-ANN", DAY_2, None)]
    assert owner_on(con, "A-ACME-US", DAY_1 + timedelta(hours=6)) == ["R-BEN"]
    assert owner_on(con, "A-ACME-US", DAY_2) == ["R-ANN"]
    assert owner_on(con, "A-INITECH", DAY_1) == [None]  # unowned on day 1
    assert owner_on(con, "A-INITECH", DAY_2 + timedelta(days=30)) == ["R-DAN"]
    assert owner_on(con, "A-ACME", DAY_1 - timedelta(days=1)) == []  # before the first run


def test_snapshot_keeps_unchanged_owners_in_one_version(con: duckdb.DuckDBPyConnection) -> None:
    versions = con.execute(
        "select account_id, count(*) from marts.snap_account_ownership group by 1"
    ).fetchall()
    counts = dict(versions)
    assert counts["A-ACME"] == 1
    assert counts["A-ACME-US"] == 2
    assert counts["A-INITECH"] == 2


def test_snapshot_closes_accounts_that_left_the_crm(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select owner_id, dbt_valid_from, dbt_valid_to from marts.snap_account_ownership "
        "where account_id = 'A-HOOLI'"
    ).fetchall()
    assert rows == [("R-NOHR", DAY_1, DAY_2)]


def test_rep_availability_snapshot(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select rep_id, availability, dbt_valid_from, dbt_valid_to "
        "from marts.snap_rep_availability where rep_id in ('R-BEN', 'R-ANN') order by 1"
    ).fetchall()
    assert rows == [("R-ANN", "available", DAY_1, None), ("R-BEN", "terminated", DAY_1, None)]


# --------------------------------------------------------------------------- failures


def test_a_failing_data_test_raises_with_the_node_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.duckdb"
    duplicated = [account("A-1", "One"), account("A-1", "One again")]
    write_raw(path, {**ORG_DAY_1, "accounts": duplicated})
    with pytest.raises(dbt.DbtBuildFailed) as failure:
        run_build(path, DAY_1, select="stg_crm__accounts")
    message = str(failure.value)
    first_line = message.splitlines()[0]
    assert first_line.startswith("dbt build failed: 1 of ")
    assert "unique_stg_crm__accounts_account_id" in first_line
    assert [node.name for node in failure.value.failures] == ["unique_stg_crm__accounts_account_id"]
    assert failure.value.failures[0].status == "fail"


def test_a_bad_as_of_fails_compilation(tmp_path: Path) -> None:
    path = tmp_path / "empty.duckdb"
    write_raw(path, {})
    with pytest.raises(dbt.DbtBuildFailed, match="as_of"):
        dbt._invoke(
            ["build"],
            path,
            ["--vars", '{"as_of": "yesterday\'s"}', "--select", "int_reps_joined_to_hr"],
            tmp_path / "target",
            tmp_path / "logs",
        )


def test_as_of_is_passed_in_utc() -> None:
    aware = datetime(2026, 3, 10, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert dbt.as_of_var(aware) == "2026-03-10T12:30:00"
    assert dbt.as_of_var(datetime(2026, 3, 10, 12, 30, tzinfo=UTC)) == "2026-03-10T12:30:00"
    assert dbt.as_of_var(datetime(2026, 3, 10, 12, 30)) == "2026-03-10T12:30:00"


# --------------------------------------------------------------------------- generated org


def test_a_generated_org_builds(tmp_path: Path) -> None:
    generate = pytest.importorskip("switchboard.generate")
    ingest = pytest.importorskip("switchboard.ingest")
    summary = generate.generate_org(tmp_path / "org", accounts=200)
    path = tmp_path / "warehouse.duckdb"
    con = warehouse.connect(path)
    try:
        reference.load_reference_tables(con)
        ingest.ingest_snapshot(tmp_path / "org", con, "run-1")
        warehouse.ensure_routing_tables(con)
        raw_reps = con.execute("select count(*) from raw.reps").fetchall()[0][0]
        raw_accounts = con.execute("select count(*) from raw.accounts").fetchall()[0][0]
    finally:
        con.close()
    run_build(path, summary.as_of, exclude=dbt.DEVELOPMENT_ONLY)  # unit tests: above
    marts = read_marts(path)
    assert marts["dim_reps"].height == raw_reps
    assert marts["dim_accounts"].height == raw_accounts
    assert marts["dim_accounts"]["country_code"].null_count() == 0
    assert marts["fct_territory_matches"].height > 0
    assert marts["fct_rep_workload"].height == raw_reps


# --------------------------------------------------------------------------- documentation


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


def test_every_model_and_column_is_documented(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('staging', 'intermediate', 'marts') "
        "and column_name not like 'dbt\\_%' escape '\\' order by ordinal_position"
    ).fetchall()
    built: dict[str, list[str]] = {}
    for _schema, table, column in rows:
        built.setdefault(table, []).append(column)
    documented = documented_columns()
    sql_files = {p.stem for p in (dbt.PROJECT_DIR / "models").rglob("*.sql")}
    assert sql_files <= set(built), sql_files - set(built)
    for table, columns in built.items():
        assert table in documented, f"{table} is not documented"
        documented_only = [c for c in documented[table] if not c.startswith("dbt_")]
        assert sorted(documented_only) == sorted(columns), table
