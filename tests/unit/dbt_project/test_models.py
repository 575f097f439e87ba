"""The dbt project end to end on a small hand-built warehouse.

One org is built twice, on consecutive as-of days with ownership changes in between, so
the marts, the incremental workload history and the ownership snapshot can all be checked
against numbers worked out by hand. dbt's own data and unit tests run inside each build.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import polars as pl
import pytest

from switchboard import dbt

from .conftest import DAY_1, DAY_2, MARTS, REPS, Org, by_id, documented_columns

pytestmark = pytest.mark.dbt  # builds the dbt project: not in `make test-fast`


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
