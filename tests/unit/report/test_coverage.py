"""switchboard.report.coverage: overlaps, gaps and unstaffed territories, and their section
of the page."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from switchboard import report
from switchboard.config import RoutingConfig
from switchboard.report.data import read_coverage
from tests.coverage_marts import coverage_marts

from .conftest import NAMED, SINCE, conflicts, decisions


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
