"""The HTML sections of the report page: tables, number tiles and the charts of each
report (switchboard.charts draws them as inline SVG)."""

from __future__ import annotations

import html

import polars as pl

from switchboard import charts
from switchboard.charts import esc
from switchboard.report.conflicts import ConflictsReport
from switchboard.report.coverage import CoverageReport
from switchboard.report.territory_fairness import (
    DRIFT_ABSOLUTE,
    DRIFT_RELATIVE,
    FAIRNESS_WINDOWS,
    FairnessReport,
)
from switchboard.report.workload import ABOVE_RELEASE, NO_INDEX, OK, OVER_CAPACITY, WorkloadReport

TABLE_ROWS = 500  # rows a table shows (the reps table shows every rep)
TOP_REPS = 15  # reps in each of the highest / lowest workload charts
STATUS_COLOURS = {
    OK: "#3b6ea5",
    ABOVE_RELEASE: "#e67e22",
    OVER_CAPACITY: "#c0392b",
    NO_INDEX: "#b8c2cc",
    "on_leave": "#8e6fb5",
    "terminated": "#4d4d4d",
    "deactivated": "#95a5a6",
    "role_change": "#a0785a",
    "data_problem": "#d4ac0d",
    "not_in_hr": "#5d6d7e",
}
UNAVAILABLE_COLOUR = "#7f8c8d"  # an availability this list does not know
SERIES = ("#3b6ea5", "#e67e22", "#16a085", "#8e6fb5", "#c0392b", "#7f8c8d")


