"""Records in a queue or pool are decided again only when something about them changed.

The marts are written by hand (the engine's columns plus a country), so a run is the real
route → record → publish stages without a dbt build: each test changes the marts the way a
new export or plan would, and runs again an hour later.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from switchboard import dbt, pipeline, publish, queued, warehouse
from switchboard.config import RoutingConfig
from switchboard.summary import RunSummary
from tests.unit.engine.conftest import AS_OF, Org

pytestmark = pytest.mark.dbt  # the routing views are built with dbt, once a module

QUEUED = {("account", "A-DE-1"), ("account", "A-DE-2"), ("account", "A-BR"), ("lead", "L-DE")}
COUNTRY = {"A-DE-1": "DE", "A-DE-2": "DE", "A-BR": "BR", "A-US": "US", "A-US-NEW": "US"}


def small_org(germany: tuple[str, ...] = ("R-DE",)) -> Org:
    """Germany's only member is on leave (its records overflow to a queue), Brazil has no
    territory (fallback queue); the US has an available rep."""
    return (
        Org()
        .rep("R-US")
        .rep("R-DE", availability="on_leave")
        .territory("T-US", ["R-US"])
        .territory("T-DE", list(germany), queue="overflow-de")
        .account("A-DE-1", territories=["T-DE"])
        .account("A-DE-2", territories=["T-DE"])
        .account("A-BR")
        .account("A-US", "R-US", territories=["T-US"])
        .lead("L-DE", territories=["T-DE"])
    )


def write_marts(path: Path, org: Org) -> None:
    """The marts and raw tables pipeline.route reads, from the hand-made org."""
    frames = org.frames()
    con = warehouse.connect(path)
    try:
        publish.ensure_tables(con)
        accounts = frames["accounts"].with_columns(
            country_code=pl.col("account_id").replace_strict(COUNTRY, default=None)
        )
        tables = {
            "marts.dim_accounts": accounts,
            "marts.dim_leads": frames["leads"],
            "marts.fct_open_opportunities": frames["opportunities"],
            "marts.dim_named_accounts": frames["named_accounts"],
            "marts.dim_reps": frames["reps"],
            "marts.fct_territory_matches": frames["territory_matches"],
            "marts.dim_territory_members": frames["territory_members"],
            "marts.fct_rep_workload": frames["workload"]
            .head(0)
            .with_columns(as_of_date=pl.lit(None, pl.Date), days_over_high_water=pl.lit(0)),
            "marts.fct_ownership_gaps": pl.DataFrame(
                schema={
                    "account_id": pl.String,
                    "owner_id": pl.String,
                    "reason": pl.String,
                    "gap_since": pl.Datetime("us"),
                }
            ),
            "raw.territories": pl.DataFrame(
                {
                    "territory_id": sorted(org.territories),
                    "_row_number": range(len(org.territories)),
                }
            ),
        }
        for name, frame in tables.items():
            warehouse.write_table(con, name, frame)
    finally:
        con.close()


def run(path: Path, hour: int) -> tuple[RunSummary, pl.DataFrame]:
    """One hourly run, `hour` hours after AS_OF: route, record, publish. Returns its summary
    and its decisions as recorded."""
    ctx = pipeline.RunContext(
        snapshot=path.parent,
        warehouse=path,
        outbox=path.parent / "outbox",
        config=RoutingConfig(),
        as_of=AS_OF + timedelta(hours=hour),
        run_id=f"run-{hour}",
        fingerprint=f"fp-{hour}",
    )
    ctx, todo = pipeline.prepare(ctx)
    assert todo == "route"
    pipeline.record(ctx, pipeline.route(ctx))
    summary = pipeline.publish_run(ctx)
    con = duckdb.connect(str(path), read_only=True)
    try:
        decided = con.sql(
            "select * from routing.decisions where run_id = ?", params=[ctx.run_id]
        ).pl()
    finally:
        con.close()
    return summary, decided


def records(decisions: pl.DataFrame) -> set[tuple[str, str]]:
    return set(decisions.select("record_type", "record_id").iter_rows())


def change(path: Path, sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute(sql)
    finally:
        con.close()


# The dbt views over the routing log the route stage reads (pending owners), built once
# over empty routing tables and copied into each test's warehouse. Built with an as-of a
# day after the runs' hours: every run recorded before the one routing counts, as it does
# when each run refreshes the view with its own as-of (switchboard.dbt.refresh_as_of_views).
ROUTING_VIEWS = "stg_routing__decisions stg_routing__runs int_pending_owners"


@pytest.fixture(scope="module")
def routing_views(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("views") / "w.duckdb"  # views name their file's catalog
    con = warehouse.connect(path)
    try:
        publish.ensure_tables(con)
    finally:
        con.close()
    dbt.build(
        path,
        AS_OF + timedelta(days=1),
        RoutingConfig(),
        select=ROUTING_VIEWS,
        exclude="resource_type:unit_test resource_type:test",
        target_dir=path.parent / "target",
        log_dir=path.parent / "logs",
    )
    return path


@pytest.fixture
def routed(tmp_path: Path, routing_views: Path) -> Path:
    """A warehouse whose first run sent four records to queues."""
    path = tmp_path / "w.duckdb"
    shutil.copyfile(routing_views, path)
    write_marts(path, small_org())
    summary, decided = run(path, 0)
    assert records(decided) == QUEUED
    assert set(decided["rule"]) == {"overflow_queue", "fallback_queue"}
    assert decided["owner_id"].is_null().all()
    assert decided["input_hash"].is_not_null().all() and decided["input_hash"].n_unique() == 4
    assert summary.records == 4
    return path


def test_an_unrelated_change_does_not_decide_queued_records_again(routed: Path) -> None:
    write_marts(routed, small_org().account("A-US-NEW", territories=["T-US"]))
    summary, decided = run(routed, 1)
    assert decided.select("record_id", "owner_id", "rule", "input_hash").rows() == [
        ("A-US-NEW", "R-US", "territory", None)
    ]  # a rep's record is never compared
    # The summary counts what this run decided, not the records left in their queues.
    assert (summary.records, summary.accounts, summary.leads) == (1, 1, 0)
    assert summary.by_rule == {"territory": 1}
    assert "1 account and 0 leads routed" in summary.to_markdown()
    # The queued records' latest decision is still the first run's.
    later, nothing = run(routed, 2)
    assert nothing.is_empty() and later.records == 0
    assert later.headline().startswith("Nothing needed a decision")


def test_a_record_that_changed_is_decided_again(routed: Path) -> None:
    # A-DE-1 moves to the US: its row and its territory match change.
    change(
        routed,
        """
        update marts.dim_accounts set country_code = 'US' where account_id = 'A-DE-1';
        update marts.fct_territory_matches set territory_id = 'T-US', overflow_queue = null
            where record_id = 'A-DE-1';
    """,
    )
    _, decided = run(routed, 1)
    assert records(decided) == {("account", "A-DE-1")}
    assert decided.select("owner_id", "rule").row(0) == ("R-US", "territory")


def test_a_record_someone_took_from_the_queue_is_decided_again_if_the_owner_is_invalid(
    routed: Path,
) -> None:
    # Someone in the CRM gave A-BR to a user Switchboard does not know: the owner the
    # export shows is part of the record, so the decision no longer stands.
    change(routed, "update marts.dim_accounts set owner_id = 'R-GONE' where account_id = 'A-BR'")
    _, decided = run(routed, 1)
    assert records(decided) == {("account", "A-BR")}
    assert decided.select("previous_owner_id", "rule").row(0) == ("R-GONE", "fallback_queue")
    # ... and its new decision stands in turn.
    assert run(routed, 2)[1].is_empty()


def test_a_change_of_plan_decides_every_queued_record_again(routed: Path) -> None:
    # R-US joins Germany: the overflowing records get a rep; Brazil still has no territory.
    write_marts(routed, small_org(germany=("R-DE", "R-US")))
    summary, decided = run(routed, 1)
    assert records(decided) == QUEUED
    assert dict(decided.select("record_id", "rule").iter_rows()) == {
        "A-DE-1": "territory",
        "A-DE-2": "territory",
        "L-DE": "territory",
        "A-BR": "fallback_queue",
    }
    assert summary.records == 4


def test_new_settings_decide_every_queued_record_again(routed: Path) -> None:
    con = duckdb.connect(str(routed))
    try:
        before = queued.plan_fingerprint(con, "v1")
        assert queued.plan_fingerprint(con, "v1") == before
        assert queued.plan_fingerprint(con, "v2") != before
        assert records(queued.settled(con, AS_OF + timedelta(hours=1), before)) == set()
        current = queued.plan_fingerprint(con, RoutingConfig().rules_version)
        assert records(queued.settled(con, AS_OF + timedelta(hours=1), current)) == QUEUED
        # runs at the as-of itself, or later, are not "before" it (a what-if's replay)
        assert queued.settled(con, AS_OF, current).is_empty()
    finally:
        con.close()


def test_only_the_latest_published_decision_counts(routed: Path) -> None:
    """A-DE-2 was later given to a rep (its latest decision is no queue); A-BR's later queue
    decision belongs to a run that never published."""
    con = duckdb.connect(str(routed))
    try:
        for run_id, status, hours in (("later", "published", 1), ("died", "started", 2)):
            publish.start_run(
                con,
                run_id=run_id,
                fp=run_id,
                mode="hourly",
                snapshot=Path("."),
                as_of=AS_OF + timedelta(hours=hours),
                rules_version="v",
            )
            publish.set_status(con, run_id, status)
        rows = pl.DataFrame(
            [
                {
                    "run_id": "later",
                    "record_type": "account",
                    "record_id": "A-DE-2",
                    "owner_id": "R-US",
                    "queue": None,
                    "rule": "territory",
                    "input_hash": "x",
                },
                {
                    "run_id": "died",
                    "record_type": "account",
                    "record_id": "A-BR",
                    "owner_id": None,
                    "queue": "fallback",
                    "rule": "fallback_queue",
                    "input_hash": "y",
                },
            ]
        )
        warehouse.write_table(con, "routing.decisions", rows, mode="append")
        plan = queued.plan_fingerprint(con, RoutingConfig().rules_version)
        assert records(queued.settled(con, AS_OF + timedelta(hours=3), plan)) == {
            ("account", "A-DE-1"),
            ("account", "A-BR"),
            ("lead", "L-DE"),
        }
    finally:
        con.close()


def test_queued_records_decided_before_the_hash_existed_are_decided_once_more(
    tmp_path: Path, routing_views: Path
) -> None:
    path = tmp_path / "w.duckdb"
    shutil.copyfile(routing_views, path)
    write_marts(path, small_org())
    assert records(run(path, 0)[1]) == QUEUED
    # decisions recorded before the column existed have no hash ...
    change(path, "update routing.decisions set input_hash = null")
    # ... so their queued records are decided once more, and then stand
    assert records(run(path, 1)[1]) == QUEUED
    assert run(path, 2)[1].is_empty()
