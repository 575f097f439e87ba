"""The routing log marts and the territory coverage warnings on a small warehouse.

One dbt build of an org whose coverage problems are known (two priority-1 territories
sharing the US, an unowned Brazilian account no territory matches, a German territory whose
members are both on leave), then a run recorded through switchboard.publish *after* the
build: fct_routing_decisions and fct_routing_conflicts are views, so they show it at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from switchboard import dbt, dbt_manifest, publish, reference, report, tables, warehouse
from switchboard.alerts import ALERTS
from switchboard.config import RoutingConfig
from switchboard.engine.schema import CONFLICTS, DECISIONS, REP_STATE, ROUTING_TABLES, empty
from tests.raw_tables import write_raw_tables

pytestmark = pytest.mark.dbt  # builds the dbt project: not in `make test-fast`

AS_OF = datetime(2026, 3, 10, 12, 0)
CREATED = datetime(2025, 1, 1)
RUN_ID = "20260310T120000-hourly-test"


def account(account_id: str, name: str, country: str, **fields: Any) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "name": name,
        "country": country,
        "created_at": CREATED,
        **fields,
    }


def rep(rep_id: str, name: str) -> dict[str, Any]:
    return {
        "rep_id": rep_id,
        "name": name,
        "email": f"{rep_id.lower()}@example.com",
        "role": "AE",
        "team": "East",
    }


ORG: dict[str, list[dict[str, Any]]] = {
    "accounts": [
        account("A-US-1", "Acme", "US", owner_id="R-A"),
        account("A-US-2", "Bolt", "US", created_at=AS_OF - timedelta(hours=2)),
        account("A-BR", "Brasil Ltda", "BR"),  # unowned, no territory: a gap to warn about
        account("A-JP", "Nippon KK", "JP", owner_id="R-A"),  # no territory, but valid owner
        account("A-DE", "Deutsch GmbH", "DE", owner_id="R-L1"),  # owner on leave keeps it
    ],
    "leads": [
        {
            "lead_id": "L-1",
            "email": "ann@fresh.io",
            "country": "US",
            "source": "webinar",
            "created_at": AS_OF - timedelta(minutes=90),
        }
    ],
    "reps": [rep("R-A", "Ann"), rep("R-B", "Ben"), rep("R-L1", "Lea"), rep("R-L2", "Leo")],
    "hr": [
        {"email": "r-a@example.com", "status": "active"},
        {"email": "r-b@example.com", "status": "active"},
        {"email": "r-l1@example.com", "status": "leave", "status_start": date(2026, 3, 1)},
        {"email": "r-l2@example.com", "status": "leave", "status_start": date(2026, 2, 1)},
    ],
    "territories": [
        {"territory_id": "T-US-A", "name": "US A", "priority": 1, "countries": ["US"]},
        {"territory_id": "T-US-B", "name": "US B", "priority": 1, "countries": ["US"]},
        {
            "territory_id": "T-DE",
            "name": "Germany",
            "priority": 1,
            "countries": ["DE"],
            "overflow_queue": "overflow-de",
        },
    ],
    "territory_members": [
        {"territory_id": "T-US-A", "rep_id": "R-A"},
        {"territory_id": "T-US-B", "rep_id": "R-B"},
        {"territory_id": "T-DE", "rep_id": "R-L1"},
        {"territory_id": "T-DE", "rep_id": "R-L2"},
    ],
}


def decision(
    record_type: str,
    record_id: str,
    rule: str,
    *,
    owner_id: str | None = None,
    previous_owner_id: str | None = None,
    queue: str | None = None,
    territory_id: str | None = None,
    conflict: bool = False,
) -> dict[str, Any]:
    return {
        "run_id": RUN_ID,
        "decided_at": AS_OF,
        "record_type": record_type,
        "record_id": record_id,
        "previous_owner_id": previous_owner_id,
        "owner_id": owner_id,
        "queue": queue,
        "rule": rule,
        "territory_id": territory_id,
        "conflict": conflict,
        "candidates": [],
        "rationale": "test",
        "rules_version": "v-test",
        "latency_seconds": 0.0,
    }


DECIDED = pl.DataFrame(
    [
        decision(
            "account", "A-US-2", "territory", owner_id="R-B", territory_id="T-US-B", conflict=True
        ),
        decision("lead", "L-1", "territory", owner_id="R-A", territory_id="T-US-A"),
        decision("account", "A-DE", "manager_review", owner_id="R-L1", previous_owner_id="R-L1"),
        # a record that has since left the CRM export, moved from its old owner to a queue
        decision(
            "account", "A-GONE", "fallback_queue", previous_owner_id="R-B", queue="fallback-queue"
        ),
    ],
    schema=DECISIONS,
)

CONFLICTED = pl.DataFrame(
    [
        {
            "run_id": RUN_ID,
            "record_type": "account",
            "record_id": "A-US-2",
            "conflict_type": "multi_territory",
            "candidates": [
                {"rule": "territory", "territory_id": "T-US-B", "owner_id": "R-B", "queue": None},
                {"rule": "territory", "territory_id": "T-US-A", "owner_id": "R-A", "queue": None},
            ],
            "resolution": "territory",
            "owner_id": "R-B",
            "queue": None,
            "rationale": "tie",
        }
    ],
    schema=CONFLICTS,
)


@dataclass(frozen=True)
class Built:
    path: Path
    result: dbt.DbtResult
    decisions_before_run: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    path = tmp_path_factory.mktemp("routing_marts") / "warehouse.duckdb"
    con = warehouse.connect(path)
    try:
        write_raw_tables(con, ORG)
        reference.load_reference_tables(con)
        # what the pipeline's first stage does on an empty warehouse, before any dbt build
        warehouse.ensure_routing_tables(con)
        created = {
            f"routing.{name}"
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'routing'"
            ).fetchall()
        }
        # the engine's tables and every other routing table a dbt model reads
        read_by_dbt = {t.name for t in tables.dbt_source_tables("routing")}
        assert created == set(ROUTING_TABLES) | read_by_dbt
        assert "routing.builds" in created
    finally:
        con.close()

    result = dbt.build(
        path,
        AS_OF,
        RoutingConfig(),
        target_dir=path.parent / "target",
        log_dir=path.parent / "logs",
    )

    con = warehouse.connect(path)
    try:
        before = con.execute("select count(*) from marts.fct_routing_decisions").fetchall()[0][0]
        # a run recorded after the build, the way the pipeline records one
        publish.ensure_tables(con)
        publish.start_run(
            con,
            run_id=RUN_ID,
            fp="fp",
            mode="hourly",
            snapshot=Path("snap"),
            as_of=AS_OF,
            rules_version="v-test",
        )
        publish.record_run(
            con,
            run_id=RUN_ID,
            decisions=DECIDED,
            conflicts=CONFLICTED,
            rep_state=empty(REP_STATE),
            alerts=empty(ALERTS),
        )
    finally:
        con.close()
    return Built(path=path, result=result, decisions_before_run=before)


@pytest.fixture
def con(built: Built) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built.path), read_only=True)
    yield connection
    connection.close()


# --------------------------------------------------------------------------- coverage warnings


def test_coverage_tests_warn_without_failing_the_build(built: Built) -> None:
    warnings = {node.name: node.failures for node in built.result.warnings}
    assert warnings == {
        "warn_equal_priority_territory_overlaps": 2,  # A-US-1 and A-US-2
        "warn_records_matching_no_territory": 1,  # A-BR; A-JP has a valid owner
        "warn_territories_without_available_member": 1,  # T-DE: Lea and Leo on leave
    }
    assert not any(node.failed for node in built.result.warnings)
    statuses = {node.status for node in built.result.nodes}
    assert statuses <= {"success", "pass", "warn"}, statuses


def test_warning_rows_name_the_records_and_territories(built: Built) -> None:
    """The warn tests' SQL, run as dbt compiled it, returns the offending rows of the
    coverage marts."""
    compiled = built.path.parent / "target" / "compiled" / "switchboard" / "tests"
    con = duckdb.connect(str(built.path), read_only=True)
    try:
        gaps = con.sql((compiled / "warn_records_matching_no_territory.sql").read_text()).pl()
        unstaffed = con.sql(
            (compiled / "warn_territories_without_available_member.sql").read_text()
        ).pl()
    finally:
        con.close()
    # the marts' rows needing an owner: A-JP's gap has none, so it does not warn
    assert gaps.select("record_type", "country", "records", "needing_owner", "examples").rows() == [
        ("account", "BR", 1, 1, "A-BR (Brasil Ltda)")
    ]
    assert unstaffed.select("territory_id", "member_count", "members").rows() == [
        ("T-DE", 2, "R-L1 (on_leave), R-L2 (on_leave)")
    ]


# --------------------------------------------------------------------------- routing log marts


def test_routing_log_marts_are_views_and_built_on_an_empty_log(
    built: Built, con: duckdb.DuckDBPyConnection
) -> None:
    kinds = dict(
        con.execute(
            "select table_schema || '.' || table_name, table_type from information_schema.tables "
            "where table_name like '%routing%'"
        ).fetchall()
    )
    assert kinds == {
        "staging.stg_routing__decisions": "VIEW",
        "staging.stg_routing__conflicts": "VIEW",
        "staging.stg_routing__runs": "VIEW",
        "staging.stg_routing__builds": "VIEW",
        "staging.stg_routing__arrival_scope": "VIEW",
        "marts.fct_routing_decisions": "VIEW",
        "marts.fct_routing_conflicts": "VIEW",
    }
    assert built.decisions_before_run == 0
    assert built.result.status_of("fct_routing_decisions") == "success"


def test_decisions_recorded_after_the_build_show_with_names(con: duckdb.DuckDBPyConnection) -> None:
    rows = {
        row["record_id"]: row
        for row in con.sql("select * from marts.fct_routing_decisions").pl().iter_rows(named=True)
    }
    assert set(rows) == {"A-US-2", "L-1", "A-DE", "A-GONE"}
    bolt = rows["A-US-2"]
    assert (bolt["run_mode"], bolt["run_as_of"], bolt["run_status"]) == ("hourly", AS_OF, "decided")
    assert (bolt["record_name"], bolt["owner_name"], bolt["owner_team"]) == ("Bolt", "Ben", "East")
    assert (bolt["territory_name"], bolt["routed_to"], bolt["conflict"]) == ("US B", "R-B", True)
    assert bolt["minutes_to_owner"] == pytest.approx(120.0)
    assert bolt["decided_date"] == AS_OF.date()
    assert bolt["is_reassignment"] is False and bolt["previous_owner_name"] is None

    lead = rows["L-1"]
    assert (lead["record_name"], lead["lead_source"], lead["owner_name"]) == (
        "ann@fresh.io",
        "webinar",
        "Ann",
    )
    assert lead["minutes_to_owner"] == pytest.approx(90.0)
    assert lead["record_created_at"] == AS_OF - timedelta(minutes=90)

    # manager review keeps the owner: not a reassignment
    kept = rows["A-DE"]
    assert (kept["previous_owner_name"], kept["owner_name"], kept["is_reassignment"]) == (
        "Lea",
        "Lea",
        False,
    )
    assert kept["minutes_to_owner"] == pytest.approx((AS_OF - CREATED).total_seconds() / 60)

    # gone from the export: no name, no creation time, so no minutes_to_owner
    gone = rows["A-GONE"]
    assert (gone["record_name"], gone["record_created_at"], gone["minutes_to_owner"]) == (
        None,
        None,
        None,
    )
    assert (gone["routed_to"], gone["is_reassignment"], gone["previous_owner_name"]) == (
        "fallback-queue",
        True,
        "Ben",
    )


def test_conflicts_recorded_after_the_build_show_with_names(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql("select * from marts.fct_routing_conflicts").pl().rows(named=True)
    assert len(rows) == 1
    row = rows[0]
    assert (row["run_mode"], row["run_date"], row["record_name"]) == (
        "hourly",
        AS_OF.date(),
        "Bolt",
    )
    assert (row["conflict_type"], row["resolution"], row["owner_name"]) == (
        "multi_territory",
        "territory",
        "Ben",
    )
    assert row["candidate_count"] == 2
    assert row["candidate_territory_ids"] == ["T-US-A", "T-US-B"]


# --------------------------------------------------------------------------- coverage report


def test_coverage_marts_are_tables_of_the_build(
    built: Built, con: duckdb.DuckDBPyConnection
) -> None:
    """Built by every full build as tables (the report reads them as the build left them);
    not tagged for arrivals passes, which do not need them."""
    marts = ("fct_territory_overlaps", "fct_territory_coverage_gaps", "fct_unstaffed_territories")
    kinds = dict(
        con.execute(
            "select table_name, table_type from information_schema.tables "
            "where table_schema = 'marts' and table_name in (?, ?, ?)",
            list(marts),
        ).fetchall()
    )
    assert kinds == dict.fromkeys(marts, "BASE TABLE")
    assert all(built.result.status_of(mart) == "success" for mart in marts)
    # The project as the build parsed it (kept in the process: the build writes no JSON).
    parsed = list(dbt_manifest._MANIFESTS.values())
    assert parsed
    nodes = parsed[-1].nodes
    assert all("arrivals" not in nodes[f"model.switchboard.{mart}"].tags for mart in marts)


def test_coverage_report_on_the_built_warehouse(built: Built) -> None:
    cov = report.coverage_report(report.load(built.path))
    assert cov.overlaps.select(
        "territory_a", "territory_b", "records", "accounts", "leads"
    ).rows() == [("T-US-A", "T-US-B", 3, 2, 1)]
    assert cov.gaps.select(
        "record_type", "country", "records", "needing_owner", "examples"
    ).rows() == [
        ("account", "BR", 1, 1, "A-BR (Brasil Ltda)"),
        ("account", "JP", 1, 0, "A-JP (Nippon KK)"),
    ]
    assert cov.unstaffed.select(
        "territory_id", "overflow_queue", "matched_records", "members"
    ).rows() == [("T-DE", "overflow-de", 1, "R-L1 (on_leave), R-L2 (on_leave)")]
    assert report.load(built.path, coverage=False).coverage is None
