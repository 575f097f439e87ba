"""fct_territory_fairness on a small warehouse whose routing ledger is deliberately unfair.

One dbt build, with the ledger written before it (as earlier runs would have left it): the
warn-level drift test must fire on the unfair territory's members and on nothing else.
The mart's arithmetic has a dbt unit test (dbt_project/models/marts/_marts__models.yml),
run with the others by tests/unit/dbt_project/test_models.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from switchboard import dbt, reference, warehouse
from switchboard.config import RoutingConfig
from switchboard.engine.schema import DECISIONS, RUNS
from tests.raw_tables import write_raw_tables

pytestmark = pytest.mark.dbt  # builds the dbt project: not in `make test-fast`

AS_OF = datetime(2026, 3, 10, 12, 0)
FAIRNESS_MODELS = ("int_rep_available_days", "int_territory_pick_records", "fct_territory_fairness")
CREATED = datetime(2025, 1, 1)


def rep(rep_id: str) -> dict[str, Any]:
    return {
        "rep_id": rep_id,
        "name": rep_id.title(),
        "email": f"{rep_id.lower()}@example.com",
        "role": "AE",
        "team": "East",
    }


ORG: dict[str, list[dict[str, Any]]] = {
    "accounts": [
        {
            "account_id": "A-1",
            "name": "Acme",
            "country": "US",
            "created_at": CREATED,
            "owner_id": "R-A",
        }
    ],
    "reps": [rep("R-A"), rep("R-B"), rep("R-C"), rep("R-L")],
    "hr": [
        {"email": "r-a@example.com", "status": "active"},
        {"email": "r-b@example.com", "status": "active"},
        {"email": "r-c@example.com", "status": "active"},
        # on leave 03-06, 03-07 and 03-08: 4 of the 7 days available, 27 of the 30
        {
            "email": "r-l@example.com",
            "status": "leave",
            "status_start": date(2026, 3, 6),
            "status_end": date(2026, 3, 9),
        },
    ],
    "territories": [
        {"territory_id": "T-FAIR", "name": "Fair", "priority": 1, "countries": ["US"]},
        {"territory_id": "T-SKEW", "name": "Skewed", "priority": 1, "countries": ["CA"]},
    ],
    "territory_members": [
        {"territory_id": "T-FAIR", "rep_id": "R-A"},
        {"territory_id": "T-FAIR", "rep_id": "R-B"},
        {"territory_id": "T-SKEW", "rep_id": "R-C", "weight": 2.0},
        {"territory_id": "T-SKEW", "rep_id": "R-L"},
    ],
}


def pick(
    run_id: str,
    when: datetime,
    record_id: str,
    owner_id: str,
    territory_id: str,
    rule: str = "territory",
) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "decided_at": when,
        "record_type": "lead",
        "record_id": record_id,
        "owner_id": owner_id,
        "rule": rule,
        "territory_id": territory_id,
        "conflict": False,
        "candidates": [],
        "rationale": "test",
        "rules_version": "test",
        "latency_seconds": 1.0,
    }


def ledger() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Runs and decisions of the days before AS_OF. T-FAIR: 3 records each to R-A and R-B.
    T-SKEW: 10 records to R-L (weight 1, away 3 days) and 2 to R-C (weight 2)."""
    runs = {
        "r-0303": AS_OF - timedelta(days=7),
        "r-0305": AS_OF - timedelta(days=5),
        "r-0309": AS_OF - timedelta(days=1),
        "r-old": AS_OF - timedelta(days=40),
    }
    rows = [
        *(
            pick("r-0305", runs["r-0305"], f"L-FAIR-{i}", rep_id, "T-FAIR")
            for i, rep_id in enumerate(["R-A", "R-B"] * 3)
        ),
        *(pick("r-0305", runs["r-0305"], f"L-SKEW-{i}", "R-L", "T-SKEW") for i in range(10)),
        pick("r-0309", runs["r-0309"], "L-SKEW-C1", "R-C", "T-SKEW"),
        pick("r-0309", runs["r-0309"], "L-SKEW-C2", "R-C", "T-SKEW"),
        # the same record decided again for the same rep: one record
        pick("r-0309", runs["r-0309"], "L-SKEW-0", "R-L", "T-SKEW"),
        # not the pick: a lead following its account, counted nowhere
        pick("r-0309", runs["r-0309"], "L-FOLLOW", "R-B", "T-FAIR", rule="account_owner"),
        # outside both windows (before the 30 days; after the as-of)
        pick("r-old", runs["r-old"], "L-OLD", "R-B", "T-FAIR"),
        pick("r-0303", runs["r-0303"], "L-0303", "R-A", "T-FAIR"),
    ]
    rows.append(pick("r-0303", runs["r-0303"], "L-0303-B", "R-B", "T-FAIR"))
    decisions = pl.DataFrame(rows, schema=DECISIONS, orient="row")
    run_rows = pl.DataFrame(
        [
            {"run_id": run_id, "mode": "hourly", "as_of": when, "status": "published"}
            for run_id, when in runs.items()
        ],
        schema=RUNS,
    )
    return decisions, run_rows


