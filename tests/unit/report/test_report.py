"""Reports on tiny hand-built frames whose right answers are known."""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import duckdb
import polars as pl
import pytest
import yaml

from switchboard import charts, dbt, report
from switchboard.config import RoutingConfig
from switchboard.engine.schema import CONFLICTS, DECISIONS
from switchboard.report.conflicts import rule_gaps
from switchboard.report.data import FAIRNESS_SCHEMA, read_coverage
from switchboard.report.sections import TOP_REPS
from switchboard.report.territory_fairness import DRIFT_ABSOLUTE, DRIFT_RELATIVE
from switchboard.report.workload import fairness, gini
from tests.coverage_marts import coverage_marts
from tests.report_shapes import large_org

SINCE = datetime(2026, 11, 16)


def decisions(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {
        "run_id": "r1",
        "decided_at": datetime(2026, 11, 20),
        "previous_owner_id": None,
        "owner_id": None,
        "queue": None,
        "territory_id": None,
        "conflict": False,
        "candidates": [],
        "rationale": "",
        "rules_version": "v",
        "latency_seconds": 60.0,
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=DECISIONS)


def conflicts(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {
        "run_id": "r1",
        "record_type": "account",
        "candidates": [],
        "resolution": "territory",
        "owner_id": "R1",
        "queue": None,
        "rationale": "why",
    }
    return pl.DataFrame([{**base, **r} for r in rows], schema=CONFLICTS)


def cand(*territories: str) -> list[dict[str, str | None]]:
    return [
        {"rule": "territory", "territory_id": t, "owner_id": f"O-{t}", "queue": None}
        for t in territories
    ]


ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["P1", "P2", "S1", "S2", "S3", "S4", "F1", "F2", "F3"],
        "account_name": ["Parent One", "Parent Two", "s1", "s2", "s3", "s4", "f1", "f2", "f3"],
        "parent_account_id": [None, None, "P1", "P1", "M1", "P2", None, None, None],
        "ultimate_parent_account_id": [None, None, "P1", "P1", "P1", "P2", None, None, None],
        "country_code": ["US", "US", "US", "US", "US", "US", "DE", "DE", "BR"],
        "segment": ["ENT", "ENT", "ENT", "ENT", "ENT", "ENT", "SMB", "SMB", "MM"],
    }
)
LEADS = pl.DataFrame(
    {"lead_id": ["L1", "L2"], "matched_account_id": ["S1", None], "country_code": ["US", "DE"]}
)
NAMED = pl.DataFrame({"account_id": ["P1", "P2"]})


# ---------------------------------------------------------------- fairness


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([5, 5, 5, 5], 0.0),  # perfectly even
        ([0, 0, 0, 12], 0.75),  # one rep takes all: (n-1)/n
        ([1, 2, 3, 4], 0.25),  # textbook value
        ([0, 0, 0], 0.0),  # nothing assigned: defined as even
        ([7], 0.0),
    ],
)
def test_gini_matches_known_values(values: list[int], expected: float) -> None:
    frame = pl.DataFrame({"team": ["A"] * len(values), "x": values})
    got = frame.group_by("team").agg(g=gini("x"))["g"][0]
    assert got == pytest.approx(expected)


def test_gini_is_order_independent_and_per_group() -> None:
    frame = pl.DataFrame(
        {"team": ["A", "B", "A", "B", "A", "B", "A", "B"], "x": [4, 5, 1, 5, 3, 5, 2, 5]}
    )
    got = dict(frame.group_by("team").agg(g=gini("x")).iter_rows())
    assert got["A"] == pytest.approx(0.25)
    assert got["B"] == pytest.approx(0.0)


def test_fairness_reports_spread_and_gini_per_team() -> None:
    assignments = pl.DataFrame(
        {
            "team": ["East", "East", "East", "West", "West"],
            "rep_id": ["A", "B", "C", "D", "E"],
            "new_assignments": [0, 0, 9, 3, 3],
        }
    )
    rows = {r["team"]: r for r in fairness(assignments).iter_rows(named=True)}
    assert rows["East"]["spread"] == 9 and rows["East"]["reps"] == 3
    assert rows["East"]["gini"] == pytest.approx(2 / 3)
    assert rows["West"]["spread"] == 0 and rows["West"]["gini"] == pytest.approx(0.0)


