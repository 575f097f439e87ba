"""switchboard.report.page: one offline HTML page, its charts and the reps' status."""

from __future__ import annotations

import re
from datetime import datetime

import polars as pl

from switchboard import report
from switchboard.config import RoutingConfig
from switchboard.report.sections import TOP_REPS
from tests.report_shapes import large_org

from .conftest import ACCOUNTS, LEADS, NAMED, SINCE, conflicts, decisions, small_report_data


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
