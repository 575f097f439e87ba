"""switchboard.report.workload: Gini per group, spread per team, the workload table."""

from __future__ import annotations

import polars as pl
import pytest

from switchboard import report
from switchboard.config import RoutingConfig
from switchboard.report.workload import fairness, gini

from .conftest import decisions


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