def test_workload_report_counts_reps_with_no_new_records_and_flags_high_water() -> None:
    reps = pl.DataFrame(
        {
            "rep_id": ["A", "B", "C", "X"],
            "rep_name": ["a", "b", "c", "x"],
            "team": ["East", "East", "East", "East"],
            "carries_accounts": [True, True, True, False],
        }
    )
    workload = pl.DataFrame(
        {
            "rep_id": ["A", "B", "C", "X"],
            "workload_index": [120.0, 96.0, 40.0, 10.0],
            "days_over_high_water": [22, 0, 0, 0],
        }
    )
    d = decisions(
        [
            {"record_type": "lead", "record_id": f"L{i}", "owner_id": "C", "rule": "territory"}
            for i in range(4)
        ]
        + [
            {"record_type": "lead", "record_id": "L9", "owner_id": "B", "rule": "overflow_queue"},
            {"record_type": "account", "record_id": "K", "owner_id": "A", "rule": "manager_review"},
        ]
    )
    w = report.workload_report(workload, reps, d, RoutingConfig())
    per_rep = {r["rep_id"]: r for r in w.per_rep.iter_rows(named=True)}
    assert set(per_rep) == {"A", "B", "C"}  # non-carrying rep left out
    assert per_rep["A"]["status"] == "over capacity" and per_rep["A"]["days_over_high_water"] == 22
    assert per_rep["B"]["status"] == "above release" and per_rep["B"]["overflow_records"] == 1
    assert per_rep["A"]["new_assignments"] == 0  # manager review keeps, does not assign
    assert per_rep["C"]["territory_records"] == 4
    team = w.teams.row(0, named=True)
    assert team["reps"] == 3 and team["new_assignments"] == 5 and team["spread"] == 4
    assert team["avg_index"] == pytest.approx((120 + 96 + 40) / 3)
    # new assignments 0, 1, 4 → G = 2·(1·0+2·1+3·4)/(3·5) - 4/3
    assert team["gini"] == pytest.approx(2 * 14 / 15 - 4 / 3)
    assert "1 of 3 reps" in w.headline()


# ---------------------------------------------------------------- routing


def test_routing_report_latency_counts_only_new_records() -> None:
    d = decisions(
        [
            {
                "record_type": "lead",
                "record_id": "L1",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 60.0,
            },
            {
                "record_type": "lead",
                "record_id": "L2",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 180.0,
            },
            {
                "record_type": "lead",
                "record_id": "L3",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 300.0,
            },
            # a backlog record (older than 24 h) and a reassignment do not count as new
            {
                "record_type": "account",
                "record_id": "A1",
                "queue": "overflow:T",
                "rule": "overflow_queue",
                "latency_seconds": 90_000.0,
            },
            {
                "record_type": "account",
                "record_id": "A2",
                "previous_owner_id": "Z",
                "owner_id": "A",
                "rule": "territory",
                "latency_seconds": 10.0,
            },
            {
                "record_type": "account",
                "record_id": "A3",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
                "latency_seconds": 240.0,
            },
        ]
    )
    r = report.routing_report(
        d, conflicts([{"record_id": "A2", "conflict_type": "multi_territory"}])
    )
    assert r.records == 6 and (r.accounts, r.leads) == (3, 3)
    assert r.median_minutes == pytest.approx(3.5)  # 60, 180, 240, 300 s
    assert r.p90_minutes == pytest.approx((240 + 0.7 * 60) / 60)
    assert (r.overflow, r.fallback) == (1, 1)
    assert dict(r.by_rule.select("rule", "records").iter_rows())["territory"] == 4
    assert r.conflict_lines == ["account A2 (multi_territory): why"]


# ---------------------------------------------------------------- rule gaps


def test_named_subsidiary_conflicts_recommend_a_rule_for_their_named_parent() -> None:
    c = conflicts(
        [
            {"record_type": "account", "record_id": "S1", "conflict_type": "named_subsidiary"},
            {"record_type": "account", "record_id": "S2", "conflict_type": "named_subsidiary"},
            # direct parent M1 is not named; its ultimate parent P1 is
            {"record_type": "account", "record_id": "S3", "conflict_type": "named_subsidiary"},
        ]
    )
    recs = rule_gaps(c, decisions([]), ACCOUNTS, LEADS, NAMED, SINCE)
    assert recs.height == 1
    row = recs.row(0, named=True)
    assert (row["type"], row["evidence"], row["subject"]) == ("named_subsidiary", 3, "P1")
    assert row["recommendation"].startswith("3 named-subsidiary conflicts since 2026-11-16")
    assert "parents P1 (Parent One)" in row["recommendation"]
    assert "P2" not in row["recommendation"]


def test_named_subsidiary_parents_are_listed_by_evidence_and_leads_use_their_account() -> None:
    c = conflicts(
        [
            {"record_type": "account", "record_id": "S4", "conflict_type": "named_subsidiary"},
            {"record_type": "lead", "record_id": "L1", "conflict_type": "named_subsidiary"},
            {"record_type": "account", "record_id": "S2", "conflict_type": "named_subsidiary"},
        ]
    )
    row = rule_gaps(c, decisions([]), ACCOUNTS, LEADS, NAMED, SINCE).row(0, named=True)
    assert row["evidence"] == 3 and row["subject"] == "P1, P2"


