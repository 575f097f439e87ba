"""switchboard.report.territory_fairness: the most drifted territory first, the dbt
warning's tolerance, the page's section and the demo's drift story."""

from __future__ import annotations

import re

import polars as pl
import yaml

from switchboard import dbt, report
from switchboard.config import RoutingConfig
from switchboard.report.data import FAIRNESS_SCHEMA
from switchboard.report.territory_fairness import DRIFT_ABSOLUTE, DRIFT_RELATIVE

from .conftest import SINCE, small_report_data


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