def data_table(frame: pl.DataFrame, table_id: str, limit: int | None = TABLE_ROWS) -> str:
    """A sortable (click a header) and filterable table; numbers right-aligned."""
    if frame.is_empty():
        return "<p class='empty'>None.</p>"
    numeric = {c for c, t in frame.schema.items() if t.is_numeric()}
    num_head = " class='num' data-type='num'"
    head = "".join(
        f"<th scope='col'{num_head if c in numeric else ''}>{html.escape(c.replace('_', ' '))}</th>"
        for c in frame.columns
    )
    shown = frame if limit is None else frame.head(limit)
    cells = shown.with_columns(pl.col(pl.Float32, pl.Float64).round(2)).select(
        pl.concat_str(
            [
                pl.format(
                    "<td{}>{}</td>", pl.lit(" class='num'" if c in numeric else ""), esc(pl.col(c))
                )
                for c in frame.columns
            ]
        ).alias("cells")
    )
    body = cells.select(pl.format("<tr>{}</tr>", "cells").str.join("")).item()
    note = (
        f" (the first {shown.height:,} of {frame.height:,})" if shown.height < frame.height else ""
    )
    return (
        f"<div class='table-tools'><input type='search' class='filter' "
        f"data-table='{table_id}' placeholder='Filter rows' aria-label='Filter rows'> "
        f"<span class='count' id='{table_id}-count'>{shown.height:,} rows{note}</span>"
        f"</div><div class='table-wrap'><table class='data' id='{table_id}'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def kpi_tiles(tiles: list[tuple[str, str]], tiles_id: str) -> str:
    """Numbers as tiles: (value, what it counts)."""
    items = "".join(
        f"<div class='kpi'><div class='kpi-value'>{html.escape(value)}</div>"
        f"<div class='kpi-label'>{html.escape(label)}</div></div>"
        for value, label in tiles
    )
    return f"<div class='kpis' id='{tiles_id}'>{items}</div>"


def _status_colour(column: str = "status") -> pl.Expr:
    return pl.col(column).replace_strict(
        STATUS_COLOURS, default=UNAVAILABLE_COLOUR, return_dtype=pl.String
    )


def _status_legend(statuses: list[str]) -> list[tuple[str, str, str]]:
    order = [OK, ABOVE_RELEASE, OVER_CAPACITY, NO_INDEX]
    ranked = sorted(set(statuses), key=lambda s: (order.index(s) if s in order else 9, s))
    return [("box", STATUS_COLOURS.get(s, UNAVAILABLE_COLOUR), s.replace("_", " ")) for s in ranked]


def _capacity_lines(workload: WorkloadReport) -> list[charts.RefLine]:
    return [
        charts.RefLine(
            workload.high_water,
            f"high-water mark ({workload.high_water:g}): no new records at or above it",
            "#c0392b",
            "6 4",
        ),
        charts.RefLine(
            workload.release,
            f"release mark ({workload.release:g}): an overflowing rep takes records again below it",
            "#e67e22",
            "2 3",
        ),
    ]


def workload_charts(workload: WorkloadReport) -> dict[str, str]:
    """The histogram of every rep, the highest and lowest reps, every rep by team, and the
    fairness of each team (chart ids: workload-histogram, workload-top, workload-room,
    workload-teams, workload-fairness)."""
    lines = _capacity_lines(workload)
    x_title = "Workload index (100 = at capacity)"
    indexed = workload.per_rep.filter(pl.col("workload_index").is_not_null()).with_columns(
        label=pl.format("{} ({})", "rep_name", "team"),
        colour=_status_colour(),
        tip=pl.format(
            "{} ({}), {}: {}", "rep_name", "team", "status", pl.col("workload_index").round(1)
        ),
    )
    out = {
        "histogram": charts.histogram(
            indexed["workload_index"],
            chart_id="workload-histogram",
            title=f"Workload index of all {indexed.height:,} reps with an index",
            x_title=x_title,
            y_title="Reps",
            lines=lines,
        )
    }
    by_index = indexed.sort(["workload_index", "rep_id"], descending=[True, False])
    statuses = by_index["status"].to_list()
    if by_index.height <= 2 * TOP_REPS:
        out["top"] = charts.hbar(
            by_index,
            label="label",
            value="workload_index",
            chart_id="workload-top",
            title=f"Workload index of each of the {by_index.height} reps",
            x_title=x_title,
            y_title="Rep (team)",
            color="colour",
            tooltip="tip",
            lines=lines,
            legend=_status_legend(statuses),
            decimals=1,
        )
    else:
        top = by_index.head(TOP_REPS)
        room = (
            by_index.filter(pl.col("status").is_in([OK, ABOVE_RELEASE, OVER_CAPACITY]))
            .tail(TOP_REPS)
            .reverse()
        )
        out["top"] = charts.hbar(
            top,
            label="label",
            value="workload_index",
            chart_id="workload-top",
            title=f"The {top.height} reps with the highest workload index (of {by_index.height:,})",
            x_title=x_title,
            y_title="Rep (team)",
            color="colour",
            tooltip="tip",
            lines=lines,
            legend=_status_legend(top["status"].to_list()),
            decimals=1,
        )
        out["room"] = charts.hbar(
            room,
            label="label",
            value="workload_index",
            chart_id="workload-room",
            title=f"The {room.height} available reps with the most room (lowest workload index)",
            x_title=x_title,
            y_title="Rep (team)",
            color="colour",
            tooltip="tip",
            lines=lines,
            legend=_status_legend(room["status"].to_list()),
            decimals=1,
        )
    out["teams"] = charts.strip(
        indexed,
        group="team",
        value="workload_index",
        chart_id="workload-teams",
        title="Every rep's workload index, by team (one dot per rep)",
        x_title=x_title,
        y_title="Team",
        color="colour",
        tooltip="tip",
        lines=lines,
        legend=_status_legend(statuses),
    )
    out["fairness"] = charts.hbar(
        workload.teams.with_columns(pl.col("gini").fill_null(0.0)),
        label="team",
        value="gini",
        chart_id="workload-fairness",
        title="Fairness of new assignments per team (Gini, 0 = even)",
        x_title="Gini coefficient of new assignments per rep (0 = even, 1 = one rep took all)",
        y_title="Team",
        decimals=2,
        x_max=1.0,
    )
    return out


def conflicts_per_day(conflicts: ConflictsReport) -> str:
    """One day of conflicts is a number per type (tiles), several days a stacked chart."""
    per_day = conflicts.per_day
    days = per_day["day"].drop_nulls().n_unique() if per_day.height else 0
    if days == 0:
        return "<p class='empty'>No conflicts in this window.</p>"
    if days == 1:
        day = per_day["day"].drop_nulls()[0]
        by_type = (
            per_day.group_by("conflict_type")
            .agg(pl.col("conflicts").sum())
            .sort(["conflicts", "conflict_type"], descending=[True, False])
        )
        tiles = [(f"{int(by_type['conflicts'].sum()):,}", f"conflicts on {day}")] + [
            (f"{int(n):,}", str(kind).replace("_", " ")) for kind, n in by_type.iter_rows()
        ]
        return kpi_tiles(tiles, "conflicts-day-tiles")
    return charts.stacked_columns(
        per_day.with_columns(pl.col("day").cast(pl.String)),
        category="day",
        series="conflict_type",
        value="conflicts",
        chart_id="conflicts-per-day",
        title="Conflicts per day, by type",
        x_title="Day (the run's as-of date)",
        y_title="Conflicts",
        palette=SERIES,
    )


def coverage_section(coverage: CoverageReport | None) -> str:
    if coverage is None:
        return ""
    return f"""<section id="coverage"><h2>Territory coverage</h2>
<p>The territory plan as the latest build matched it (not limited to the window).
{html.escape(coverage.headline())}</p>
<h3 id="coverage-overlaps">Territories overlapping at equal priority</h3>
<p>Both match these records at the records' best priority; the engine settles each by
specificity, then territory_id. Give them distinct priorities or disjoint criteria.</p>
{data_table(coverage.overlaps, "table-overlaps")}
<h3 id="coverage-gaps">Records no territory matches</h3>
<p>The territory rule cannot place them; those needing an owner go to the fallback queue
unless another rule applies.</p>
{data_table(coverage.gaps, "table-gaps")}
<h3 id="coverage-unstaffed">Territories without an available member</h3>
<p>Every record the territory rule gives them goes to their overflow queue.</p>
{data_table(coverage.unstaffed, "table-unstaffed")}
</section>"""


FAIRNESS_TERRITORIES = 15  # territories in the largest-drift chart
DRIFT_TERRITORIES = 5  # territories whose members the drift chart shows
DRIFTED_COLOUR = "#c0392b"


def _fairness_charts(fairness: FairnessReport, days: int) -> tuple[str, str]:
    """The territories with the largest drift, and every member's drift in the most drifted
    territories (chart ids fairness-territories, fairness-members)."""
    picked = fairness.window(days).filter(pl.col("records") > 0)
    top = picked.head(FAIRNESS_TERRITORIES).with_columns(
        label=pl.col("territory_name").fill_null(pl.col("territory_id")),
        colour=pl.when(pl.col("beyond_tolerance") > 0)
        .then(pl.lit(DRIFTED_COLOUR))
        .otherwise(pl.lit(charts.BLUE)),
        tip=pl.format(
            "{} ({}): {} records, Gini {}, {} of {} members beyond the tolerance",
            pl.col("territory_name").fill_null(""),
            "territory_id",
            "records",
            charts.fixed(pl.col("gini"), 2),
            "beyond_tolerance",
            "members",
        ),
    )
    tolerance = f"more than {DRIFT_ABSOLUTE:g} records + {DRIFT_RELATIVE:.0%} of the share"
    territories = charts.hbar(
        top,
        label="label",
        value="max_abs_drift",
        chart_id="fairness-territories",
        title=f"The {top.height} territories with the largest drift, last {days} days"
        if picked.height > top.height
        else f"Largest drift per territory, last {days} days",
        x_title="Largest |records - expected records| of a member",
        y_title="Territory",
        color="colour",
        tooltip="tip",
        decimals=1,
        legend=[
            ("box", DRIFTED_COLOUR, f"a member drifted {tolerance}"),
            ("box", charts.BLUE, "within the tolerance"),
        ],
    )
    worst = picked.head(DRIFT_TERRITORIES).select("territory_id").with_row_index("rank")
    members = (
        fairness.members.filter(pl.col("window_days") == days)
        .join(worst, on="territory_id")
        .sort(["rank", "drift_records"], descending=[False, True])
        .with_columns(
            label=pl.format(
                "{} ({})",
                pl.col("rep_name").fill_null(pl.col("rep_id")),
                pl.col("territory_name").fill_null(pl.col("territory_id")),
            ),
            tip=pl.format(
                "{} in {}: {} records, expected {} (weight {}, {} days available)",
                pl.col("rep_name").fill_null(pl.col("rep_id")),
                pl.col("territory_name").fill_null(pl.col("territory_id")),
                "records",
                charts.fixed(pl.col("expected_records"), 1),
                "weight",
                "available_days",
            ),
        )
    )
    drift = charts.diverging(
        members,
        label="label",
        value="drift_records",
        chart_id="fairness-members",
        title=f"Each member's drift in the {worst.height} most drifted territories, last "
        f"{days} days",
        x_title="Records - expected records (weighted share of the days available)",
        y_title="Member (territory)",
        tooltip="tip",
        legend=[
            ("box", "#e67e22", "more than the share"),
            ("box", charts.BLUE, "fewer than the share"),
        ],
    )
    return territories, drift


def fairness_section(fairness: FairnessReport | None) -> str:
    if fairness is None:
        return ""
    days, longer = FAIRNESS_WINDOWS
    territories, drift = _fairness_charts(fairness, days)
    picked = fairness.window(days).filter(pl.col("records") > 0)
    top = picked.row(0, named=True) if picked.height else None
    tiles = kpi_tiles(
        [
            (f"{picked.height:,}", f"territories the pick gave records to (last {days} days)"),
            (f"{fairness.drifted(days).height:,}", "with a member beyond the tolerance"),
            (f"{top['max_abs_drift']:.1f}" if top else "—", "largest drift (records)"),
            (
                f"{fairness.drifted(longer).height:,}",
                f"territories beyond the tolerance (last {longer} days)",
            ),
        ],
        "fairness-kpis",
    )
    beyond = (
        fairness.members.filter(pl.col("beyond_tolerance"))
        .sort(["window_days", "drift_records"], descending=[False, True])
        .select(
            "window_days",
            "territory_id",
            "rep_name",
            "weight",
            "available_days",
            "records",
            "expected_records",
            "drift_records",
        )
    )
    return f"""<section id="fairness"><h2>Territory fairness</h2>
<p>What the territory rule's capacity pick gave each member (marts.fct_territory_fairness),
against the member's weighted share of the territory's records: weight &times; the days
the member was available in the window. Windows end at the latest build's as-of. Drift is
records minus the expected records; a member more than {DRIFT_ABSOLUTE:g} records +
{DRIFT_RELATIVE:.0%} of the expected records away is beyond the tolerance (and the dbt test
warn_territory_pick_drift warns). The pick balances workload, so a member at or above the
high-water mark drifts below the share on purpose. The Gini coefficient is that of the
members' records per weighted available day (0 = even).</p>
<p>{html.escape(fairness.headline(days))}</p>
{tiles}
{territories}
{drift}
<h3 id="fairness-week">Territories, last {days} days</h3>
{data_table(fairness.window(days), "table-fairness-week")}
<h3 id="fairness-month">Territories, last {longer} days</h3>
{data_table(fairness.window(longer), "table-fairness-month")}
<h3 id="fairness-beyond">Members beyond the tolerance</h3>
{data_table(beyond, "table-fairness-members")}
</section>"""