@dataclass(frozen=True)
class Built:
    path: Path
    result: dbt.DbtResult
    fairness: pl.DataFrame


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    path = tmp_path_factory.mktemp("fairness") / "warehouse.duckdb"
    con = warehouse.connect(path)
    try:
        write_raw_tables(con, ORG)
        reference.load_reference_tables(con)
        warehouse.ensure_routing_tables(con)
        decisions, runs = ledger()
        warehouse.write_table(con, "routing.decisions", decisions, mode="append")
        warehouse.write_table(con, "routing.runs", runs, mode="append")
    finally:
        con.close()
    # Only what the mart reads, then the mart's own data tests (dbt's unit tests, the
    # fairness models' among them, run in tests/unit/dbt_project/test_models.py).
    folders = {"target_dir": path.parent / "target", "log_dir": path.parent / "logs"}
    dbt.build(
        path,
        AS_OF,
        RoutingConfig(),
        select="+fct_territory_fairness",
        exclude="resource_type:test resource_type:unit_test",
        **folders,
    )
    result = dbt.build(
        path,
        AS_OF,
        RoutingConfig(),
        select=" ".join(FAIRNESS_MODELS),
        exclude=dbt.DEVELOPMENT_ONLY,
        **folders,
    )
    con = duckdb.connect(str(path), read_only=True)
    try:
        fairness = con.sql(
            "select * from marts.fct_territory_fairness order by territory_id, window_days, rep_id"
        ).pl()
    finally:
        con.close()
    return Built(path=path, result=result, fairness=fairness)


def test_the_build_succeeds_and_the_mart_is_a_view(built: Built) -> None:
    assert built.result.status_of("fct_territory_fairness") == "success"
    con = duckdb.connect(str(built.path), read_only=True)
    try:
        kinds = dict(
            con.execute(
                "select table_name, table_type from information_schema.tables where table_name "
                "in ('fct_territory_fairness', 'int_territory_pick_records', "
                "'int_rep_available_days')"
            ).fetchall()
        )
    finally:
        con.close()
    assert kinds == {
        "fct_territory_fairness": "VIEW",
        "int_territory_pick_records": "VIEW",
        "int_rep_available_days": "BASE TABLE",
    }


def rows_of(built: Built, territory_id: str, window_days: int) -> dict[str, dict[str, Any]]:
    frame = built.fairness.filter(
        (pl.col("territory_id") == territory_id) & (pl.col("window_days") == window_days)
    )
    return {row["rep_id"]: row for row in frame.iter_rows(named=True)}


def test_the_drift_warning_fires_on_the_unfair_territory_only(built: Built) -> None:
    assert built.result.status_of("warn_territory_pick_drift") == "warn"
    warnings = {node.name: node.failures for node in built.result.warnings}
    # R-C and R-L of T-SKEW, in both windows; T-FAIR is even
    assert warnings.get("warn_territory_pick_drift") == 4
    assert built.result.status_of("fct_territory_fairness_shares_add_up") == "pass"


def test_the_unfair_territory_by_hand(built: Built) -> None:
    """7 days (03-04..03-10): R-C weight 2 x 7 days = 14, R-L 1 x 4 days (away 03-06..03-08)
    = 4; 12 records, expected 12 x 14/18 and 12 x 4/18."""
    week = rows_of(built, "T-SKEW", 7)
    assert (week["R-C"]["records"], week["R-L"]["records"]) == (2, 10)
    assert (week["R-C"]["available_days"], week["R-L"]["available_days"]) == (7, 4)
    assert week["R-C"]["weighted_available_days"] == 14.0
    assert week["R-C"]["expected_records"] == pytest.approx(12 * 14 / 18, abs=1e-6)
    assert week["R-L"]["drift_records"] == pytest.approx(10 - 12 * 4 / 18, abs=1e-6)
    rates = sorted([2 / 14, 10 / 4])
    gini = 2 * (rates[0] + 2 * rates[1]) / (2 * sum(rates)) - 3 / 2
    assert week["R-C"]["territory_gini"] == pytest.approx(gini, abs=1e-6)
    assert week["R-L"]["territory_max_abs_drift_records"] == pytest.approx(
        10 - 12 * 4 / 18, abs=1e-6
    )
    month = rows_of(built, "T-SKEW", 30)
    assert (month["R-C"]["available_days"], month["R-L"]["available_days"]) == (30, 27)
    assert month["R-L"]["expected_records"] == pytest.approx(12 * 27 / 87, abs=1e-6)


def test_the_fair_territory_and_what_is_not_counted(built: Built) -> None:
    """The account_owner lead, the decision 40 days ago and the repeated decision of one
    record do not count; the two picks of 03-03 are in the 30 days only."""
    week, month = rows_of(built, "T-FAIR", 7), rows_of(built, "T-FAIR", 30)
    assert {rep: row["records"] for rep, row in week.items()} == {"R-A": 3, "R-B": 3}
    assert {rep: row["records"] for rep, row in month.items()} == {"R-A": 4, "R-B": 4}
    for row in [*week.values(), *month.values()]:
        assert row["drift_records"] == 0.0 and row["territory_gini"] == 0.0
    assert rows_of(built, "T-SKEW", 7)["R-L"]["territory_records"] == 12


def test_shares_add_up_to_the_territory_total(built: Built) -> None:
    totals = built.fairness.group_by("territory_id", "window_days").agg(
        pl.col("records").sum(),
        pl.col("expected_records").sum(),
        pl.col("expected_share").sum(),
        pl.col("territory_records").first(),
    )
    for row in totals.iter_rows(named=True):
        assert row["records"] == row["territory_records"]
        assert row["expected_records"] == pytest.approx(row["territory_records"], abs=1e-5)
        assert row["expected_share"] == pytest.approx(1.0, abs=1e-5)