def test_fallback_decisions_recommend_a_territory_per_country_and_segment() -> None:
    d = decisions(
        [
            {
                "record_type": "account",
                "record_id": "F1",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {
                "record_type": "account",
                "record_id": "F2",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {
                "record_type": "account",
                "record_id": "F3",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {
                "record_type": "lead",
                "record_id": "L2",
                "queue": "fallback-queue",
                "rule": "fallback_queue",
            },
            {"record_type": "account", "record_id": "S1", "owner_id": "A", "rule": "territory"},
        ]
    )
    recs = rule_gaps(conflicts([]), d, ACCOUNTS, LEADS, NAMED, SINCE)
    got = {r["subject"]: r["evidence"] for r in recs.iter_rows(named=True)}
    assert got == {"DE / SMB": 2, "BR / MM": 1, "DE / any segment": 1}
    assert set(recs["type"]) == {"fallback_queue"}
    assert recs.row(0, named=True)["recommendation"].startswith(
        "2 records fell to the fallback queue since 2026-11-16 from DE (SMB)"
    )


def test_multi_territory_conflicts_group_by_territory_pair() -> None:
    c = conflicts(
        [
            {"record_id": "A1", "conflict_type": "multi_territory", "candidates": cand("T2", "T1")},
            {"record_id": "A2", "conflict_type": "multi_territory", "candidates": cand("T1", "T2")},
            {"record_id": "A3", "conflict_type": "multi_territory", "candidates": cand("T3", "T1")},
            {
                "record_id": "A4",
                "conflict_type": "pipeline_owner_mismatch",
                "candidates": cand("T1", "T2"),
            },
        ]
    )
    recs = rule_gaps(c, decisions([]), ACCOUNTS, LEADS, NAMED, SINCE)
    assert [(r["subject"], r["evidence"]) for r in recs.iter_rows(named=True)] == [
        ("T1 and T2", 2),
        ("T1 and T3", 1),
    ]
    assert "distinct priorities" in recs["recommendation"][0]


def test_no_evidence_no_recommendations() -> None:
    recs = rule_gaps(conflicts([]), decisions([]), ACCOUNTS, LEADS, NAMED, SINCE)
    assert recs.is_empty() and recs.columns == ["type", "evidence", "subject", "recommendation"]


# ---------------------------------------------------------------- coverage


def coverage_inputs() -> dict[str, pl.DataFrame]:
    """A plan whose coverage problems are known: T-A and T-B (both priority 1) share two
    accounts and a lead, G1 matches no territory, and both members of T-DE are on leave.
    The frames the coverage marts read (coverage_marts' arguments)."""

    def match(
        record_type: str, record_id: str, territory_id: str, priority: int, source: str = "record"
    ) -> dict[str, object]:
        return {
            "record_type": record_type,
            "record_id": record_id,
            "territory_id": territory_id,
            "match_source": source,
            "priority": priority,
        }

    matches = pl.DataFrame(
        [
            match("account", "A1", "T-A", 1),
            match("account", "A1", "T-B", 1),
            match("account", "A1", "T-C", 2),
            match("account", "A2", "T-B", 1),
            match("account", "A2", "T-A", 1),
            match("lead", "L1", "T-A", 1),
            match("lead", "L1", "T-B", 1),
            # a tie below the record's best priority is settled by priority: not an overlap
            match("account", "A5", "T-DE", 1),
            match("account", "A5", "T-C", 2),
            match("account", "A5", "T-D", 2),
            # a lead covered only through its matched account is no gap, and no overlap
            match("lead", "L2", "T-A", 1, "account"),
            match("lead", "L2", "T-B", 1, "account"),
        ]
    )
    territories = pl.DataFrame(
        {
            "territory_id": ["T-A", "T-B", "T-C", "T-D", "T-DE"],
            "territory_name": ["US A", "US B", "US catch-all", "US spare", "Germany"],
            "priority": [1, 1, 2, 2, 1],
            "overflow_queue": [None, None, None, None, "overflow-de"],
        }
    )
    members = pl.DataFrame(
        {
            "territory_id": ["T-A", "T-B", "T-C", "T-D", "T-DE", "T-DE"],
            "rep_id": ["R1", "R2", "R3", "R4", "R6", "R5"],
            "rep_availability": ["available"] * 4 + ["on_leave", "on_leave"],
            "rep_is_available": [True] * 4 + [False, False],
        }
    )
    accounts = pl.DataFrame(
        {
            "account_id": ["A1", "A2", "A5", "G1"],
            "account_name": ["One", "Two", "Five", "Gap Co"],
            "country_code": ["US", "US", "DE", "BR"],
            "owner_id": ["R1", "R2", "R5", None],
            "has_valid_owner": [True, True, True, False],
        }
    )
    leads = pl.DataFrame(
        {
            "lead_id": ["L1", "L2"],
            "email": ["l1@x.com", "l2@y.com"],
            "country_code": ["US", "US"],
            "owner_id": pl.Series([None, None], dtype=pl.String),
        }
    )
    reps = pl.DataFrame(
        {"rep_id": ["R1", "R2", "R3", "R4", "R5", "R6"], "is_valid_owner": [True] * 6}
    )
    return {
        "matches": matches,
        "territories": territories,
        "members": members,
        "accounts": accounts,
        "leads": leads,
        "reps": reps,
    }


def coverage_data() -> report.ReportData:
    """Report data whose coverage marts the models built from coverage_inputs()."""
    inputs = coverage_inputs()
    return report.ReportData(
        since=SINCE,
        latest=None,
        decisions=decisions([]),
        conflicts=conflicts([]),
        workload=pl.DataFrame({"rep_id": [], "workload_index": []}),
        reps=inputs["reps"],
        accounts=inputs["accounts"],
        leads=inputs["leads"],
        named_accounts=NAMED,
        coverage=coverage_marts(**inputs),
    )


def test_coverage_report_finds_the_overlap_the_gap_and_the_unstaffed_territory() -> None:
    cov = report.coverage_report(coverage_data())
    assert cov.overlaps.rows(named=True) == [
        {
            "territory_a": "T-A",
            "territory_a_name": "US A",
            "territory_b": "T-B",
            "territory_b_name": "US B",
            "priority": 1,
            "records": 3,
            "accounts": 2,
            "leads": 1,
        }
    ]
    assert cov.gaps.rows(named=True) == [
        {
            "record_type": "account",
            "country": "BR",
            "records": 1,
            "needing_owner": 1,
            "examples": "G1 (Gap Co)",
        }
    ]
    assert cov.unstaffed.rows(named=True) == [
        {
            "territory_id": "T-DE",
            "territory_name": "Germany",
            "overflow_queue": "overflow-de",
            "matched_records": 1,
            "member_count": 2,
            "members": "R5 (on_leave), R6 (on_leave)",
        }
    ]
    assert cov.headline() == (
        "1 territory pairs overlap at equal priority (3 records); 1 records match no "
        "territory (1 of them need an owner); 1 territories have no available member."
    )


def test_coverage_gaps_count_who_needs_an_owner_and_group_by_country() -> None:
    inputs = coverage_inputs()
    accounts = pl.concat(
        [
            inputs["accounts"],
            pl.DataFrame(
                {
                    "account_id": ["G2", "G3", "G4", "G5"],
                    "account_name": ["b2", "b3", "b4", None],
                    "country_code": ["BR", "BR", "BR", None],
                    "owner_id": ["R1", None, "R-GONE", None],
                    "has_valid_owner": [True, False, False, False],
                }
            ),
        ]
    )
    leads = pl.concat(
        [
            inputs["leads"],
            pl.DataFrame(
                {
                    "lead_id": ["L3", "L4"],
                    "email": ["a@br.com", "b@br.com"],
                    "country_code": ["BR", "BR"],
                    "owner_id": ["R-GONE", "R2"],
                }
            ),
        ]
    )
    gaps = coverage_marts(**{**inputs, "accounts": accounts, "leads": leads}).gaps
    rows = {(r["record_type"], r["country"]): r for r in gaps.iter_rows(named=True)}
    assert set(rows) == {("account", "BR"), ("account", "unknown country"), ("lead", "BR")}
    brazil = rows[("account", "BR")]
    # G2's owner is valid: a gap in the plan, but nothing to route
    assert (brazil["records"], brazil["needing_owner"]) == (4, 3)
    assert brazil["examples"] == "G1 (Gap Co), G2 (b2), G3 (b3)"  # the first three by id
    assert rows[("account", "unknown country")]["examples"] == "G5"
    # L3's owner is unknown, L4's is valid
    assert (rows[("lead", "BR")]["records"], rows[("lead", "BR")]["needing_owner"]) == (2, 1)
    assert gaps["records"].to_list() == [4, 2, 1]  # largest gap first


def test_territories_with_no_members_are_unstaffed_and_one_available_member_is_enough() -> None:
    inputs = coverage_inputs()
    territories = pl.concat(
        [
            inputs["territories"],
            pl.DataFrame(
                {
                    "territory_id": ["T-NOBODY"],
                    "territory_name": ["Nobody"],
                    "priority": [3],
                    "overflow_queue": pl.Series([None], dtype=pl.String),
                }
            ),
        ]
    )
    members = pl.concat(
        [
            inputs["members"],
            pl.DataFrame(
                {
                    "territory_id": ["T-DE"],
                    "rep_id": ["R7"],
                    "rep_availability": ["terminated"],
                    "rep_is_available": [False],
                }
            ),
        ]
    )
    got = coverage_marts(**{**inputs, "territories": territories, "members": members}).unstaffed
    assert got.select("territory_id", "member_count", "members").rows() == [
        ("T-DE", 3, "R5 (on_leave), R6 (on_leave), R7 (terminated)"),
        ("T-NOBODY", 0, None),
    ]
    back = members.with_columns(
        rep_is_available=pl.when(pl.col("rep_id") == "R5")
        .then(True)
        .otherwise(pl.col("rep_is_available"))
    )
    got = coverage_marts(**{**inputs, "territories": territories, "members": back}).unstaffed
    assert got["territory_id"].to_list() == ["T-NOBODY"]


def test_a_fully_covered_plan_has_nothing_to_report() -> None:
    data = coverage_data()
    inputs = coverage_inputs()
    matches = (
        inputs["matches"]
        .filter(pl.col("territory_id") != "T-B")
        .vstack(
            pl.DataFrame(
                [
                    {
                        "record_type": "account",
                        "record_id": "G1",
                        "territory_id": "T-C",
                        "match_source": "record",
                        "priority": 2,
                    }
                ]
            )
        )
    )
    members = inputs["members"].with_columns(rep_is_available=pl.lit(True))
    cov = report.coverage_report(
        report.ReportData(
            **{
                **data.__dict__,
                "coverage": coverage_marts(**{**inputs, "matches": matches, "members": members}),
            }
        )
    )
    assert cov.overlaps.is_empty() and cov.gaps.is_empty() and cov.unstaffed.is_empty()
    assert cov.headline().startswith("Every record matches a territory")


def test_a_warehouse_built_before_the_coverage_marts_says_to_build_them() -> None:
    con = duckdb.connect()
    try:
        con.execute("create schema marts")
        with pytest.raises(
            FileNotFoundError, match=r"marts.fct_territory_overlaps does not exist.*run hourly"
        ):
            read_coverage(con)
    finally:
        con.close()


def test_coverage_needs_the_coverage_frames() -> None:
    data = coverage_data()
    with pytest.raises(ValueError, match="coverage=True"):
        report.coverage_report(report.ReportData(**{**data.__dict__, "coverage": None}))


# ---------------------------------------------------------------- HTML


def test_status_is_the_reps_availability_first_then_the_index_against_the_marks() -> None:
    reps = pl.DataFrame(
        {
            "rep_id": ["L", "T", "D", "P", "O", "R", "K", "N", "U"],
            "rep_name": list("ltdporknu"),
            "team": ["East"] * 5 + ["West"] * 4,
            "carries_accounts": [True] * 9,
            "availability": [
                "on_leave",
                "terminated",
                "deactivated",
                "data_problem",
                "available",
                "available",
                "available",
                "available",
                None,
            ],
        }
    )
    workload = pl.DataFrame(
        {
            "rep_id": ["L", "T", "D", "P", "O", "R", "K", "U"],
            "workload_index": [150.0, 10.0, 100.0, 50.0, 100.0, 95.0, 94.9, 30.0],
        }
    )
    w = report.workload_report(workload, reps, decisions([]), RoutingConfig())
    status = dict(w.per_rep.select("rep_id", "status").iter_rows())
    assert status == {
        "L": "on_leave",
        "T": "terminated",
        "D": "deactivated",
        "P": "data_problem",
        "O": "over capacity",
        "R": "above release",
        "K": "ok",
        "N": "no index",
        "U": "ok",
    }
    assert w.headline().startswith(
        "1 of 9 reps are over capacity (index at or above the high-water mark, 100). 4 take "
        "no new records (1 data problem, 1 deactivated, 1 on leave, 1 terminated)."
    )
    teams = {r["team"]: r for r in w.teams.iter_rows(named=True)}
    assert (teams["East"]["unavailable"], teams["West"]["unavailable"]) == (4, 0)
    assert (teams["East"]["over_high_water"], teams["West"]["over_high_water"]) == (3, 0)


def small_report_data() -> report.ReportData:
    d = decisions(
        [{"record_type": "lead", "record_id": "L1", "owner_id": "A", "rule": "territory"}]
    )
    c = conflicts([{"record_id": "S1", "conflict_type": "named_subsidiary"}]).with_columns(
        day=pl.lit(datetime(2026, 11, 20).date())
    )
    return report.ReportData(
        since=SINCE,
        latest=datetime(2026, 11, 23, 9),
        decisions=d,
        conflicts=c,
        workload=pl.DataFrame({"rep_id": ["A", "B"], "workload_index": [50.0, 120.0]}),
        reps=pl.DataFrame(
            {
                "rep_id": ["A", "B"],
                "rep_name": ["Ann <b>", "Bo"],
                "team": ["East", "East"],
                "availability": ["available", "on_leave"],
            }
        ),
        accounts=ACCOUNTS,
        leads=LEADS,
        named_accounts=NAMED,
    )


def test_render_html_is_one_offline_page_with_a_table_of_contents() -> None:
    data = small_report_data()
    page = report.render_html(
        *report.build_all(data, RoutingConfig()), since=SINCE, latest=data.latest
    )
    assert page.startswith("<!DOCTYPE html>")
    assert "<script src=" not in page and "http://" not in page and "https://" not in page
    assert "<link" not in page and "@import" not in page
    assert "Ann &lt;b&gt;" in page and "Ann <b>" not in page
    assert "1 records routed" in page  # headline at the top
    assert "subsidiary-of-named-account rule for parents P1" in page
    assert "Territory coverage" not in page  # no coverage frames, no section
    ids = re.findall(r"""\bid=['"]([^'"]+)['"]""", page)
    assert len(ids) == len(set(ids))
    links = re.findall(r"<a href='#([^']+)'>", page.split("</nav>")[0])
    assert len(links) >= 12 and set(links) <= set(ids)
    # one day of conflicts: a number per type, not a one-bar chart
    tiles = page.split("id='conflicts-day-tiles'>", 1)[1].split("</div></div></div>")[0]
    assert "conflicts on 2026-11-20" in tiles and "named subsidiary" in tiles
    assert "conflicts-per-day" not in page
    # every chart has both axis titles
    figures = page.split('<figure class="chart"')[1:]
    assert len(figures) == 6
    assert all(f.split("</figure>")[0].count('class="axis-title"') == 2 for f in figures)
    # the on-leave rep over the mark is on leave, not over capacity
    reps = page.split("id='table-reps'>", 1)[1].split("</table>")[0]
    assert "<td>Bo</td><td class='num'>120.0</td><td>on_leave</td>" in reps


def test_an_empty_window_renders_each_chart_as_nothing_to_show() -> None:
    data = report.ReportData(
        since=SINCE,
        latest=None,
        decisions=decisions([]),
        conflicts=conflicts([]).with_columns(day=pl.lit(None, pl.Date())),
        workload=pl.DataFrame(schema={"rep_id": pl.String(), "workload_index": pl.Float64()}),
        reps=pl.DataFrame(
            schema={"rep_id": pl.String(), "rep_name": pl.String(), "team": pl.String()}
        ),
        accounts=ACCOUNTS,
        leads=LEADS,
        named_accounts=NAMED,
    )
    page = report.render_html(*report.build_all(data, RoutingConfig()), since=SINCE)
    figures = page.split('<figure class="chart"')[1:]
    assert len(figures) == 6 and "<svg" not in "".join(figures)
    assert page.count("Nothing to show.") == 6
    assert "No conflicts in this window." in page


def test_conflicts_over_several_days_are_a_stacked_chart_with_a_label_per_day() -> None:
    data = small_report_data()
    c = conflicts(
        [
            {"record_id": f"S{i}", "conflict_type": kind}
            for i, kind in enumerate(["multi_territory"] * 3 + ["named_subsidiary"])
        ]
    ).with_columns(day=pl.Series([datetime(2026, 11, d).date() for d in (20, 21, 21, 23)]))
    data = report.ReportData(**{**data.__dict__, "conflicts": c})
    page = report.render_html(*report.build_all(data, RoutingConfig()), since=SINCE)
    chart = page.split('id="conflicts-per-day">', 1)[1].split("</figure>")[0]
    assert re.findall(r'class="tick"[^>]*>(2026-[^<]+)<', chart) == [
        "2026-11-20",
        "2026-11-21",
        "2026-11-23",
    ]
    assert "multi_territory</li>" in chart and "named_subsidiary</li>" in chart
    assert len(re.findall("<rect ", chart)) == 3  # one per (day, type)


def test_the_million_account_shape_renders_top_and_bottom_reps_and_every_rep() -> None:
    data = large_org()
    routing, workload, conflicts_report = report.build_all(data, RoutingConfig())
    page = report.render_html(
        routing,
        workload,
        conflicts_report,
        data.since,
        data.latest,
        coverage=report.coverage_report(data),
    )
    assert len(page.encode()) < 1_000_000

    def chart(chart_id: str) -> str:
        return page.split(f'id="{chart_id}">', 1)[1].split("</figure>")[0]

    assert chart("workload-top").count('class="label"') == TOP_REPS
    assert chart("workload-room").count('class="label"') == TOP_REPS
    assert chart("workload-teams").count('class="label"') == 24
    assert chart("workload-teams").count("<circle") == 1000
    table = page.split("id='table-reps'>", 1)[1].split("</table>")[0]
    assert table.count("<tr>") == 1001  # the header and every rep
    assert workload.status_counts()["on_leave"] == 30


# ---------------------------------------------------------------- charts


def test_hbar_has_a_label_and_value_per_row_shortened_and_escaped() -> None:
    frame = pl.DataFrame({"name": ["short", "x" * 60, "<b>"], "n": [3, 10, 0]})
    svg = charts.hbar(
        frame,
        label="name",
        value="n",
        chart_id="c",
        title="T",
        x_title="Records",
        y_title="Name",
        lines=[charts.RefLine(8, "the line", "#f00")],
    )
    labels = re.findall(r'class="label"[^>]*>([^<]*)<', svg)
    assert labels == ["short", "x" * (charts.LABEL_CHARS - 1) + "…", "&lt;b&gt;"]
    assert re.findall(r'class="value"[^>]*>([^<]*)<', svg) == ["3", "10", "0"]
    assert "<title>" + "x" * 60 in svg  # the whole label in the tooltip
    assert svg.count("the line") == 2  # named once in the legend, once as the tooltip
    assert re.findall(r'class="axis-title"[^>]*>([^<]*)<', svg) == ["Name", "Records"]


def test_value_ticks_are_round_cover_the_top_and_leave_room_for_their_labels() -> None:
    for top, room in ((166.1, 600.0), (0.51, 700.0), (7.0, 200.0), (123_456.0, 500.0)):
        ticks = charts.value_ticks(top, room)
        assert ticks[0] == 0 and ticks[-1] >= top and len(ticks) >= 2
        gap = room / (len(ticks) - 1)
        assert gap >= charts.text_width(max(len(charts.short_number(t)) for t in ticks))
    assert charts.value_ticks(7.0, 220.0, gap=30, whole=True) == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [charts.short_number(v) for v in (0, 2.5, 950, 2500, 40_000, 1_200_000)] == [
        "0",
        "2.5",
        "950",
        "2.5k",
        "40k",
        "1.2M",
    ]


def test_histogram_counts_every_value_once() -> None:
    values = pl.Series([0.0, 4.9, 5.0, 99.9, 100.0, 250.0, None])
    svg = charts.histogram(
        values,
        chart_id="h",
        title="T",
        x_title="Index",
        y_title="Reps",
        lines=[charts.RefLine(100, "hw", "#f00")],
    )
    bins = {
        (float(a), float(b)): int(n)
        for a, b, n in re.findall(r"<title>([\d.]+) to ([\d.]+): (\d+)</title>", svg)
    }
    assert len(bins) == 26  # 0 to 260 in tens: the largest value is 250
    assert {k: n for k, n in bins.items() if n} == {
        (0, 10): 3,
        (90, 100): 1,
        (100, 110): 1,
        (250, 260): 1,
    }


def test_stacked_columns_thin_their_labels_so_that_none_touches_the_next() -> None:
    days = pl.date_range(datetime(2026, 1, 1), datetime(2026, 3, 31), eager=True)
    frame = pl.DataFrame({"day": days.cast(pl.String), "kind": "a", "n": 1})
    svg = charts.stacked_columns(
        frame,
        category="day",
        series="kind",
        value="n",
        chart_id="s",
        title="T",
        x_title="Day",
        y_title="N",
        palette=["#000"],
    )
    xs = [
        float(x)
        for x in re.findall(
            r'class="tick" x="([\d.]+)" y="[\d.]+" '
            r'text-anchor="middle">2026',
            svg,
        )
    ]
    assert 2 < len(xs) < days.len()
    assert min(b - a for a, b in itertools.pairwise(xs)) >= charts.text_width(10)


def test_render_html_includes_the_coverage_section() -> None:
    data = coverage_data()
    d = decisions(
        [{"record_type": "lead", "record_id": "L1", "owner_id": "R1", "rule": "territory"}]
    )
    data = report.ReportData(
        **{
            **data.__dict__,
            "decisions": d,
            "workload": pl.DataFrame({"rep_id": ["R1"], "workload_index": [50.0]}),
            "reps": data.reps.with_columns(rep_name=pl.col("rep_id"), team=pl.lit("East")),
            "conflicts": conflicts([]).with_columns(day=pl.lit(None, pl.Date())),
        }
    )
    cov = report.coverage_report(data)
    page = report.render_html(*report.build_all(data, RoutingConfig()), since=SINCE, coverage=cov)
    section = page.split("<h2>Territory coverage</h2>", 1)[1]
    headline = page.split('id="headline">', 1)[1].split("</p>", 1)[0]
    assert "1 territory pairs overlap at equal priority" in headline
    assert "<td>T-A</td><td>US A</td><td>T-B</td>" in section
    assert "<td>G1 (Gap Co)</td>" in section
    assert "<td>R5 (on_leave), R6 (on_leave)</td>" in section


# --------------------------------------------------------------------------- territory fairness


def fairness_rows() -> pl.DataFrame:
    """fct_territory_fairness rows: T-SKEW drifted (R-L +7.3, R-C -7.3 in 7 days), T-EVEN
    even, T-IDLE without picks."""

    def row(
        territory: str,
        days: int,
        rep: str,
        records: int,
        expected: float | None,
        max_drift: float,
        gini: float,
    ) -> dict[str, object]:
        return {
            "territory_id": territory,
            "territory_name": territory.title(),
            "window_days": days,
            "rep_id": rep,
            "rep_name": f"Rep {rep}",
            "weight": 1.0,
            "available_days": days,
            "records": records,
            "expected_records": expected,
            "drift_records": None if expected is None else records - expected,
            "territory_records": 0,
            "territory_max_abs_drift_records": max_drift,
            "territory_gini": gini,
        }

    rows = [
        row("T-EVEN", 7, "R-A", 3, 3.0, 0.0, 0.0),
        row("T-EVEN", 7, "R-B", 3, 3.0, 0.0, 0.0),
        row("T-SKEW", 7, "R-L", 10, 2.666667, 7.333333, 0.45),
        row("T-SKEW", 7, "R-C", 2, 9.333333, 7.333333, 0.45),
        row("T-IDLE", 7, "R-D", 0, 0.0, 0.0, 0.0),
        row("T-SKEW", 30, "R-L", 10, 7.5, 2.5, 0.1),
        row("T-SKEW", 30, "R-C", 2, 4.5, 2.5, 0.1),
    ]
    frame = pl.DataFrame(rows, schema={k: v for k, v in FAIRNESS_SCHEMA.items() if k in rows[0]})
    return frame.with_columns(
        territory_records=pl.col("records").sum().over("territory_id", "window_days")
    )


def test_fairness_report_puts_the_most_drifted_territory_first() -> None:
    fair = report.fairness_report(fairness_rows())
    week = fair.window(7)
    assert week["territory_id"].to_list() == ["T-SKEW", "T-EVEN", "T-IDLE"]
    skew = week.row(0, named=True)
    assert (skew["members"], skew["records"], skew["beyond_tolerance"]) == (2, 12, 2)
    assert (skew["most_over"], skew["most_under"]) == ("Rep R-L (+7.3)", "Rep R-C (-7.3)")
    even = week.row(1, named=True)
    assert (even["beyond_tolerance"], even["most_over"], even["most_under"]) == (0, None, None)
    # 30 days: drift 2.5 against 2 + 10% of 7.5 (2.75) is within; of 4.5 (2.45) beyond
    month = fair.window(30).row(0, named=True)
    assert month["beyond_tolerance"] == 1
    assert fair.drifted(7)["territory_id"].to_list() == ["T-SKEW"]
    assert fair.headline(7) == (
        "Territory fairness, last 7 days: 1 of 2 territories the pick gave records to have a "
        "member off the weighted share by more than 2 records + 10%. Most drifted: T-Skew "
        "(max drift 7.3 records, Gini 0.45)."
    )
    empty = report.fairness_report(pl.DataFrame(schema=FAIRNESS_SCHEMA))
    assert empty.headline() == "The territory pick gave no records in the last 7 days."


def test_the_report_tolerance_is_the_dbt_warning_s() -> None:
    """warn_territory_pick_drift (the mart's yml) and the report flag the same members."""
    spec = yaml.safe_load(
        (dbt.PROJECT_DIR / "models" / "marts" / "_marts__models.yml").read_text(encoding="utf-8")
    )
    mart = next(m for m in spec["models"] if m["name"] == "fct_territory_fairness")
    drift = next(c for c in mart["columns"] if c["name"] == "drift_records")
    (warning,) = [t["drift_within_tolerance"] for t in drift["data_tests"]]
    assert warning["name"] == "warn_territory_pick_drift"
    assert warning["config"]["severity"] == "warn"
    assert warning["arguments"]["absolute"] == DRIFT_ABSOLUTE
    assert warning["arguments"]["relative"] == DRIFT_RELATIVE


def test_render_html_includes_the_fairness_section_worst_first() -> None:
    data = small_report_data()
    fair = report.fairness_report(fairness_rows())
    page = report.render_html(*report.build_all(data, RoutingConfig()), since=SINCE, fairness=fair)
    section = page.split('<section id="fairness">', 1)[1].split("</section>")[0]
    assert "<h2>Territory fairness</h2>" in section
    assert "Most drifted: T-Skew" in page.split('id="headline">', 1)[1].split("</p>")[0]
    week = section.split("id='table-fairness-week'>", 1)[1].split("</table>")[0]
    assert week.index("T-SKEW") < week.index("T-EVEN") < week.index("T-IDLE")
    assert "data-type='num'>max abs drift</th>" in week  # sortable as a number
    members = section.split("id='table-fairness-members'>", 1)[1].split("</table>")[0]
    assert members.count("<tr>") == 1 + 3  # header; R-L and R-C in 7 days, R-C in 30
    assert 'id="fairness-territories"' in section and 'id="fairness-members"' in section
    links = re.findall(r"<a href='#([^']+)'>", page.split("</nav>")[0])
    ids = set(re.findall(r"""\bid=['"]([^'"]+)['"]""", page))
    assert "fairness" in links and set(links) <= ids
    assert "Territory fairness" not in report.render_html(
        *report.build_all(data, RoutingConfig()), since=SINCE
    )


def test_diverging_bars_go_left_below_zero_and_right_above() -> None:
    frame = pl.DataFrame({"name": ["over", "under", "<b>"], "d": [7.3, -2.5, 0.0]})
    svg = charts.diverging(
        frame, label="name", value="d", chart_id="c", title="T", x_title="Drift", y_title="Member"
    )
    rects = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    zero = float(re.findall(r'<line class="axis" x1="([\d.]+)"', svg)[0])
    (x_over, w_over), (x_under, w_under), (_, w_none) = [(float(x), float(w)) for x, w in rects]
    assert x_over == zero and x_under == pytest.approx(zero - w_under)
    assert w_over / w_under == pytest.approx(7.3 / 2.5, rel=0.01) and w_none == 0
    assert re.findall(r'class="value"[^>]*>([^<]*)<', svg) == ["7.3", "-2.5", "0.0"]
    assert re.findall(r'text-anchor="(start|end)">-?[\d.]+<', svg) == ["start", "end", "start"]
    assert re.findall(r'class="label"[^>]*>([^<]*)<', svg) == ["over", "under", "&lt;b&gt;"]
    ticks = [float(t) for t in re.findall(r'class="tick"[^>]*>([^<]*)<', svg)]
    assert ticks == sorted(ticks) and ticks[0] == -ticks[-1] and ticks[-1] >= 7.3
    assert "Nothing to show" in charts.diverging(
        frame.head(0), label="name", value="d", chart_id="c", title="T", x_title="x", y_title="y"
    )


def test_the_demo_drift_story_reads_the_overload_territory() -> None:
    from switchboard.stories import _drift_story

    rows = fairness_rows().filter(pl.col("territory_id") == "T-SKEW", pl.col("window_days") == 7)
    rows = rows.with_columns(
        pl.col("rep_id").replace({"R-L": "REP-LIGHT", "R-C": "REP-OVER"}),
        available_days=pl.Series([4, 7]),
    )
    story = _drift_story(rows)
    assert story is not None
    assert story[0].startswith("T-Skew's territory picks drifted over the last 7 days")
    assert story[1].startswith(
        "REP-LIGHT got 10 of the territory's 12 picks in 4 available days: expected 2.7, "
        "drift +7.3 records (beyond the tolerance of 2 + 10%); REP-OVER, over capacity, got 2 "
        "(drift -7.3)."
    )
    assert story[1].endswith("warn_territory_pick_drift names 2 of its 2 members.")
    assert _drift_story(rows.head(0)) is None
